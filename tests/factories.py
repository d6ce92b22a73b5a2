"""The one module of test builders, so a test never has two places to look.

Valid people, actors and a small county on a ledger; domain objects without a store, and
readers of stored events, for the unit tests. Over 400 lines on purpose: every builder is here.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from eventsourcing.domain import Aggregate

from disburse.access.context import Context
from disburse.application.alert_desk import Alerts
from disburse.domain.fund import Fund, FundSource
from disburse.domain.identity import birth_date, check_digit, mask_resident_id
from disburse.domain.meta import Meta, Role
from disburse.domain.months import Month
from disburse.domain.organisation import OrganisationKind, credit_code_check
from disburse.domain.person import LabourCapacity, Person, PovertyStatus
from disburse.domain.post import InsuranceKind, Post
from disburse.domain.rules import PolicyDocument
from disburse.domain.site import SiteKind
from disburse.policy.default import national

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from uuid import UUID

    from eventsourcing.domain import CanMutateAggregate, DomainEventProtocol

    from disburse.application.ledger import Ledger
    from disburse.readside.views import Views

COUNTY = "220221"  # a county of Jilin city, Jilin province
OTHER_COUNTY = "220222"
_serial = itertools.count(1)


def resident_id(
    region: str = COUNTY, born: date = date(1980, 5, 17), serial: int | None = None
) -> str:
    """A valid 18-character resident ID (unique per call unless ``serial`` is given)."""
    number = next(_serial) if serial is None else serial
    first17 = f"{region}{born:%Y%m%d}{number % 1000:03d}"
    return first17 + check_digit(first17)


def credit_code(serial: int | None = None) -> str:
    """A valid unified social credit code (GB 32100) of an enterprise in the test county."""
    number = next(_serial) if serial is None else serial
    first17 = f"91{COUNTY}{number:09d}"
    return first17 + credit_code_check(first17)


def organisation(ledger: Ledger, kind: OrganisationKind, name: str = "某人力资源公司") -> UUID:
    """Register an employer, broker or base in the test county."""
    return ledger.organisations.register(
        clerk(),
        credit_code=credit_code(),
        kind=kind,
        name=name,
        region_code=COUNTY,
        bank_account="6228480012345678",
    ).organisation_id


def alert_desk(ledger: Ledger, views: Views) -> Alerts:
    """The inspectors' alert desk: the ledger's store, alerts known from the alerts view."""
    return Alerts(ledger.store, views.alerts)


def clerk(actor: str = "clerk-1") -> Context:
    return Context(actor_id=actor, role=Role.CLERK, client_id="test-client")


def finance(actor: str = "finance-1") -> Context:
    return Context(actor_id=actor, role=Role.FINANCE, client_id="test-client")


def inspector(actor: str = "inspector-1") -> Context:
    return Context(actor_id=actor, role=Role.INSPECTOR, client_id="test-client")


def admin(actor: str = "admin-1") -> Context:
    return Context(actor_id=actor, role=Role.ADMIN, client_id="test-client")


def meta(actor: str = "clerk-1", role: Role = Role.CLERK) -> Meta:
    return Meta(actor_id=actor, role=role, client_id="test-client", request_id="req-1")


def register(
    ledger: Ledger,
    *,
    status: PovertyStatus = PovertyStatus.LIFTED,
    labour: LabourCapacity = LabourCapacity.WEAK,
    public_payroll: bool = False,
    region: str = COUNTY,
    rid: str | None = None,
    account: str | None = None,
    name: str = "测试人",
) -> UUID:
    """Register a person; returns their id."""
    rid = rid or resident_id(region)
    return ledger.people.register(
        clerk(),
        resident_id=rid,
        name=name,
        home_region=region,
        poverty_status=status,
        labour_capacity=labour,
        household_id=f"H-{rid[-6:]}",
        bank_account=account or f"62220202{rid[-8:-1]}0",
        public_payroll=public_payroll,
    ).person_id


@dataclass(frozen=True)
class County:
    """A fund, a settlement site and a village in one county."""

    fund_id: UUID
    settlement_id: UUID
    village_id: UUID


def county(ledger: Ledger, *, region: str = COUNTY, budget_fen: int = 100_000_000) -> County:
    """A county with an employment-subsidy fund, a settlement site of 800 and a village."""
    fund_id = ledger.funds.allocate(
        finance(),
        source=FundSource.EMPLOYMENT_SUBSIDY,
        region_code=region,
        year=2024,
        amount_fen=budget_fen,
    )
    settlement = ledger.posts.register_site(
        clerk(), region_code=region, kind=SiteKind.SETTLEMENT, name="幸福安置点", population=800
    )
    village = ledger.posts.register_site(
        clerk(), region_code=region, kind=SiteKind.VILLAGE, name="东风村", population=1200
    )
    return County(fund_id, settlement, village)


def post(
    ledger: Ledger,
    place: County,
    *,
    stipend_fen: int = 150_000,
    part_time: bool = False,
    site_id: UUID | None = None,
    fund_id: UUID | None = None,
    title: str = "保洁员",
) -> UUID:
    """A post in the county's village (or at ``site_id``, paid from ``fund_id``)."""
    return ledger.posts.create_post(
        clerk(),
        site_id=site_id or place.village_id,
        title=title,
        stipend_fen=stipend_fen,
        fund_id=fund_id or place.fund_id,
        part_time=part_time,
    )


