"""The pure domain: aggregates, their rules and their errors.

Imports the standard library, ``eventsourcing.domain`` and pydantic only.
"""
