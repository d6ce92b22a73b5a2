"""The audit trail: what happened to an entity and what an actor did, on both stores."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from disburse.access.context import Context
from disburse.domain.meta import Meta, Role
from disburse.domain.organisation import OrganisationKind
from disburse.readside.audit import AuditView
from disburse.readside.audit_queries import AuditEntry, AuditQueries
from disburse.readside.base import Position, event_type
from disburse.readside.db import ViewDB
from disburse.readside.runner import Projector
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Iterator
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from disburse.settings import Settings


@dataclass(frozen=True)
class Audit:
    db: ViewDB
    projector: Projector
    queries: AuditQueries

    def trail(self, entity_id: UUID, **filters: Any) -> list[AuditEntry]:
        self.projector.catch_up()
        return self.queries.trail(entity_id, **filters)

    def by_actor(self, actor_id: str, **filters: Any) -> list[AuditEntry]:
        self.projector.catch_up()
        return self.queries.by_actor(actor_id, **filters)

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every audit table, in a stable order."""
        with self.db.read() as tx:
            tables = {
                table: tx.all(f"SELECT * FROM {table}")  # noqa: S608 - the view's own table names
                for table in AuditView.tables
            }
        return {
            table: sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))
            for table, rows in tables.items()
        }


@pytest.fixture
def audit(ledger: Ledger, settings: Settings) -> Iterator[Audit]:
    db = ViewDB(settings.store, settings)
    projector = Projector(ledger.store, db, [AuditView()])
    projector.setup()
    yield Audit(db, projector, AuditQueries(db))
    db.close()


def log(ledger: Ledger) -> list[tuple[int, Any]]:
    """Every event of the log with its position."""
    notifications = ledger.store.recorder.select_notifications(start=1, limit=100_000)
    return [(n.id, ledger.store.mapper.to_domain_event(n)) for n in notifications]


def one_payout(ledger: Ledger) -> tuple[UUID, UUID]:
    """A January stipend requested by a clerk; returns (payout_id, person_id)."""
    place = f.county(ledger)
    post_id, person_id = f.staffed_post(ledger, place)
    payout = ledger.posts.record_attendance(
        f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
    )
    assert payout is not None
    return payout, person_id


def desk(actor: str, request_id: str) -> Context:
    """A finance user at the finance bureau's desk, with a known request id."""
    return Context(
        actor_id=actor, role=Role.FINANCE, client_id="finance-desk", request_id=request_id
    )


# -- an entity's trail ----------------------------------------------------------------------


def test_a_payouts_trail_lists_every_event_from_request_to_recovery_in_log_order(
    ledger: Ledger, audit: Audit
) -> None:
    story = f.money_story(ledger)

    trail = audit.trail(story.paid)

    assert [(e.event_type, e.via) for e in trail] == [
        ("Payout.Requested", "originator"),
        ("Fund.Committed", "payout_id"),
        ("Payout.Approved", "originator"),
        ("PaymentBatch.Released", "lines"),
        ("Payout.Batched", "originator"),
        ("Payout.Paid", "originator"),
        ("PaymentBatch.ResultRecorded", "payout_id"),
        ("Fund.Paid", "payout_id"),
        ("Payout.RecoveryOrdered", "originator"),
        ("Fund.Recovered", "payout_id"),
        ("Payout.Recovered", "originator"),
    ]
    positions = [e.position for e in trail]
    assert positions == sorted(set(positions))
    assert {e.entity_type for e in trail} == {"Payout", "Fund", "PaymentBatch"}
    assert {e.entity_id for e in trail if e.entity_type == "Fund"} == {str(story.place.fund_id)}
    recovery = next(e for e in trail if e.event_type == "Payout.RecoveryOrdered")
    assert (recovery.reason, recovery.payload["case_reference"]) == ("worked 15 days", "CASE-1")