def staffed_post(
    ledger: Ledger, place: County, person_id: UUID | None = None, *, part_time: bool = False
) -> tuple[UUID, UUID]:
    """A post with a holder appointed for 2024 and insured; returns (post_id, person_id)."""
    post_id = post(ledger, place, part_time=part_time)
    person_id = person_id or register(ledger)
    ledger.posts.appoint(
        clerk(),
        post_id,
        person_id=person_id,
        term_start=date(2024, 1, 1),
        term_end=date(2024, 12, 31),
    )
    ledger.posts.record_insurance(
        clerk(),
        post_id,
        kind=InsuranceKind.ACCIDENT,
        policy_number="PICC-2024-001",
        insurer="PICC",
        valid_from=date(2024, 1, 1),
        valid_to=date(2024, 12, 31),
    )
    return post_id, person_id


JAN = Month(2024, 1)


def requested_stipends(ledger: Ledger, place: County, count: int) -> list[UUID]:
    """``count`` staffed posts' January stipends of 1500.00 yuan, requested by clerk-1."""
    payouts = []
    for _ in range(count):
        post_id, _person = staffed_post(ledger, place)
        payout = ledger.posts.record_attendance(
            clerk(), post_id, month=JAN, days_worked=22, days_required=22
        )
        assert payout is not None
        payouts.append(payout)
    return payouts


REGIONAL_VERSION = "CN-22-2202-2024.1"


def regional_policy(
    *,
    version: str = REGIONAL_VERSION,
    region_prefix: str = "2202",
    effective_from: date = date(2021, 1, 1),
    effective_to: date | None = None,
    payouts: dict[str, int] | None = None,
    grant: dict[str, Any] | None = None,
    programmes: dict[str, dict[str, Any]] | None = None,
    **post_rules: Any,
) -> PolicyDocument:
    """A validated catalogue version: the national one with a scope, a period and post rules."""
    data = national().model_dump()
    data.update(
        version=version,
        region_prefix=region_prefix,
        effective_from=effective_from,
        effective_to=effective_to,
    )
    data["post"].update(post_rules)
    data["payouts"].update(payouts or {})
    data["grant"].update(grant or {})
    for code, changes in (programmes or {}).items():
        data["programmes"][code].update(changes)
    return PolicyDocument.model_validate(data)


def publish(ledger: Ledger, document: PolicyDocument, reason: str = "test publication") -> None:
    """Publish a catalogue version as an administrator."""
    ledger.policy.publish(admin(), document, reason=reason)


@dataclass(frozen=True)
class MoneyStory:
    """A county whose stipends went every way money can go."""

    place: County
    paid: UUID  # paid, then 500.00 of 1500.00 recovered
    rejected: UUID  # approved (committed), then rejected (released)
    reissued: UUID  # failed, re-issued, paid
    pending: UUID  # requested, waiting for approval
    person: UUID


def money_story(ledger: Ledger) -> MoneyStory:
    """Four stipends for January: paid and partly recovered, rejected, re-issued, pending."""
    from disburse.application.payouts import BankResult  # noqa: PLC0415 - test-only cycle
    from disburse.domain.batch import Outcome  # noqa: PLC0415

    place = county(ledger)
    payouts = []
    people = []
    for _ in range(4):
        post_id, person_id = staffed_post(ledger, place)
        people.append(person_id)
        payout = ledger.posts.record_attendance(
            clerk(), post_id, month=JAN, days_worked=22, days_required=22
        )
        assert payout is not None
        payouts.append(payout)
    paid, rejected, reissued, pending = payouts
    for payout in (paid, rejected, reissued):
        ledger.payouts.approve(finance(), payout)
    ledger.payouts.reject(finance(), rejected, reason="duplicate attendance sheet")
    batch = ledger.payouts.release_batch(
        finance(), fund_id=place.fund_id, payout_ids=[paid, reissued]
    )
    ledger.payouts.record_results(
        finance(),
        batch,
        results=[
            BankResult(paid, Outcome.PAID, bank_reference="BOC-1"),
            BankResult(reissued, Outcome.FAILED, reason="account closed"),
        ],
        control_count=2,
        control_total_fen=300_000,
    )
    account = "6222020299999990"
    ledger.people.change_bank_account(
        clerk(), people[2], bank_account=account, reason="the old account was closed"
    )
    ledger.payouts.reissue(finance(), reissued, account=account, reason="new account")
    second = ledger.payouts.release_batch(finance(), fund_id=place.fund_id, payout_ids=[reissued])
    ledger.payouts.record_results(
        finance(),
        second,
        results=[BankResult(reissued, Outcome.PAID, bank_reference="BOC-2")],
        control_count=1,
        control_total_fen=150_000,
    )
    ledger.payouts.order_recovery(
        finance(), paid, amount_fen=50_000, case_reference="CASE-1", reason="worked 15 days"
    )
    ledger.payouts.record_recovery(finance(), paid, amount_fen=50_000, received_on=date(2024, 4, 2))
    return MoneyStory(place, paid, rejected, reissued, pending, people[0])


