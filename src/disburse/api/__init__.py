"""The HTTP API (FastAPI): a thin layer over the application and the views."""
