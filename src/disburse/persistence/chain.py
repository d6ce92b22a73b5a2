r"""The hash chain: how one stored event is linked to the one before it.

Each stored event gets a *link*, written in the same transaction as the event::

    digest = sha256("{originator_id}\\n{originator_version}\\n{topic}\\n{sha256(state)}")
    hash   = sha256("{position}\\n{digest}\\n{previous hash}")

``originator_id`` is the canonical UUID text (``8-4-4-4-12`` hex), ``state`` the stored
(encrypted) bytes, and the first link's previous hash is 64 zeros. The hash of the last link
(the *head*) therefore vouches for every event before it: change, remove, add or move one
and every later hash changes. These few lines are all an inspector needs to re-check a
chain; ``docs/audit.md`` and the README of every evidence pack repeat them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final
from uuid import UUID

#: Names this hashing scheme in digests and evidence packs.
ALGORITHM: Final = "disburse-chain-v1"
#: The previous hash of the first link.
GENESIS: Final = "0" * 64


@dataclass(frozen=True)
class Link:
    """One event's place in the chain."""

    position: int
    previous: int  # position of the link before (0 for the first)
    digest: str  # of the event's id, version, topic and stored state
    hash: str  # of position, digest and the previous hash


def state_digest(state: bytes) -> str:
    """SHA-256 of the stored (encrypted) state, hex."""
    return hashlib.sha256(state).hexdigest()


def event_digest(originator_id: UUID | str, version: int, topic: str, state: bytes) -> str:
    """What a link says about the event itself (everything but its position)."""
    oid = _canonical(originator_id)
    text = f"{oid}\n{version}\n{topic}\n{state_digest(state)}"
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(originator_id: UUID | str) -> str:
    """The UUID text, from a UUID or the store's own spelling of one (its hex, on SQLite).

    Any other spelling (an id re-cased in the table, which the library would no longer
    find under its aggregate) is hashed as it is, so it does not match its link.
    """
    if isinstance(originator_id, UUID):
        return str(originator_id)
    try:
        parsed = UUID(originator_id)
    except ValueError:
        return originator_id
    return str(parsed) if originator_id in {parsed.hex, str(parsed)} else originator_id


def link_hash(position: int, digest: str, previous_hash: str) -> str:
    """The chain hash at ``position``."""
    return hashlib.sha256(f"{position}\n{digest}\n{previous_hash}".encode()).hexdigest()


def extend(
    previous: Link | None,
    events: list[tuple[int, UUID | str, int, str, bytes]],
) -> list[Link]:
    """Links for ``events`` (position, originator id, version, topic, state) after ``previous``."""
    links: list[Link] = []
    position_before = previous.position if previous else 0
    hash_before = previous.hash if previous else GENESIS
    for position, originator_id, version, topic, state in events:
        digest = event_digest(originator_id, version, topic, state)
        link = Link(position, position_before, digest, link_hash(position, digest, hash_before))
        links.append(link)
        position_before, hash_before = position, link.hash
    return links
