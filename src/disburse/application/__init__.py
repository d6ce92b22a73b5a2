"""The service layer: loads aggregates, calls one command, saves atomically."""