def test_each_entry_says_who_acted_in_which_role_from_which_client_request_why_and_by_which_rule(
    ledger: Ledger, audit: Audit
) -> None:
    payout, person = one_payout(ledger)
    ledger.payouts.approve(desk("finance-1", "req-approve"), payout)
    ledger.payouts.reject(desk("finance-2", "req-reject"), payout, reason="duplicate sheet")

    requested, committed, approved, released, rejected = audit.trail(payout)

    assert (requested.event_type, requested.actor_id, requested.role) == (
        "Payout.Requested",
        "clerk-1",
        "clerk",
    )
    assert "POST-STIPEND" in requested.rule_ids
    assert requested.policy_version is not None
    assert requested.payload["beneficiary_id"] == str(person)
    assert requested.payload["amount_fen"] == 150_000
    assert (approved.event_type, approved.entity_id, approved.version) == (
        "Payout.Approved",
        str(payout),
        requested.version + 1,
    )
    assert (approved.actor_id, approved.role, approved.client_id, approved.request_id) == (
        "finance-1",
        "finance",
        "finance-desk",
        "req-approve",
    )
    assert approved.rule_ids == ("PAYOUT-SOD",)
    assert approved.reason is None
    assert (committed.event_type, committed.entity_type) == ("Fund.Committed", "Fund")
    assert committed.request_id == "req-approve"  # the fund posting of the same command
    assert (rejected.event_type, rejected.actor_id, rejected.request_id, rejected.reason) == (
        "Payout.Rejected",
        "finance-2",
        "req-reject",
        "duplicate sheet",
    )
    assert (released.event_type, released.reason) == ("Fund.Released", "duplicate sheet")


def test_a_persons_trail_includes_their_registration_appointments_and_payouts_to_them(
    ledger: Ledger, audit: Audit
) -> None:
    story = f.money_story(ledger)

    trail = audit.trail(story.person)

    assert [(e.event_type, e.via) for e in trail] == [
        ("Person.Registered", "originator"),
        ("Post.Appointed", "person_id"),
        ("Post.AttendanceRecorded", "person_id"),
        ("Payout.Requested", "beneficiary_id"),
    ]
    [requested] = [e for e in trail if e.event_type == "Payout.Requested"]
    assert requested.entity_id == str(story.paid)
    # the money that reached them is followed through the payout's own trail
    assert "Fund.Paid" in {e.event_type for e in audit.trail(story.paid)}


def test_an_application_is_in_the_trail_of_its_applicant_and_of_each_worker_it_names(
    ledger: Ledger, audit: Audit
) -> None:
    f.publish(
        ledger,
        f.regional_policy(
            programmes={"SVC-BROKER": {"amount": {"kind": "fixed", "amount_fen": 20_000}}}
        ),
    )
    f.county(ledger)
    broker = f.organisation(ledger, OrganisationKind.BROKER)
    workers = [f.register(ledger), f.register(ledger)]
    claim = ledger.subsidies.submit(
        f.clerk(),
        programme="SVC-BROKER",
        applicant_id=broker,
        beneficiary_ids=workers,
        period_start=date(2024, 1, 1),
        evidence=["contracts 2024-01"],
    )

    broker_trail = audit.trail(broker)

    assert [(e.event_type, e.via) for e in broker_trail] == [
        ("Organisation.Registered", "originator"),
        ("SubsidyApplication.Submitted", "applicant_id"),
        ("Payout.Requested", "beneficiary_id"),
    ]
    registered, submitted, requested = broker_trail
    assert registered.payload["name"] == "某人力资源公司"  # not personal data
    assert registered.payload["bank_account"] == "************5678"
    assert submitted.entity_id == str(claim.application_id)
    assert requested.entity_id == str(claim.payout_id)
    for worker in workers:
        assert [(e.event_type, e.via) for e in audit.trail(worker)] == [
            ("Person.Registered", "originator"),
            ("SubsidyApplication.Submitted", "beneficiary_ids"),
        ]
    assert audit.queries.trail("not-an-entity-id") == []


# -- an actor's trail -----------------------------------------------------------------------


