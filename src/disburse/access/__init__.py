"""Who may call: API clients, recorded requests (idempotency), roles and region scopes."""
