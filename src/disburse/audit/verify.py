"""Recompute the chain from the stored events and report the first place it breaks.

Streams the events and their links side by side, a page at a time (memory stays flat
however long the log is), recomputing every hash from the stored bytes. A digest taken
earlier (kept by an inspector outside the system) and every digest in the store's own
digest log are checked on the way: the log must still hold each one's position, with
the same hash; a digest beyond the log's end means its tail was cut off (``truncated``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar

from disburse.audit.digest import Digest, DigestError
from disburse.persistence.chain import GENESIS, event_digest, link_hash

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from eventsourcing.persistence import Notification

    from disburse.persistence.chain import Link
    from disburse.persistence.recorders import ChainedRecorder

PAGE = 5000
T = TypeVar("T")

Kind = Literal[
    "modified",  # the event's stored bytes (or id, version, topic) are not what was chained
    "reordered",  # the event stored here was chained at another position
    "deleted",  # a chained event is missing
    "inserted",  # an event that was never chained, inside the chain
    "unchained",  # an event after the chain's head that was never chained
    "link-altered",  # the chain row itself was edited
    "digest-mismatch",  # the log no longer matches a digest taken earlier
    "truncated",  # the log ends before a digest taken earlier
]


@dataclass(frozen=True)
class Finding:
    """Where and how the log differs from what was chained."""

    position: int
    kind: Kind
    detail: str


@dataclass
class Report:
    """The outcome of a verification."""

    checked: int = 0
    head_position: int = 0
    head_hash: str = GENESIS
    digests_checked: int = 0
    finding: Finding | None = None
    extends_digest: bool | None = None  # None: no digest was given
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing was found and (if a digest was given) the log extends it."""
        return self.finding is None and self.extends_digest is not False

    def as_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head": {"position": self.head_position, "hash": self.head_hash},
            "digests_checked": self.digests_checked,
            "extends_digest": self.extends_digest,
            "finding": None
            if self.finding is None
            else {
                "position": self.finding.position,
                "kind": self.finding.kind,
                "detail": self.finding.detail,
            },
        }


def _paged(
    fetch: Callable[[int, int], Sequence[T]], position: Callable[[T], int], page: int
) -> Iterator[T]:
    """Rows after position 0, ``page`` at a time (``fetch(after, limit)``), in order."""
    after = 0
    while True:
        rows = fetch(after, page)
        yield from rows
        if len(rows) < page:
            return
        after = position(rows[-1])


def _events(recorder: ChainedRecorder, page: int) -> Iterator[Notification]:
    return _paged(recorder.select_stored, lambda n: n.id, page)


def _links(recorder: ChainedRecorder, page: int) -> Iterator[Link]:
    return _paged(recorder.select_links, lambda k: k.position, page)


def _digests(recorder: ChainedRecorder, page: int) -> Iterator[Digest]:
    rows = _paged(recorder.select_digests, lambda row: row[0], page)
    return (
        Digest(position, hash_, taken_at, signature=signature, public_key=key)
        for position, hash_, taken_at, signature, key in rows
    )


