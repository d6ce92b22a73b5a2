"""Tamper evidence: the hash chain kept with the events, digests, verification, evidence."""
