"""Event recorders that chain every event they insert, in the inserting transaction.

The library's SQLite, PostgreSQL and in-memory application recorders, each extended to
write one :class:`~disburse.persistence.chain.Link` per event in the same transaction as the
event (so an event never exists without its link, nor a link without its event), and to
keep two more tables beside the events: the digest log and the per-person keys that
personal data is sealed with (destroying one is how a person's identity is erased).

Writers are already serialised by the recorders (PostgreSQL locks the events table,
SQLite allows one writer), so reading the chain head inside the transaction is safe.

- ``protocol.py``: what the rest of disburse asks of a recorder (:class:`ChainedRecorder`);
- ``sql.py``: the chain, digest log and person keys in SQL, shared by the two databases;
- ``sqlite.py``, ``postgres.py``, ``memory.py``: one backend each. Each overrides one
  private method of its eventsourcing base class, pinned by
  ``tests/integration/test_recorder_contract.py``.
"""

from disburse.persistence.recorders.memory import ChainedPOPORecorder
from disburse.persistence.recorders.postgres import ChainedPostgresRecorder
from disburse.persistence.recorders.protocol import ChainedRecorder, Cursor, DigestRow
from disburse.persistence.recorders.sqlite import ChainedSQLiteRecorder

__all__ = [
    "ChainedPOPORecorder",
    "ChainedPostgresRecorder",
    "ChainedRecorder",
    "ChainedSQLiteRecorder",
    "Cursor",
    "DigestRow",
]