class _Walk:
    """State of one pass over the log."""

    def __init__(
        self,
        recorder: ChainedRecorder,
        from_digest: Digest | None,
        page: int,
        pinned_public_key: str | None,
    ) -> None:
        self.recorder = recorder
        self.from_digest = from_digest
        self.pinned = pinned_public_key
        self.report = Report(extends_digest=None if from_digest is None else False)
        self.digests = _digests(recorder, page)
        self.next_digest = next(self.digests, None)

    def check(self, event: Notification, link: Link) -> Finding | None:
        """Check one event against its link; advance the head."""
        report = self.report
        position = event.id
        if link.previous != report.head_position:
            if link.previous > report.head_position:
                return Finding(
                    report.head_position + 1,
                    "deleted",
                    f"the link at {position} follows {link.previous}, but the log holds "
                    f"nothing between {report.head_position} and {position}: "
                    "events and their links were removed",
                )
            return Finding(
                position,
                "link-altered",
                f"the link at {position} names {link.previous} as its predecessor, "
                f"not {report.head_position}",
            )
        digest = event_digest(
            event.originator_id, event.originator_version, event.topic, event.state
        )
        if digest != link.digest:
            return self._differs(event, digest, link)
        expected = link_hash(position, digest, report.head_hash)
        if expected != link.hash:
            return Finding(
                position, "link-altered", f"the chain hash stored at {position} was changed"
            )
        report.head_position, report.head_hash = position, link.hash
        report.checked += 1
        return self._digests_at(position)

    def _differs(self, event: Notification, digest: str, link: Link) -> Finding:
        """The event is not what its link describes: which of the two was changed?"""
        position = event.id
        if link_hash(position, link.digest, self.report.head_hash) != link.hash:
            return Finding(position, "link-altered", f"the link stored at {position} was changed")
        elsewhere = self.recorder.position_of_digest(digest)
        if elsewhere is not None and elsewhere != position:
            return Finding(
                position,
                "reordered",
                f"the event stored at {position} was chained at position {elsewhere}",
            )
        return Finding(
            position,
            "modified",
            f"the event at {position} ({event.topic} of {event.originator_id} "
            f"v{event.originator_version}) is not the one chained there",
        )

    def _digests_at(self, position: int) -> Finding | None:
        report = self.report
        if self.from_digest is not None and self.from_digest.position == position:
            if self.from_digest.hash != report.head_hash:
                return Finding(
                    position,
                    "digest-mismatch",
                    f"the digest taken at {self.from_digest.taken_at} says position "
                    f"{position} had hash {self.from_digest.hash}; the log gives "
                    f"{report.head_hash}: the history before it was rewritten",
                )
            report.extends_digest = True
        while self.next_digest is not None and self.next_digest.position <= position:
            logged = self.next_digest
            if logged.position < position:  # between the last link and this one
                return Finding(
                    logged.position,
                    "digest-mismatch",
                    f"the digest log published hash {logged.hash} for position "
                    f"{logged.position}, which the log no longer holds: the history "
                    "before it was rewritten",
                )
            if logged.hash != report.head_hash:
                return Finding(
                    position,
                    "digest-mismatch",
                    f"the digest log published hash {logged.hash} for position {position}; "
                    f"the log gives {report.head_hash}",
                )
            if self.pinned is not None:
                try:
                    logged.check_signature(self.pinned)
                except DigestError as error:
                    return Finding(
                        logged.position,
                        "digest-mismatch",
                        f"the digest log's entry for position {logged.position}: {error}",
                    )
            report.digests_checked += 1
            self.next_digest = next(self.digests, None)
        return None

    def finish(self) -> None:
        """After the last event: a digest (given, or logged) that the log no longer reaches."""
        self._given_digest_reached()
        report, logged = self.report, self.next_digest
        if logged is not None and report.finding is None:
            report.finding = Finding(
                report.head_position + 1,
                "truncated",
                f"the digest log published the head at position {logged.position} "
                f"({logged.taken_at}); the log now ends at {report.head_position}: "
                "its tail was cut off",
            )

    def _given_digest_reached(self) -> None:
        report = self.report
        wanted = self.from_digest
        if wanted is not None and report.extends_digest is False and report.finding is None:
            if wanted.position == 0:  # taken of an empty store: every log extends it
                if wanted.hash == GENESIS:
                    report.extends_digest = True
                else:
                    report.finding = Finding(
                        0, "digest-mismatch", "a digest at position 0 names the genesis hash"
                    )
            elif wanted.position > report.head_position:
                report.finding = Finding(
                    report.head_position + 1,
                    "truncated",
                    f"the digest taken at {wanted.taken_at} reaches position "
                    f"{wanted.position}; the log now ends at {report.head_position}",
                )
            else:
                report.finding = Finding(
                    wanted.position,
                    "digest-mismatch",
                    f"the digest names position {wanted.position}, which the log does not hold",
                )


def _unlinked(event: Notification, link: Link | None) -> Finding:
    """An event without a link: added around the ledger, or its link was removed."""
    if link is not None and link.previous == event.id:
        return Finding(event.id, "deleted", f"the link of the event at {event.id} was removed")
    return Finding(
        event.id,
        "inserted" if link is not None else "unchained",
        f"the event at {event.id} ({event.topic} of {event.originator_id}) "
        "has no link: it was added outside the ledger",
    )


def verify(
    recorder: ChainedRecorder,
    *,
    from_digest: Digest | None = None,
    pinned_public_key: str | None = None,
    progress: Callable[[int], None] | None = None,
    page: int = PAGE,
) -> Report:
    """Recompute the whole chain; the report names the first break, if any.

    With ``pinned_public_key``, every digest in the digest log must also be signed by it:
    a forger who rewrote the chain and the log's hashes cannot sign them.
    """
    walk = _Walk(recorder, from_digest, page, pinned_public_key)
    report = walk.report
    events, links = _events(recorder, page), _links(recorder, page)
    event, link = next(events, None), next(links, None)
    while event is not None or link is not None:
        if link is None or (event is not None and event.id < link.position):
            assert event is not None  # noqa: S101 - one of the two is there
            report.finding = _unlinked(event, link)
            break
        if event is None or link.position < event.id:
            report.finding = Finding(
                link.position, "deleted", f"the event chained at {link.position} is missing"
            )
            break
        finding = walk.check(event, link)
        if finding is not None:
            report.finding = finding
            break
        if progress is not None:
            progress(event.id)
        event, link = next(events, None), next(links, None)
    walk.finish()
    return report