def dump_views(views: Views) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every view table, sorted: two dumps are equal when the views are."""
    tables = [t for view in views.projector.views.values() for t in view.tables]
    with views.db.read() as tx:
        return {
            table: sorted(
                (tuple(row.values()) for row in tx.all(f"SELECT * FROM {table}")),  # noqa: S608
                key=repr,
            )
            for table in tables
        }


# Domain objects without a store, and readers of stored events (unit tests).

A = TypeVar("A", bound=Aggregate)


def domain_person(
    *,
    status: PovertyStatus = PovertyStatus.LIFTED,
    labour: LabourCapacity = LabourCapacity.WEAK,
    public_payroll: bool = False,
    rid: str | None = None,
    account: str = "6222020200001234",
) -> Person:
    """A registered person as a domain object (no store, no keyed hash)."""
    rid = rid or resident_id()
    return Person(
        id_hash=f"hash-{rid}",
        resident_id=rid,
        resident_id_masked=mask_resident_id(rid),
        birth_date=birth_date(rid),
        name="测试人",
        home_region=COUNTY,
        poverty_status=status,
        labour_capacity=labour,
        household_id=f"H-{rid[-6:]}",
        bank_account=account,
        public_payroll=public_payroll,
        meta=meta(),
    )


def domain_fund(amount_fen: int = 1_000_000) -> Fund:
    """An employment-subsidy fund of the test county for 2024."""
    return Fund.allocate(
        source=FundSource.EMPLOYMENT_SUBSIDY,
        region_code=COUNTY,
        year=2024,
        amount_fen=amount_fen,
        meta=meta("finance-1", Role.FINANCE),
    )


def domain_post(
    *,
    policy: PolicyDocument | None = None,
    stipend_fen: int = 150_000,
    meta: Meta | None = None,
) -> Post:
    """A post in the test county as a domain object, created under ``policy`` (national)."""
    return Post.create(
        site_id=uuid.uuid4(),
        region_code=COUNTY,
        title="保洁员",
        stipend_fen=stipend_fen,
        fund_id=uuid.uuid4(),
        part_time=False,
        policy=policy or national(),
        meta=meta or globals()["meta"](),
    )


def settlement_post(ledger: Ledger, place: County, *, stipend_fen: int = 150_000) -> UUID:
    """A post at the county's settlement site (counted against its quota)."""
    return ledger.posts.create_post(
        clerk(),
        site_id=place.settlement_id,
        title="安置点保洁员",
        stipend_fen=stipend_fen,
        fund_id=place.fund_id,
        part_time=True,
    )


def settlement(ledger: Ledger, *, population: int, region: str = COUNTY) -> UUID:
    """A settlement site of ``population`` people."""
    return ledger.posts.register_site(
        clerk(),
        region_code=region,
        kind=SiteKind.SETTLEMENT,
        name="安置点",
        population=population,
    )


def stored_events(ledger: Ledger, aggregate_id: UUID) -> list[DomainEventProtocol[UUID]]:
    """The events stored for one aggregate, oldest first."""
    return list(ledger.store.events.get(aggregate_id))


def meta_of(event: object) -> Meta:
    """The metadata an event carries."""
    value = vars(event)["meta"]
    assert isinstance(value, Meta), f"{type(event).__qualname__} carries no Meta"
    return value


def name_of(event: object) -> str:
    """The event's class name, e.g. ``Appointed``."""
    return type(event).__name__


def names_of(events: Iterable[object]) -> list[str]:
    """The class names of events, in order."""
    return [name_of(e) for e in events]


def replay(cls: type[A], events: Sequence[CanMutateAggregate[UUID]]) -> A:
    """Rebuild an aggregate from its events, as a repository would."""
    aggregate: Aggregate | None = None
    for event in events:
        aggregate = event.mutate(aggregate)
    assert isinstance(aggregate, cls)
    return aggregate
