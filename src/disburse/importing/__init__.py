"""Bulk import of the spreadsheets a county HR bureau exchanges: people, claims, attendance.

A file (CSV or XLSX) is read one row at a time: each row is checked, then written by the
ledger's own command in a transaction of its own, or reported with its line, field, rule
and message. Memory stays flat whatever the file's size: rows are never collected, the
keys met so far live in a temporary on-disk table, and the report is written as it goes.
See docs/import.md.
"""
