"""Files exchanged with the agent bank (代发): payment files out, return files back.

Payment files (CSV or XLSX laid out by a bank template, or ISO 20022 pain.001) are
rendered from a batch's lines; return files (the same templates with the bank's outcome
columns, or ISO 20022 pain.002) are read, checked whole against the batch and recorded
through ``Payouts.record_results``, all lines or none.
"""
