"""The event store: recorders per backend, the hash chain, sealing and keys."""
