"""Recompute the chain from the stored events and report the first place it breaks.

Streams the events and their links side by side, a page at a time (memory stays flat
however long the log is), recomputing every hash from the stored bytes. A digest taken
earlier (kept by an inspector outside the system) and every digest in the store's own
digest log are checked on the way: the log must still hold each one's position, with
the same hash; a digest beyond the log's end means its tail was cut off (``truncated``).

Two paths, one set of checks. Pages are read as plain tuples (one query per page and
table, the next page read by a second thread while this one is hashed) and checked with
:func:`~disburse.persistence.chain.clean_prefix`, which hashes the stored bytes and
decodes nothing. From the first pair it does not pass, the events and links go through
:class:`_Walk` one by one, which names what was done there: the findings, their
messages and the report are the same as if every event had gone through it.

Over 400 lines: the fast path and the one-by-one walk must agree on every check, and
keeping them side by side is how a reader sees that they do.
"""

from __future__ import annotations

from bisect import bisect_left
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Literal, TypeVar

from eventsourcing.persistence import Notification

from disburse.audit.digest import Digest, DigestError
from disburse.persistence.chain import GENESIS, Link, clean_prefix, event_digest, link_hash

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from concurrent.futures import Future

    from disburse.persistence.chain import LinkRow, StoredRow
    from disburse.persistence.recorders import ChainedRecorder

PAGE = 10_000
_POSITION = itemgetter(0)
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
    fetch: Callable[[int, int], Sequence[T]],
    position: Callable[[T], int],
    page: int,
    *,
    after: int = 0,
) -> Iterator[T]:
    """Rows after position ``after``, ``page`` at a time (``fetch(after, limit)``), in order."""
    while True:
        rows = fetch(after, page)
        yield from rows
        if len(rows) < page:
            return
        after = position(rows[-1])


def _events(
    recorder: ChainedRecorder, rows: Sequence[StoredRow], full: bool, page: int
) -> Iterator[Notification]:
    """``rows`` (the rest of a page, ``full`` if it had ``page`` rows), then the events after."""
    more: Iterable[StoredRow] = ()
    if full and rows:
        more = _paged(recorder.scan_events, lambda row: row[0], page, after=rows[-1][0])
    return (
        Notification(
            id=position, originator_id=oid, originator_version=version, topic=topic, state=state
        )
        for position, oid, version, topic, state in chain(rows, more)
    )


def _links(
    recorder: ChainedRecorder, rows: Sequence[LinkRow], full: bool, page: int
) -> Iterator[Link]:
    """``rows`` (the rest of a page, ``full`` if it had ``page`` rows), then the links after."""
    more: Iterable[LinkRow] = ()
    if full and rows:
        more = _paged(recorder.scan_links, lambda row: row[0], page, after=rows[-1][0])
    return (
        Link(int(position), int(previous), digest, hash_)
        for position, previous, digest, hash_ in chain(rows, more)
    )


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

    def clean(self, links: Sequence[LinkRow], count: int) -> Finding | None:
        """``links[:count]`` passed every check of :meth:`check`: advance over them.

        The digests are checked where :meth:`check` would have checked them: at the first
        link at or after each digest's position (and the given digest's, exactly there).
        """
        report = self.report
        checked, start = report.checked, 0
        while start < count:
            wanted = [] if self.next_digest is None else [self.next_digest.position]
            given = self.from_digest
            if given is not None and given.position > report.head_position:
                wanted.append(given.position)
            if not wanted:
                break
            at = bisect_left(links, min(wanted), start, count, key=_POSITION)
            if at == count:
                break
            position, _, _, hash_ = links[at]
            report.head_position, report.head_hash = position, hash_
            report.checked = checked + at + 1
            finding = self._digests_at(position)
            if finding is not None:
                return finding
            start = at + 1
        if count:
            position, _, _, hash_ = links[count - 1]
            report.head_position, report.head_hash = position, hash_
            report.checked = checked + count
        return None

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
    a forger who rewrote the chain and the log's hashes cannot sign them. ``progress`` is
    told the position reached after each page.
    """
    walk = _Walk(recorder, from_digest, page, pinned_public_key)
    report = walk.report
    with ThreadPoolExecutor(1, thread_name_prefix="verify-read") as reader:

        def read(
            after_event: int, after_link: int
        ) -> Future[tuple[list[StoredRow], list[LinkRow]]]:
            return reader.submit(
                lambda: (
                    list(recorder.scan_events(after_event, page)),
                    list(recorder.scan_links(after_link, page)),
                )
            )

        pending = read(0, 0)
        while True:
            events, links = pending.result()
            full_events, full_links = len(events) == page, len(links) == page
            if full_events and full_links:  # read the next page while this one is checked
                pending = read(events[-1][0], links[-1][0])
            count = clean_prefix(events, links, report.head_position, report.head_hash)
            report.finding = walk.clean(links, count)
            if report.finding is not None:
                break
            if progress is not None and count:
                progress(report.head_position)
            if count == len(events) == len(links) and full_events and full_links:
                continue
            if count < len(events) or count < len(links) or full_events or full_links:
                report.finding = _walk_from(
                    walk,
                    _events(recorder, events[count:], full_events, page),
                    _links(recorder, links[count:], full_links, page),
                    progress,
                )
            break
        pending.cancel()
    walk.finish()
    return report


def _walk_from(
    walk: _Walk,
    events: Iterator[Notification],
    links: Iterator[Link],
    progress: Callable[[int], None] | None,
) -> Finding | None:
    """Event by event, from where the pages stopped passing: the first finding, if any."""
    event, link = next(events, None), next(links, None)
    while event is not None or link is not None:
        if link is None or (event is not None and event.id < link.position):
            assert event is not None  # noqa: S101 - one of the two is there
            return _unlinked(event, link)
        if event is None or link.position < event.id:
            return Finding(
                link.position, "deleted", f"the event chained at {link.position} is missing"
            )
        finding = walk.check(event, link)
        if finding is not None:
            return finding
        if progress is not None:
            progress(event.id)
        event, link = next(events, None), next(links, None)
    return None
