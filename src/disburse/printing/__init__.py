"""Documents printed for the public: the notice list (公示) as PDF and XLSX, and its numerals."""
