"""Builders for unit tests: domain objects without a store, and readers of stored events."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, TypeVar

from eventsourcing.domain import Aggregate

from disburse.domain.fund import Fund, FundSource
from disburse.domain.identity import birth_date, mask_resident_id
from disburse.domain.meta import Meta, Role
from disburse.domain.person import LabourCapacity, Person, PovertyStatus
from disburse.domain.post import Post
from disburse.domain.site import SiteKind
from disburse.policy.default import national
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from uuid import UUID

    from eventsourcing.domain import CanMutateAggregate, DomainEventProtocol

    from disburse.application.ledger import Ledger
    from disburse.domain.rules import PolicyDocument

A = TypeVar("A", bound=Aggregate)


def person(
    *,
    status: PovertyStatus = PovertyStatus.LIFTED,
    labour: LabourCapacity = LabourCapacity.WEAK,
    public_payroll: bool = False,
    rid: str | None = None,
    account: str = "6222020200001234",
) -> Person:
    """A registered person as a domain object (no store, no keyed hash)."""
    rid = rid or f.resident_id()
    return Person(
        id_hash=f"hash-{rid}",
        resident_id=rid,
        resident_id_masked=mask_resident_id(rid),
        birth_date=birth_date(rid),
        name="测试人",
        home_region=f.COUNTY,
        poverty_status=status,
        labour_capacity=labour,
        household_id=f"H-{rid[-6:]}",
        bank_account=account,
        public_payroll=public_payroll,
        meta=f.meta(),
    )


def fund(amount_fen: int = 1_000_000) -> Fund:
    """An employment-subsidy fund of the test county for 2024."""
    return Fund.allocate(
        source=FundSource.EMPLOYMENT_SUBSIDY,
        region_code=f.COUNTY,
        year=2024,
        amount_fen=amount_fen,
        meta=f.meta("finance-1", Role.FINANCE),
    )


def post(
    *,
    policy: PolicyDocument | None = None,
    stipend_fen: int = 150_000,
    meta: Meta | None = None,
) -> Post:
    """A post in the test county as a domain object, created under ``policy`` (national)."""
    return Post.create(
        site_id=uuid.uuid4(),
        region_code=f.COUNTY,
        title="保洁员",
        stipend_fen=stipend_fen,
        fund_id=uuid.uuid4(),
        part_time=False,
        policy=policy or national(),
        meta=meta or f.meta(),
    )


def settlement_post(ledger: Ledger, place: f.County, *, stipend_fen: int = 150_000) -> UUID:
    """A post at the county's settlement site (counted against its quota)."""
    return ledger.posts.create_post(
        f.clerk(),
        site_id=place.settlement_id,
        title="安置点保洁员",
        stipend_fen=stipend_fen,
        fund_id=place.fund_id,
        part_time=True,
    )


def settlement(ledger: Ledger, *, population: int, region: str = f.COUNTY) -> UUID:
    """A settlement site of ``population`` people."""
    return ledger.posts.register_site(
        f.clerk(),
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
