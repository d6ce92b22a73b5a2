"""The payout queue view: what awaits a decision, with its evidence, on both stores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from disburse.application.payouts import BankResult
from disburse.domain.batch import Outcome
from disburse.domain.errors import InvalidInputError
from disburse.domain.fund import FundSource
from disburse.domain.organisation import OrganisationKind
from disburse.domain.payout import PayoutKind, PayoutStatus
from disburse.readside.base import Position, event_type
from disburse.readside.db import ViewDB
from disburse.readside.queue import PayoutQueueView
from disburse.readside.queue_queries import QueuedPayout, QueueQueries
from disburse.readside.runner import Projector
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Iterator

    from eventsourcing.persistence import Notification

    from disburse.application.ledger import Ledger
    from disburse.settings import Settings

STIPEND = 150_000
GRANT_RULES = {"amount_fen": 50_000, "min_months_away": 3}
BROKER_AMOUNTS = {"SVC-BROKER": {"amount": {"kind": "fixed", "amount_fen": 20_000}}}


@dataclass
class Queue:
    projector: Projector
    queries: QueueQueries

    def read(self) -> QueueQueries:
        """The queries, once the view has every event recorded so far."""
        self.projector.catch_up()
        return self.queries

    def row(self, payout_id: UUID) -> QueuedPayout:
        found = self.read().payout(payout_id)
        assert found is not None
        return found

    def dump(self) -> dict[str, list[str]]:
        """Every row of every queue table, in a stable order."""
        dumped: dict[str, list[str]] = {}
        with self.projector.db.read() as tx:
            for table in PayoutQueueView.tables:
                rows = tx.all(f"SELECT * FROM {table}")  # noqa: S608 - the view's own names
                dumped[table] = sorted(repr(sorted(row.items())) for row in rows)
        return dumped


@pytest.fixture
def queue(ledger: Ledger, settings: Settings) -> Iterator[Queue]:
    db = ViewDB(settings.store, settings)
    projector = Projector(ledger.store, db, [PayoutQueueView()])
    projector.setup()
    yield Queue(projector, QueueQueries(db))
    db.close()


def _stipend(
    ledger: Ledger, place: f.County, *, days_worked: int = 22, person: UUID | None = None
) -> UUID:
    post_id, _ = f.staffed_post(ledger, place, person)
    payout = ledger.posts.record_attendance(
        f.clerk(), post_id, month=f.JAN, days_worked=days_worked, days_required=22
    )
    assert payout is not None
    return payout


def _grant_fund(ledger: Ledger) -> UUID:
    return ledger.funds.allocate(
        f.finance(),
        source=FundSource.RURAL_REVITALISATION,
        region_code=f.COUNTY,
        year=2024,
        amount_fen=10**7,
    )


def _grant(ledger: Ledger, *, external_claim_id: str | None = None) -> UUID:
    claim = ledger.grants.claim(
        f.clerk(),
        person_id=f.register(ledger),
        work_province="44",
        employer="深圳某电子厂",
        started_on=date(2024, 1, 15),
        months_worked=4,
        evidence_ref="contract-2024-001",
        external_claim_id=external_claim_id,
    )
    return claim.payout_id


def _assert_mirrors_aggregate(ledger: Ledger, row: QueuedPayout) -> None:
    payout = ledger.payouts.get(UUID(row.payout_id))
    assert (row.status, row.version) == (payout.status, payout.version)
    assert row.approvers == tuple(payout.approvers)
    assert row.batch_id == (None if payout.batch_id is None else str(payout.batch_id))
    assert row.failure == payout.failure
    assert row.notice_ends_on == payout.notice_ends_on
    assert (row.recovery_ordered_fen, row.recovered_fen) == (
        payout.recovery_ordered_fen,
        payout.recovered_fen,
    )


def _ids(rows: list[QueuedPayout]) -> list[str]:
    return [row.payout_id for row in rows]


def test_the_queue_lists_pending_payouts_oldest_first_with_evidence_and_explanation(
    ledger: Ledger, queue: Queue
) -> None:
    place = f.county(ledger)
    first, approved, third, fourth = (
        _stipend(ledger, place, days_worked=d) for d in (22, 21, 20, 11)
    )
    ledger.payouts.approve(f.finance(), approved)

    rows = queue.read().pending()

    assert _ids(rows) == [str(first), str(third), str(fourth)]
    assert [row.evidence.days_worked for row in rows if row.evidence] == [22, 20, 11]
    row = rows[1]
    assert (row.kind, row.programme, row.period, row.status) == (
        PayoutKind.STIPEND,
        "POST-STIPEND",
        "2024-01",
        PayoutStatus.REQUESTED,
    )
    assert (row.fund_id, row.region_code, row.requested_by) == (
        str(place.fund_id),
        f.COUNTY,
        "clerk-1",
    )
    assert row.amount_fen == ledger.payouts.get(third).amount_fen
    assert row.version == ledger.payouts.get(third).version
    assert row.evidence is not None
    assert (row.evidence.kind, row.evidence.days_worked, row.evidence.days_required) == (
        PayoutKind.STIPEND,
        20,
        22,
    )
    assert row.explanation["inputs"] == {
        "stipend_fen": STIPEND,
        "days_worked": 20,
        "days_required": 22,
        "month": "2024-01",
    }
    assert row.explanation == ledger.payouts.get(third).explanation
    assert rows[0].requested_position < rows[1].requested_position < rows[2].requested_position
    assert queue.queries.pending_count() == 3
    assert queue.queries.payout(place.fund_id) is None


def test_evidence_logged_after_its_payout_is_still_joined_to_it(
    ledger: Ledger, queue: Queue
) -> None:
    payout = _stipend(ledger, f.county(ledger), days_worked=18)
    store = ledger.store
    notifications = store.recorder.select_notifications(start=1, limit=10_000)
    logged: list[tuple[Notification, Any]] = [
        (n, store.mapper.to_domain_event(n)) for n in notifications
    ]
    late = [(n, e) for n, e in logged if event_type(e) == "Post.AttendanceRecorded"]
    view = PayoutQueueView()
    batch = [
        (e, Position(n.id, e.timestamp))
        for n, e in [pair for pair in logged if pair not in late] + late
    ]
    with queue.projector.db.transaction() as tx:  # the attendance after the payout's request
        view.begin(tx, batch)
        for e, where in batch:
            view.process(tx, e, where)
        view.flush(tx)

    row = queue.queries.payout(payout)

    assert row is not None
    assert row.evidence is not None
    assert (row.evidence.days_worked, row.evidence.days_required) == (18, 22)


def test_the_queue_filters_by_status_fund_region_programme_and_age(
    ledger: Ledger, queue: Queue
) -> None:
    f.publish(ledger, f.regional_policy(grant=GRANT_RULES))
    here = f.county(ledger)
    there = f.county(ledger, region=f.OTHER_COUNTY)
    grant_fund = _grant_fund(ledger)
    stipend_here = _stipend(ledger, here)
    stipend_there = _stipend(ledger, there)
    grant = _grant(ledger)
    approved = _stipend(ledger, here)
    ledger.payouts.approve(f.finance(), approved)
    q = queue.read()

    assert _ids(q.pending()) == [str(stipend_here), str(stipend_there), str(grant)]
    assert _ids(q.pending(status="approved")) == [str(approved)]
    assert _ids(q.pending(status=PayoutStatus.PAID)) == []
    assert _ids(q.pending(fund_id=here.fund_id)) == [str(stipend_here)]
    assert _ids(q.pending(fund_id=str(grant_fund))) == [str(grant)]
    assert _ids(q.pending(region=f.COUNTY)) == [str(stipend_here), str(grant)]
    assert _ids(q.pending(region=f.OTHER_COUNTY)) == [str(stipend_there)]
    assert len(q.pending(region="220200")) == len(q.pending(region="22")) == 3
    assert q.pending(region="2202") == q.pending(region="220200")
    assert q.pending(region="110000") == []
    assert _ids(q.pending(programme="GRANT-TRANSPORT")) == [str(grant)]
    assert _ids(q.pending(programme="POST-STIPEND", region=f.COUNTY)) == [str(stipend_here)]
    assert _ids(q.pending(limit=1, offset=1)) == [str(stipend_there)]

    requested_on = q.pending()[0].requested_at.date()
    today = requested_on + timedelta(days=10)
    assert len(q.pending(older_than_days=9, today=today)) == 3
    assert q.pending(older_than_days=10, today=today) == []
    assert q.pending_count(older_than_days=9, today=today, region=f.OTHER_COUNTY) == 1
    assert q.pending()[0].age_days(today) == 10

    with pytest.raises(InvalidInputError, match="QUEUE-FILTER"):
        q.pending(status="lost")
    with pytest.raises(InvalidInputError, match="QUEUE-FILTER"):
        q.pending(older_than_days=3)
    with pytest.raises(InvalidInputError, match="REGION-CODE"):
        q.pending(region="2")


def test_a_payouts_row_follows_approval_rejection_payment_reissue_and_recovery(
    ledger: Ledger, queue: Queue
) -> None:
    story = f.money_story(ledger)
    q = queue.read()
    expected = {
        story.paid: PayoutStatus.RECOVERED,
        story.rejected: PayoutStatus.REJECTED,
        story.reissued: PayoutStatus.PAID,
        story.pending: PayoutStatus.REQUESTED,
    }
    for payout_id, status in expected.items():
        row = queue.row(payout_id)
        assert row.status is status
        _assert_mirrors_aggregate(ledger, row)
    recovered = queue.row(story.paid)
    assert (recovered.recovery_ordered_fen, recovered.recovered_fen) == (50_000, 50_000)
    assert recovered.outstanding_recovery_fen == 0
    assert queue.row(story.rejected).approvers == ("finance-1",)
    assert queue.row(story.reissued).failure == "account closed"  # kept, as on the aggregate
    assert _ids(q.pending()) == [str(story.pending)]


def test_a_failed_payout_is_followed_step_by_step_until_it_is_cancelled(
    ledger: Ledger, queue: Queue
) -> None:
    place = f.county(ledger)
    account = "6222020212345670"
    payout = _stipend(ledger, place, person=f.register(ledger, account=account))
    ledger.payouts.approve(f.finance(), payout)
    assert queue.row(payout).status is PayoutStatus.APPROVED
    batch = ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=[payout])
    row = queue.row(payout)
    assert (row.status, row.batch_id) == (PayoutStatus.BATCHED, str(batch))
    ledger.payouts.record_results(
        f.finance(),
        batch,
        results=[BankResult(payout, Outcome.FAILED, reason="name mismatch")],
        control_count=1,
        control_total_fen=STIPEND,
    )
    row = queue.row(payout)
    assert (row.status, row.failure) == (PayoutStatus.FAILED, "name mismatch")
    _assert_mirrors_aggregate(ledger, row)
    ledger.payouts.reissue(f.finance(), payout, account=account, reason="name corrected")
    row = queue.row(payout)
    assert (row.status, row.batch_id) == (PayoutStatus.APPROVED, None)
    _assert_mirrors_aggregate(ledger, row)
    ledger.payouts.cancel(f.finance(), payout, reason="the holder declined the stipend")
    row = queue.row(payout)
    assert row.status is PayoutStatus.CANCELLED
    _assert_mirrors_aggregate(ledger, row)
    assert row.updated_at > row.requested_at


def test_a_payout_on_notice_is_held_by_an_objection_and_resumes_when_it_is_dismissed(
    ledger: Ledger, queue: Queue
) -> None:
    f.publish(ledger, f.regional_policy(payouts={"notice_days": 7}))
    payout = _stipend(ledger, f.county(ledger))
    row = queue.row(payout)
    assert (row.status, row.notice_ends_on) == (PayoutStatus.ON_NOTICE, date(2024, 3, 7))
    objection = ledger.payouts.lodge_objection(
        f.clerk("villager"), payout, grounds="did not work in January"
    )
    row = queue.row(payout)
    assert (row.status, row.open_objections) == (PayoutStatus.HELD, 1)
    assert _ids(queue.queries.pending()) == [str(payout)]
    assert _ids(queue.queries.pending(status="held")) == [str(payout)]
    ledger.payouts.resolve_objection(
        f.inspector(), payout, objection_id=objection, upheld=False, reason="sheet is signed"
    )
    row = queue.row(payout)
    assert (row.status, row.open_objections) == (PayoutStatus.ON_NOTICE, 0)
    _assert_mirrors_aggregate(ledger, row)


def test_a_large_payout_shows_first_approved_until_a_second_approver_approves(
    ledger: Ledger, queue: Queue
) -> None:
    f.publish(ledger, f.regional_policy(payouts={"second_approval_above_fen": 100_000}))
    payout = _stipend(ledger, f.county(ledger))
    ledger.payouts.approve(f.finance("finance-1"), payout)
    row = queue.row(payout)
    assert (row.status, row.approvers) == (PayoutStatus.FIRST_APPROVED, ("finance-1",))
    assert _ids(queue.queries.pending()) == [str(payout)]
    ledger.payouts.approve(f.finance("finance-2"), payout)
    row = queue.row(payout)
    assert (row.status, row.approvers) == (PayoutStatus.APPROVED, ("finance-1", "finance-2"))
    assert queue.queries.pending() == []
    assert _ids(queue.queries.pending(status="approved")) == [str(payout)]
    _assert_mirrors_aggregate(ledger, row)


def test_a_grant_payout_carries_its_evidence_reference_and_external_claim(
    ledger: Ledger, queue: Queue
) -> None:
    f.publish(ledger, f.regional_policy(grant=GRANT_RULES))
    _grant_fund(ledger)
    payout = _grant(ledger, external_claim_id="EXT-7")
    row = queue.row(payout)
    assert (row.kind, row.programme, row.period) == (PayoutKind.GRANT, "GRANT-TRANSPORT", "2024")
    assert row.evidence is not None
    assert (row.evidence.kind, row.evidence.evidence_ref, row.evidence.external_claim_id) == (
        PayoutKind.GRANT,
        "contract-2024-001",
        "EXT-7",
    )
    assert row.evidence.days_worked is None
    assert row.explanation["inputs"]["work_province"] == "44"


def test_an_application_payout_carries_its_documents(ledger: Ledger, queue: Queue) -> None:
    f.publish(ledger, f.regional_policy(programmes=BROKER_AMOUNTS))
    f.county(ledger)
    broker = f.organisation(ledger, OrganisationKind.BROKER)
    claim = ledger.subsidies.submit(
        f.clerk(),
        programme="SVC-BROKER",
        applicant_id=broker,
        beneficiary_ids=[f.register(ledger)],
        period_start=date(2024, 1, 1),
        evidence=["contracts 2024-01", " roster "],
    )
    row = queue.row(claim.payout_id)
    assert (row.kind, row.programme, row.period, row.beneficiary_id) == (
        PayoutKind.APPLICATION,
        "SVC-BROKER",
        "2024",
        str(broker),
    )
    assert row.evidence is not None
    assert row.evidence.kind is PayoutKind.APPLICATION
    assert row.evidence.documents == ("contracts 2024-01", "roster")
    assert row.explanation["inputs"]["beneficiaries"] == 1


def test_batches_show_their_control_totals_and_the_banks_results(
    ledger: Ledger, queue: Queue
) -> None:
    story = f.money_story(ledger)
    first, second = queue.read().batches(story.place.fund_id)
    assert (first.count, first.total_fen, first.released_by) == (2, 300_000, "finance-1")
    assert (first.paid_count, first.paid_fen, first.failed_count, first.failed_fen) == (
        1,
        STIPEND,
        1,
        STIPEND,
    )
    assert (first.reversed_count, first.results, first.complete) == (0, 2, True)
    assert (second.count, second.paid_count, second.complete) == (1, 1, True)
    assert first.released_at < second.released_at
    assert first.version == ledger.payouts.get_batch(UUID(first.batch_id)).version
    detail = queue.queries.batch(first.batch_id)
    assert detail is not None
    assert {(line.payout_id, line.outcome, line.detail) for line in detail.lines} == {
        (str(story.paid), Outcome.PAID, "BOC-1"),
        (str(story.reissued), Outcome.FAILED, "account closed"),
    }
    assert queue.queries.batches(f.county(ledger, region=f.OTHER_COUNTY).fund_id) == []
    assert queue.queries.batch(story.paid) is None


def test_a_batch_counts_a_reversed_payment_as_reversed_and_an_open_batch_as_incomplete(
    ledger: Ledger, queue: Queue
) -> None:
    place = f.county(ledger)
    payout, waiting = _stipend(ledger, place), _stipend(ledger, place)
    for approved in (payout, waiting):
        ledger.payouts.approve(f.finance(), approved)
    batch = ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=[payout])
    for outcome, reference in ((Outcome.PAID, "BOC-1"), (Outcome.REVERSED, "BOC-R")):
        ledger.payouts.record_results(
            f.finance(),
            batch,
            results=[BankResult(payout, outcome, bank_reference=reference, reason="returned")],
            control_count=1,
            control_total_fen=STIPEND,
        )
    open_batch = ledger.payouts.release_batch(
        f.finance(), fund_id=place.fund_id, payout_ids=[waiting]
    )
    reversed_batch, pending_batch = queue.read().batches(place.fund_id)
    assert reversed_batch.batch_id == str(batch)
    assert (reversed_batch.paid_count, reversed_batch.reversed_count) == (0, 1)
    assert (reversed_batch.reversed_fen, reversed_batch.complete) == (STIPEND, True)
    assert pending_batch.batch_id == str(open_batch)
    assert (pending_batch.results, pending_batch.complete) == (0, False)
    row = queue.row(payout)
    assert (row.status, row.failure) == (PayoutStatus.FAILED, "reversed by the bank (BOC-R)")
    _assert_mirrors_aggregate(ledger, row)


def test_a_rebuilt_queue_equals_the_live_one_row_for_row(ledger: Ledger, queue: Queue) -> None:
    story = f.money_story(ledger)
    f.publish(ledger, f.regional_policy(grant=GRANT_RULES, payouts={"notice_days": 7}))
    _grant_fund(ledger)
    _grant(ledger, external_claim_id="EXT-9")
    objected = _stipend(ledger, story.place)
    ledger.payouts.lodge_objection(f.clerk("villager"), objected, grounds="absent")
    queue.read()
    live = queue.dump()
    assert all(live.values()), "every queue table has rows"

    queue.projector.rebuild(["queue"])

    assert queue.dump() == live