def test_the_trail_of_a_finance_user_lists_only_what_that_user_did(
    ledger: Ledger, audit: Audit
) -> None:
    story = f.money_story(ledger)
    ledger.payouts.approve(f.finance("finance-2"), story.pending)

    second = audit.by_actor("finance-2")
    first = audit.by_actor("finance-1")

    assert [(e.event_type, e.entity_id) for e in second] == [
        ("Fund.Committed", str(story.place.fund_id)),
        ("Payout.Approved", str(story.pending)),
    ]
    assert {e.actor_id for e in second} == {"finance-2"}
    assert {e.actor_id for e in first} == {"finance-1"}
    assert {e.role for e in first} == {"finance"}
    assert all(e.via is None for e in first)
    acted = [position for position, event in log(ledger) if event.meta.actor_id == "finance-1"]
    assert [e.position for e in first] == acted
    assert audit.by_actor("nobody") == []


# -- filters and paging ---------------------------------------------------------------------


def test_a_time_range_keeps_the_events_recorded_within_it(ledger: Ledger, audit: Audit) -> None:
    story = f.money_story(ledger)
    trail = audit.trail(story.paid)
    middle = trail[len(trail) // 2]
    first_day, last_day = trail[0].recorded_at.date(), trail[-1].recorded_at.date()

    since = audit.trail(story.paid, since=middle.recorded_at)
    until = audit.trail(story.paid, until=middle.recorded_at)
    both = audit.trail(story.paid, since=middle.recorded_at, until=middle.recorded_at)

    assert since == [e for e in trail if e.recorded_at >= middle.recorded_at]
    assert until == [e for e in trail if e.recorded_at <= middle.recorded_at]
    assert middle in both
    assert all(e.recorded_at == middle.recorded_at for e in both)
    # a date is a whole UTC day: "until" that day includes its last event
    assert audit.trail(story.paid, since=first_day, until=last_day) == trail
    assert audit.trail(story.paid, until=first_day - timedelta(days=1)) == []
    assert audit.trail(story.paid, since=last_day + timedelta(days=1)) == []
    assert audit.by_actor("finance-1", until=date(2000, 1, 1)) == []


def test_event_types_filter_on_exact_aggregate_and_event_names(
    ledger: Ledger, audit: Audit
) -> None:
    story = f.money_story(ledger)

    paid = audit.trail(story.paid, event_types=["Payout.Approved", "Fund.Paid"])
    rejections = audit.by_actor("finance-1", event_types={"Payout.Rejected"})

    assert [e.event_type for e in paid] == ["Payout.Approved", "Fund.Paid"]
    assert [(e.event_type, e.entity_id) for e in rejections] == [
        ("Payout.Rejected", str(story.rejected))
    ]
    assert audit.trail(story.paid, event_types=["Payout"]) == []
    assert audit.trail(story.paid, event_types=[]) == []


def test_pages_after_a_position_cover_the_trail_once_in_order(ledger: Ledger, audit: Audit) -> None:
    story = f.money_story(ledger)
    whole = audit.by_actor("finance-1")

    pages: list[list[AuditEntry]] = []
    after = 0
    while page := audit.by_actor("finance-1", limit=4, after_position=after):
        pages.append(page)
        after = page[-1].position

    assert [e for page in pages for e in page] == whole
    assert all(len(page) == 4 for page in pages[:-1])
    assert len(pages) == -(-len(whole) // 4)
    second = audit.trail(story.paid, limit=3, after_position=audit.trail(story.paid)[2].position)
    assert second == audit.trail(story.paid)[3:6]
    with pytest.raises(ValueError, match="limit"):
        audit.trail(story.paid, limit=0)


# -- what the view holds --------------------------------------------------------------------


def test_the_view_records_every_event_of_the_log_whatever_its_type(
    ledger: Ledger, audit: Audit
) -> None:
    f.money_story(ledger)
    f.organisation(ledger, OrganisationKind.EMPLOYER)
    events = log(ledger)

    audit.projector.catch_up()

    with audit.db.read() as tx:
        rows = tx.all("SELECT position, event_type FROM audit_events ORDER BY position")
    assert [(r["position"], r["event_type"]) for r in rows] == [
        (position, event_type(event)) for position, event in events
    ]
    assert {event_type(event) for _, event in events} <= AuditView.handled()
    assert "Person.Event" not in AuditView.handled()


def _personal_values(ledger: Ledger) -> set[str]:
    """The raw personal data the log holds: resident IDs, their hashes, names, accounts."""
    found: set[str] = set()
    for _, event in log(ledger):
        fields = vars(event)
        found.update(str(fields[k]) for k in ("resident_id", "id_hash") if k in fields)
        found.update(str(fields[k]) for k in ("bank_account", "account") if fields.get(k))
        if event_type(event).startswith("Person."):
            found.update(str(fields[k]) for k in ("name",) if k in fields)
    return found


def test_the_stored_rows_hold_no_resident_id_no_full_name_and_no_full_bank_account(
    ledger: Ledger, audit: Audit
) -> None:
    f.money_story(ledger)
    rid, account = f.resident_id(), "6222020287654321"
    person = f.register(ledger, rid=rid, account=account)
    ledger.people.change_bank_account(
        f.clerk(), person, bank_account="6222020211112222", reason="new card"
    )
    f.organisation(ledger, OrganisationKind.EMPLOYER)
    secrets = _personal_values(ledger)
    assert {rid, account, "6222020211112222", "6228480012345678", "测试人"} <= secrets

    audit.projector.catch_up()
    dump = audit.dump()

    texts = [
        v for rows in dump.values() for row in rows for v in row.values() if isinstance(v, str)
    ]
    leaks = {secret for secret in secrets for text in texts if secret in text}
    assert not leaks
    born = f"{rid[6:10]}-{rid[10:12]}-{rid[12:14]}"  # with the region and masked ID: the ID
    assert not [text for text in texts if born in text]
    [registered] = audit.trail(person, event_types=["Person.Registered"])
    assert registered.payload["name"] == "测**"
    assert registered.payload["bank_account"] == "************4321"
    assert registered.payload["resident_id_masked"] == f"{rid[:4]}**********{rid[-4:]}"


def test_a_rebuilt_view_equals_the_live_one_row_for_row(ledger: Ledger, audit: Audit) -> None:
    story = f.money_story(ledger)
    audit.projector.catch_up()
    ledger.payouts.approve(f.finance("finance-2"), story.pending)
    audit.projector.catch_up()
    f.staffed_post(ledger, story.place)
    f.organisation(ledger, OrganisationKind.EMPLOYER)
    audit.projector.catch_up()
    live = audit.dump()

    audit.projector.rebuild(["audit"])

    assert audit.dump() == live
    assert len(live["audit_events"]) == len(log(ledger))
    assert len(live["audit_links"]) > len(live["audit_events"])
    assert audit.projector.positions() == {"audit": audit.projector.head()}


def test_a_region_learnt_in_a_batch_that_rolled_back_is_learnt_again(
    ledger: Ledger, audit: Audit
) -> None:
    """The view keeps the regions it reads and writes only for the transaction doing it."""
    person = f.register(ledger, region="220281")
    [(position, registered)] = [
        (p, e) for p, e in log(ledger) if event_type(e) == "Person.Registered"
    ]
    view = audit.projector.view("audit")

    def learn_then_fail() -> None:
        where = Position(position, registered.timestamp)
        with audit.db.transaction() as tx:
            view.begin(tx, [(registered, where)])
            view.process(tx, registered, where)
            raise RuntimeError("the batch fails after the person's region was learnt")

    with pytest.raises(RuntimeError):
        learn_then_fail()

    ledger.people.change_bank_account(
        f.clerk(), person, bank_account="6222020200000099", reason="new card"
    )
    audit.projector.catch_up()

    assert {r["region_code"] for r in audit.dump()["audit_regions"]} == {"220281"}
    assert {e.event_type: e.region_code for e in audit.trail(person)} == {
        "Person.Registered": "220281",
        "Person.BankAccountChanged": "220281",
    }


def test_an_entry_carries_the_time_and_metadata_its_event_recorded(
    ledger: Ledger, audit: Audit
) -> None:
    payout, _ = one_payout(ledger)
    ledger.payouts.approve(desk("finance-1", "req-1"), payout)
    [approval] = [e for _, e in log(ledger) if event_type(e) == "Payout.Approved"]

    [entry] = audit.trail(payout, event_types=["Payout.Approved"])

    meta: Meta = approval.meta
    assert entry.recorded_at == approval.timestamp
    assert (entry.actor_id, entry.request_id, entry.rule_ids) == (
        meta.actor_id,
        meta.request_id,
        meta.rule_ids,
    )
