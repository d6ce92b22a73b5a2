"""The read side, built from events alone: view database, runner, views, queries, reports.

Views can be dropped and rebuilt from the log at any time.
"""
