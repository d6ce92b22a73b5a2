"""Read models built from the event log (balances, queues, alerts, audit trail)."""
