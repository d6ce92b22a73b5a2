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
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

if TYPE_CHECKING:
    from collections.abc import Sequence

#: Names this hashing scheme in digests and evidence packs.
ALGORITHM: Final = "disburse-chain-v1"
#: The previous hash of the first link.
GENESIS: Final = "0" * 64
#: An event as stored: position, originator id (text, as the store spells it), version,
#: topic and state (the stored bytes). Nothing decoded.
StoredRow = tuple[int, str, Any, str, bytes]
#: A link as stored: position, previous, digest, hash.
LinkRow = tuple[int, int, str, str]

_HEX32 = re.compile("[0-9a-f]{32}").fullmatch


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
    find under its aggregate) is hashed as it is, so it does not match its link. Only the
    32 lowercase hex digits of a UUID are its hex, so the test is a match, not a parse.
    """
    if isinstance(originator_id, UUID):
        return str(originator_id)
    if len(originator_id) == 32 and _HEX32(originator_id):  # noqa: PLR2004 - a UUID's hex
        o = originator_id
        return f"{o[:8]}-{o[8:12]}-{o[12:16]}-{o[16:20]}-{o[20:]}"
    return originator_id


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


def clean_prefix(
    events: Sequence[StoredRow], links: Sequence[LinkRow], position: int, hash_: str
) -> int:
    """How many leading (event, link) pairs continue the chain from ``position`` (``hash_``).

    A pair continues it when event and link are at the same position, the link names the
    position before as its predecessor, its digest is :func:`event_digest` of the stored
    event and its hash is :func:`link_hash` of them: every check ``verify`` makes of one
    event, inlined on the stored values (no object per row). It says only where the
    first pair that fails one is; the caller works out what was done there.
    """
    sha256, hex32 = hashlib.sha256, _HEX32
    count = 0
    for (at, spelt, version, topic, state), (linked, previous, digest, chained) in zip(
        events, links, strict=False
    ):
        if at != linked or previous != position:
            break
        oid = spelt
        if len(spelt) == 32 and hex32(spelt):  # noqa: PLR2004 - as _canonical, inlined
            oid = f"{spelt[:8]}-{spelt[8:12]}-{spelt[12:16]}-{spelt[16:20]}-{spelt[20:]}"
        text = f"{oid}\n{version}\n{topic}\n{sha256(state).hexdigest()}"
        if sha256(text.encode()).hexdigest() != digest:
            break
        if sha256(f"{at}\n{digest}\n{hash_}".encode()).hexdigest() != chained:
            break
        position, hash_ = at, chained
        count += 1
    return count
