"""Inspectors' use cases over the store and the views: verify, digests, as-of, evidence, samples."""
