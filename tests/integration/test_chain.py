"""The hash chain on real stores: tampering done straight in the database is found, and where.

Every test tampers with the stored rows the way someone with database access could
(sqlite3 / psycopg, never through the library), then checks that ``verify`` names the
exact position and kind of the change.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.domain import Aggregate
from eventsourcing.utils import Environment

from disburse.audit.digest import (
    Digest,
    Signer,
    generate_signing_key,
    publish_digest,
    take_digest,
)
from disburse.audit.verify import PAGE, Report, _paged, _Walk, _walk_from
from disburse.audit.verify import verify as verify_once
from disburse.persistence.chain import GENESIS, Link, _canonical, extend
from disburse.persistence.recorders import ChainedPOPORecorder
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Iterator

    from disburse.application.ledger import Ledger
    from disburse.persistence.recorders import ChainedRecorder
    from disburse.settings import Settings
    from tests.conftest import LedgerFactory


# -- direct access to the stored rows ---------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One stored event, as the database holds it."""

    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes

    @property
    def event_type(self) -> str:
        return self.topic.rpartition(":")[2]


class Raw:
    """The store's tables through a plain database connection: what a forger would use."""

    def __init__(self, settings: Settings) -> None:
        store = settings.store
        self.sqlite: sqlite3.Connection | None = None
        self.pg: psycopg.Connection[tuple[Any, ...]] | None = None
        if store.kind == "sqlite":
            assert store.path is not None
            self.sqlite = sqlite3.connect(store.path, isolation_level=None, timeout=30)
            self.events, self.position = "stored_events", "rowid"
            prefix = ""
        else:
            self.pg = psycopg.connect(
                host=store.host, port=store.port, user=store.user, dbname=store.dbname
            )
            self.pg.autocommit = True
            self.events, self.position = f'"{store.schema}".ledger_events', "notification_id"
            prefix = f'"{store.schema}".'
        self.chain = f"{prefix}ledger_chain"
        self.digests = f"{prefix}ledger_digests"
        self.meta = f"{prefix}ledger_chain_meta"

    def unchain(self) -> None:
        """Make the store look as one written before the chain existed."""
        self.run(f"DELETE FROM {self.chain}")  # noqa: S608
        self.run(f"DELETE FROM {self.meta}")  # noqa: S608

    def run(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """Run one statement (``%s`` placeholders on both backends); rows it returns."""
        if self.sqlite is not None:
            return self.sqlite.execute(sql.replace("%s", "?"), params).fetchall()
        assert self.pg is not None
        cursor = self.pg.execute(sql, params)
        return cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.pg is not None:
            self.pg.close()

    # -- events

    def rows(self, after: int = 0) -> list[Row]:
        found = self.run(
            f"SELECT {self.position}, originator_id, originator_version, topic, state "  # noqa: S608
            f"FROM {self.events} WHERE {self.position} > %s ORDER BY {self.position}",
            after,
        )
        return [Row(int(p), UUID(str(o)), int(v), t, bytes(s)) for p, o, v, t, s in found]

    def row(self, position: int) -> Row:
        found = [r for r in self.rows(position - 1) if r.position == position]
        assert found, f"no event at {position}"
        return found[0]

    def find(self, event_type: str, originator_id: UUID | None = None) -> Row:
        """The first event of this type (of this originator)."""
        return next(
            r
            for r in self.rows()
            if r.event_type == event_type and originator_id in {None, r.originator_id}
        )

    def max_position(self) -> int:
        return int(self.run(f"SELECT MAX({self.position}) FROM {self.events}")[0][0])  # noqa: S608

    def update_event(self, position: int, column: str, value: object) -> None:
        self.run(
            f"UPDATE {self.events} SET {column} = %s WHERE {self.position} = %s",  # noqa: S608
            value,
            position,
        )

    def delete_event(self, position: int) -> None:
        self.run(f"DELETE FROM {self.events} WHERE {self.position} = %s", position)  # noqa: S608

    def move_event(self, old: int, new: int) -> None:
        self.run(
            f"UPDATE {self.events} SET {self.position} = %s WHERE {self.position} = %s",  # noqa: S608
            new,
            old,
        )

    def swap_events(self, p: int, q: int) -> None:
        """Exchange the positions of two events (through a free position: keys are unique)."""
        self.move_event(p, -1)
        self.move_event(q, p)
        self.move_event(-1, q)

    def insert_event(self, originator_id: UUID, version: int, topic: str, state: bytes) -> int:
        """A row added at the end of the log, as the database numbers it; returns its position."""
        oid: object = originator_id.hex if self.sqlite is not None else originator_id
        self.run(
            f"INSERT INTO {self.events} (originator_id, originator_version, topic, state) "  # noqa: S608
            "VALUES (%s, %s, %s, %s)",
            oid,
            version,
            topic,
            state,
        )
        return self.max_position()

    # -- links

    def links(self) -> list[Link]:
        found = self.run(f"SELECT position, previous, digest, hash FROM {self.chain} ORDER BY 1")  # noqa: S608
        return [Link(int(p), int(b), d, h) for p, b, d, h in found]

    def delete_link(self, position: int) -> None:
        self.run(f"DELETE FROM {self.chain} WHERE position = %s", position)  # noqa: S608

    def update_link(self, position: int, column: str, value: object) -> None:
        self.run(f"UPDATE {self.chain} SET {column} = %s WHERE position = %s", value, position)  # noqa: S608

    def update_digest(self, position: int, hash_: str) -> None:
        self.run(f"UPDATE {self.digests} SET hash = %s WHERE position = %s", hash_, position)  # noqa: S608

    def truncate_after(self, position: int) -> None:
        """Remove the events after ``position`` and their links: the log simply ends earlier."""
        self.run(f"DELETE FROM {self.events} WHERE {self.position} > %s", position)  # noqa: S608
        self.run(f"DELETE FROM {self.chain} WHERE position > %s", position)  # noqa: S608

    def rechain_from(self, position: int) -> None:
        """Recompute every link from ``position`` on from the stored events, as a forger would."""
        before = [k for k in self.links() if k.position < position]
        links = extend(
            before[-1] if before else None,
            [
                (r.position, r.originator_id, r.version, r.topic, r.state)
                for r in self.rows()
                if r.position >= position
            ],
        )
        self.run(f"DELETE FROM {self.chain} WHERE position >= %s", position)  # noqa: S608
        for link in links:
            self.run(
                f"INSERT INTO {self.chain} VALUES (%s, %s, %s, %s)",  # noqa: S608
                link.position,
                link.previous,
                link.digest,
                link.hash,
            )


@pytest.fixture
def raw(settings: Settings) -> Iterator[Raw]:
    opened = Raw(settings)
    yield opened
    opened.close()


@pytest.fixture
def story(ledger: Ledger) -> f.MoneyStory:
    """A county's stipends, requested, approved, paid, failed, re-issued and recovered."""
    return f.money_story(ledger)


def cipher(ledger: Ledger) -> AESCipher:
    """The store's own cipher, built from the ledger's key as an insider could."""
    return AESCipher(Environment(env={"CIPHER_KEY": ledger.keys.cipher_key}))


def forge_amount(ledger: Ledger, raw: Raw, row: Row, amount_fen: int) -> None:
    """Decrypt the event, change its amount, encrypt it again and store it in place."""
    plain = json.loads(cipher(ledger).decrypt(row.state))
    assert plain["amount_fen"] != amount_fen
    plain["amount_fen"] = amount_fen
    forged = cipher(ledger).encrypt(json.dumps(plain, separators=(",", ":")).encode())
    raw.update_event(row.position, "state", forged)


def finding(report: Report) -> tuple[int, str]:
    assert report.finding is not None, "verify found nothing"
    assert not report.ok
    return report.finding.position, report.finding.kind


def assert_clean(recorder: ChainedRecorder, report: Report) -> None:
    head = recorder.chain_head()
    assert head is not None
    assert report.ok, report.finding
    assert report.finding is None
    assert report.checked == recorder.max_notification_id() == head.position
    assert (report.head_position, report.head_hash) == (head.position, head.hash)


def reference(
    recorder: ChainedRecorder,
    *,
    from_digest: Digest | None = None,
    pinned_public_key: str | None = None,
) -> Report:
    """The plain walk: every event and link read as objects and checked one by one."""
    walk = _Walk(recorder, from_digest, 50, pinned_public_key)
    events = _paged(recorder.select_stored, lambda n: n.id, 50)
    links = _paged(recorder.select_links, lambda k: k.position, 50)
    walk.report.finding = _walk_from(walk, events, links, None)
    walk.finish()
    return walk.report


def verify(
    recorder: ChainedRecorder,
    *,
    from_digest: Digest | None = None,
    pinned_public_key: str | None = None,
) -> Report:
    """``verify`` in pages of every size the store calls for, each the same as the plain walk.

    Pages of 1 and 7 put every break and every digest at a page's edge or inside one;
    the default page reads these small stores at once.
    """
    expected = reference(recorder, from_digest=from_digest, pinned_public_key=pinned_public_key)
    for page in (1, 7, PAGE):
        report = verify_once(
            recorder, from_digest=from_digest, pinned_public_key=pinned_public_key, page=page
        )
        assert report.as_dict() == expected.as_dict(), f"page {page}"
    return report


# -- an untouched store -----------------------------------------------------------------------


@pytest.mark.usefixtures("story")
def test_an_untouched_store_verifies_and_its_head_is_the_chains_head(
    ledger: Ledger, raw: Raw, open_ledger: LedgerFactory
) -> None:
    report = verify(ledger.store.chained)

    assert_clean(ledger.store.chained, report)
    assert report.checked == raw.max_position() >= 60
    assert report.extends_digest is None
    assert report.digests_checked == 0
    # Every event has its link, and each link names the one before.
    links = raw.links()
    assert [k.position for k in links] == [r.position for r in raw.rows()]
    assert [k.previous for k in links] == [0, *[k.position for k in links[:-1]]]
    # After a restart, the same.
    reopened = open_ledger().store.chained
    assert verify(reopened).as_dict() == report.as_dict()
    assert verify_once(ledger.store.chained, page=7).as_dict() == report.as_dict()


def test_an_empty_store_verifies() -> None:
    report = verify(ChainedPOPORecorder())
    assert report.ok
    assert (report.checked, report.head_position, report.head_hash) == (0, 0, GENESIS)


# -- events changed in place ------------------------------------------------------------------


@pytest.mark.parametrize("column", ["state", "topic", "originator_version"])
def test_an_event_changed_in_the_database_is_found_at_its_position(
    ledger: Ledger, story: f.MoneyStory, raw: Raw, column: str
) -> None:
    target = raw.find("Payout.Approved", story.paid)
    before = raw.row(target.position - 1)
    changed: object = {
        "state": target.state[:40] + bytes([target.state[40] ^ 1]) + target.state[41:],
        "topic": target.topic.replace("Approved", "Rejected"),
        "originator_version": target.version + 100,
    }[column]

    raw.update_event(target.position, column, changed)

    report = verify(ledger.store.chained)
    assert finding(report) == (target.position, "modified")
    assert report.checked == target.position - 1
    assert report.head_position == before.position
    assert report.finding is not None
    assert "Payout" in report.finding.detail


def test_an_amount_changed_inside_the_encrypted_event_is_found_though_it_still_decrypts(
    ledger: Ledger, story: f.MoneyStory, raw: Raw, open_ledger: LedgerFactory
) -> None:
    requested = raw.find("Payout.Requested", story.pending)
    assert ledger.payouts.get(story.pending).amount_fen == 150_000

    forge_amount(ledger, raw, requested, 9_999_900)

    # Encryption alone does not catch it: the forged event is a valid ciphertext under the
    # store's key, decodes, and the ledger believes it.
    reopened = open_ledger()
    assert reopened.payouts.get(story.pending).amount_fen == 9_999_900
    notification = reopened.store.recorder.select_notifications(requested.position, 1)[0]
    event: Any = reopened.store.mapper.to_domain_event(notification)
    assert event.amount_fen == 9_999_900
    # The chain does.
    assert finding(verify(reopened.store.chained)) == (requested.position, "modified")
    assert finding(verify(ledger.store.chained)) == (requested.position, "modified")


# -- events removed, moved and added ----------------------------------------------------------


@pytest.mark.parametrize("which", ["middle", "last"])
def test_an_event_deleted_from_the_database_is_found_where_it_was(
    ledger: Ledger, story: f.MoneyStory, raw: Raw, which: str
) -> None:
    position = (
        raw.find("Fund.Paid", story.place.fund_id).position
        if which == "middle"
        else raw.max_position()
    )
    links_before = raw.links()

    raw.delete_event(position)

    assert raw.links() == links_before  # the link stayed behind
    report = verify(ledger.store.chained)
    assert finding(report) == (position, "deleted")
    assert report.checked == position - 1


def test_an_event_deleted_with_its_link_is_found_from_the_next_link(
    ledger: Ledger, story: f.MoneyStory, raw: Raw
) -> None:
    position = raw.find("Payout.Paid", story.paid).position
    assert position < raw.max_position()

    raw.delete_event(position)
    raw.delete_link(position)

    report = verify(ledger.store.chained)
    assert finding(report) == (position, "deleted")
    assert report.finding is not None
    assert "were removed" in report.finding.detail
    assert report.checked == position - 1


def test_two_events_swapped_in_the_database_are_found_as_reordered(
    ledger: Ledger, story: f.MoneyStory, raw: Raw
) -> None:
    p = raw.find("Payout.Approved", story.paid).position
    q = raw.find("Payout.Approved", story.reissued).position
    assert p < q
    moved = raw.row(q)

    raw.swap_events(p, q)

    assert raw.row(p).originator_id == moved.originator_id  # the swap took
    report = verify(ledger.store.chained)
    assert finding(report) == (p, "reordered")
    assert report.finding is not None
    assert f"chained at position {q}" in report.finding.detail


def test_an_event_added_after_the_head_without_a_link_is_unchained(
    ledger: Ledger, story: f.MoneyStory, raw: Raw
) -> None:
    head = ledger.store.chained.chain_head()
    assert head is not None
    template = raw.find("Payout.Requested", story.pending)

    forged = raw.insert_event(uuid.uuid4(), 1, template.topic, template.state)

    assert forged == head.position + 1
    report = verify(ledger.store.chained)
    assert finding(report) == (forged, "unchained")
    assert report.checked == head.position
    assert (report.head_position, report.head_hash) == (head.position, head.hash)


def test_an_event_whose_link_was_removed_reads_as_deleted_at_its_position(
    ledger: Ledger, story: f.MoneyStory, raw: Raw
) -> None:
    position = raw.find("Payout.Rejected", story.rejected).position

    raw.delete_link(position)

    assert finding(verify(ledger.store.chained)) == (position, "deleted")


# -- the chain itself edited ------------------------------------------------------------------


@pytest.mark.parametrize(("column", "value"), [("hash", "f" * 64), ("previous", 1)])
def test_a_link_edited_in_the_database_is_found(
    ledger: Ledger, story: f.MoneyStory, raw: Raw, column: str, value: object
) -> None:
    position = raw.find("Fund.Recovered", story.place.fund_id).position
    assert position > 2

    raw.update_link(position, column, value)

    report = verify(ledger.store.chained)
    assert finding(report) == (position, "link-altered")
    assert report.checked == position - 1


# -- digests ----------------------------------------------------------------------------------


def more_events(ledger: Ledger, count: int = 3) -> None:
    for _ in range(count):
        f.register(ledger)


@pytest.mark.usefixtures("story")
def test_a_digest_is_extended_by_later_events(ledger: Ledger) -> None:
    kept = Digest.from_json(take_digest(ledger.store.chained).to_json())  # kept outside
    more_events(ledger)

    report = verify(ledger.store.chained, from_digest=kept)

    assert_clean(ledger.store.chained, report)
    assert report.extends_digest is True
    assert report.head_position > kept.position


@pytest.mark.usefixtures("story")
def test_a_log_cut_short_is_truncated_only_to_whoever_kept_a_digest(
    ledger: Ledger, raw: Raw
) -> None:
    kept = take_digest(ledger.store.chained)
    end = kept.position - 5

    raw.truncate_after(end)

    report = verify(ledger.store.chained, from_digest=kept)
    assert finding(report) == (end + 1, "truncated")
    assert report.extends_digest is False
    assert report.checked == end
    # Without the digest (nothing was published either), a shorter log is a good log.
    assert_clean(ledger.store.chained, verify(ledger.store.chained))


def test_history_rewritten_with_a_recomputed_chain_is_caught_only_by_a_digest_kept_outside(
    ledger: Ledger, story: f.MoneyStory, raw: Raw
) -> None:
    kept = take_digest(ledger.store.chained)
    more_events(ledger)
    committed = raw.find("Fund.Committed", story.place.fund_id)

    forge_amount(ledger, raw, committed, 1)
    assert finding(verify(ledger.store.chained)) == (committed.position, "modified")
    raw.rechain_from(committed.position)

    # The forger's chain is consistent: the store alone cannot tell.
    assert_clean(ledger.store.chained, verify(ledger.store.chained))
    # The digest kept outside can.
    report = verify(ledger.store.chained, from_digest=kept)
    assert finding(report) == (kept.position, "digest-mismatch")
    assert report.extends_digest is False


def test_published_digests_are_checked_by_every_verification(
    ledger: Ledger, story: f.MoneyStory, raw: Raw
) -> None:
    signer = Signer(generate_signing_key())
    first = publish_digest(ledger.store.chained, signer)
    ledger.payouts.approve(f.finance(), story.pending)  # the fund commits the money
    second = publish_digest(ledger.store.chained, signer)
    more_events(ledger, 1)
    assert first is not None
    assert second is not None
    assert first.position < second.position

    report = verify(ledger.store.chained)
    assert_clean(ledger.store.chained, report)
    assert report.digests_checked == 2

    # Rewrite history after the first published digest and recompute the chain.
    committed = [r for r in raw.rows(first.position) if r.event_type == "Fund.Committed"]
    assert len(committed) == 1
    assert committed[0].position < second.position
    forge_amount(ledger, raw, committed[0], 1)
    raw.rechain_from(committed[0].position)

    report = verify(ledger.store.chained)
    assert finding(report) == (second.position, "digest-mismatch")
    assert report.digests_checked == 1
    assert report.finding is not None
    assert second.hash in report.finding.detail

    # A forger who also rewrites the digest log gets past a plain verification: that is
    # why digests must also be kept outside the store.
    forged_head = ledger.store.chained.link_at(second.position)
    assert forged_head is not None
    raw.update_digest(second.position, forged_head.hash)
    assert verify(ledger.store.chained).ok
    assert finding(verify(ledger.store.chained, from_digest=second)) == (
        second.position,
        "digest-mismatch",
    )


@pytest.mark.usefixtures("story")
def test_a_tail_cut_after_a_published_digest_is_truncated_without_a_digest_kept_outside(
    ledger: Ledger, raw: Raw
) -> None:
    """The digest log is enough: its head beyond the log's end is ``truncated``."""
    recorder = ledger.store.chained
    first = publish_digest(recorder)
    more_events(ledger, 12)
    last = publish_digest(recorder)
    assert first is not None
    assert last is not None
    end = last.position - 10
    assert first.position <= end

    raw.truncate_after(end)  # the last 10 events and their links

    report = verify(recorder)
    assert finding(report) == (end + 1, "truncated")
    assert report.finding is not None
    assert f"position {last.position}" in report.finding.detail
    assert report.checked == end
    assert report.digests_checked == 1  # the first one, which the log still reaches


@pytest.mark.usefixtures("story")
def test_an_emptied_log_is_truncated_before_its_first_position_when_digests_were_published(
    ledger: Ledger, raw: Raw
) -> None:
    assert publish_digest(ledger.store.chained) is not None

    raw.truncate_after(0)

    assert finding(verify(ledger.store.chained)) == (1, "truncated")


def test_a_published_digest_whose_event_was_removed_and_the_chain_recomputed_is_a_mismatch(
    ledger: Ledger, story: f.MoneyStory, raw: Raw
) -> None:
    """A logged position the log no longer holds is not skipped: the history was rewritten."""
    assert story is not None
    published = publish_digest(ledger.store.chained)
    assert published is not None
    more_events(ledger)

    raw.delete_event(published.position)
    raw.rechain_from(published.position)  # a consistent chain without that event

    report = verify(ledger.store.chained)
    assert finding(report) == (published.position, "digest-mismatch")
    assert report.finding is not None
    assert published.hash in report.finding.detail


# -- volume, concurrency, old stores ----------------------------------------------------------


class Tick(Aggregate):
    """The smallest aggregate: one event. ``verify`` never decodes, so any event will do."""


def test_a_log_of_100k_events_verifies_and_is_chained_at_once_when_it_predates_the_chain(
    ledger: Ledger, raw: Raw, open_ledger: LedgerFactory, request: pytest.FixtureRequest
) -> None:
    store = ledger.store
    already = store.recorder.max_notification_id() or 0
    started = time.perf_counter()
    for _ in range(50):
        store.save(*[Tick() for _ in range(2000)])
    written = time.perf_counter()
    seen: list[int] = []

    report = verify_once(store.chained, progress=seen.append)

    verified = time.perf_counter()
    assert_clean(store.chained, report)
    assert report.checked == already + 100_000 == raw.max_position()
    # Progress is told after each page: rising, to the head.
    assert len(seen) == -(-report.checked // PAGE)
    assert seen == sorted(set(seen))
    assert seen[-1] == report.head_position

    # As a store written before the chain existed: opening the store chains all of it,
    # page after page, to the same head.
    raw.unchain()
    reopened = open_ledger().store.chained
    backfilled = time.perf_counter()
    assert (reopened.chain_head(), len(raw.links())) == (store.chained.chain_head(), report.checked)
    again = verify_once(reopened)
    assert_clean(reopened, again)
    assert again.head_hash == report.head_hash
    timing = f"write {written - started:.1f}s, verify {verified - written:.1f}s"
    timing += f", backfill {backfilled - verified:.1f}s"
    request.node.user_properties.append(("timing", timing))


@pytest.mark.parametrize("stores", ["one store", "two stores"])
def test_two_threads_writing_at_once_leave_a_chain_that_verifies(
    ledger: Ledger, open_ledger: LedgerFactory, raw: Raw, stores: str
) -> None:
    writers = [ledger, ledger] if stores == "one store" else [ledger, open_ledger()]
    barrier = threading.Barrier(len(writers))
    errors: list[BaseException] = []
    people: list[UUID] = []

    def write(writer: Ledger, first_serial: int) -> None:
        try:
            barrier.wait(timeout=20)
            for serial in range(first_serial, first_serial + 50):
                rid = f.resident_id(serial=serial)
                people.append(f.register(writer, rid=rid))
                writer.store.save(Tick(), Tick())
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            raise

    threads = [threading.Thread(target=write, args=(w, n * 50)) for n, w in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert len(set(people)) == 100

    report = verify(ledger.store.chained)
    assert_clean(ledger.store.chained, report)
    assert report.checked == 3 + 100 * 3  # the catalogue, then a person and two ticks each
    assert [k.position for k in raw.links()] == [r.position for r in raw.rows()]


@pytest.mark.usefixtures("story")
def test_a_store_written_before_the_chain_existed_is_chained_when_opened(
    ledger: Ledger, raw: Raw, open_ledger: LedgerFactory
) -> None:
    original = raw.links()
    raw.unchain()
    assert finding(verify(ledger.store.chained)) == (1, "unchained")

    reopened = open_ledger()

    assert raw.links() == original  # the same chain: it depends on the events only
    assert_clean(reopened.store.chained, verify(reopened.store.chained))
    # It goes on from there, and opening again does not chain twice.
    more_events(reopened)
    open_ledger()
    assert_clean(reopened.store.chained, verify(reopened.store.chained))
    assert len(raw.links()) == raw.max_position()
    started = reopened.store.chained.chain_started()
    assert started is not None
    assert started[1] == len(original)


@pytest.mark.usefixtures("story")
def test_a_chain_emptied_after_it_started_is_not_rebuilt_and_verify_reports_it(
    ledger: Ledger, raw: Raw, open_ledger: LedgerFactory
) -> None:
    # Someone who edits events and then empties the chain and the digest log does not get
    # a fresh chain over the edited history by reopening the store (verify opens it too).
    started = ledger.store.chained.chain_started()
    raw.run(f"DELETE FROM {raw.chain}")  # noqa: S608
    raw.run(f"DELETE FROM {raw.digests}")  # noqa: S608

    reopened = open_ledger().store.chained

    assert raw.links() == []
    assert reopened.chain_started() == started
    assert finding(verify(reopened)) == (1, "unchained")


def test_events_whose_links_cannot_be_written_are_not_stored(
    ledger: Ledger, raw: Raw, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL the library commits what it inserted when its code in the transaction
    # raises; the recorder must roll the events back with their links instead.
    before = raw.max_position()
    recorder = type(ledger.store.chained)

    def broken(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(recorder, "_chain_in", broken)
    with pytest.raises(Exception, match="disk full"):
        f.register(ledger)
    monkeypatch.undo()

    assert raw.max_position() == before
    assert_clean(ledger.store.chained, verify(ledger.store.chained))


@pytest.mark.usefixtures("story")
def test_with_a_pinned_key_every_digest_in_the_log_must_be_signed_by_it(
    ledger: Ledger, raw: Raw
) -> None:
    signer = Signer(generate_signing_key())
    recorder = ledger.store.chained
    publish_digest(recorder, signer)
    assert verify(recorder, pinned_public_key=signer.public_key).ok

    # A forger who rewrote the log's hash (and the chain) cannot sign it with the key.
    raw.run(f"UPDATE {raw.digests} SET signature = NULL")  # noqa: S608
    report = verify(recorder, pinned_public_key=signer.public_key)
    assert finding(report)[1] == "digest-mismatch"
    assert verify(recorder).ok  # without a pinned key the unsigned entry is only a hash


@pytest.mark.usefixtures("story")
def test_an_event_whose_id_was_respelt_is_modified(ledger: Ledger, raw: Raw) -> None:
    # The library finds an aggregate's events by the id's exact spelling: an id re-cased
    # in the table hides the event from its aggregate, and must not pass as the same id.
    middle = raw.max_position() // 2
    if raw.sqlite is not None:
        raw.run(
            f"UPDATE {raw.events} SET originator_id = upper(originator_id) WHERE rowid = %s",  # noqa: S608
            middle,
        )
        assert finding(verify(ledger.store.chained)) == (middle, "modified")
    else:  # the uuid column has one spelling: re-casing it stores the same id
        raw.run(
            f"UPDATE {raw.events} SET originator_id = upper(originator_id::text)::uuid"  # noqa: S608
            " WHERE notification_id = %s",
            middle,
        )
        assert verify(ledger.store.chained).ok


@pytest.mark.parametrize(
    "spelt",
    [
        "6365dcbf-c696-5381-8ae2-3626e23d957f",
        "6365dcbfc69653818ae23626e23d957f",
        "6365DCBFC69653818AE23626E23D957F",
        "6365DCBF-C696-5381-8AE2-3626E23D957F",
        "{6365dcbf-c696-5381-8ae2-3626e23d957f}",
        "urn:uuid:6365dcbf-c696-5381-8ae2-3626e23d957f",
        "6365dcbf_c69653818ae23626e23d957",
        "6365dcbfc69653818ae23626e23d957",
        "not a uuid",
        "",
    ],
)
def test_an_id_is_hashed_canonical_only_in_the_stores_own_spellings(spelt: str) -> None:
    """The chain's rule, by a match: the same as parsing and keeping the two own spellings."""
    try:
        parsed = UUID(spelt)
    except ValueError:
        expected = spelt
    else:
        expected = str(parsed) if spelt in {parsed.hex, str(parsed)} else spelt
    assert _canonical(spelt) == expected
