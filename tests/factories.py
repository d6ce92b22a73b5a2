"""Shared builders for tests: valid people, actors, and a small county."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from disburse.application.context import Context
from disburse.domain.fund import FundSource
from disburse.domain.identity import check_digit
from disburse.domain.meta import Meta, Role
from disburse.domain.months import Month
from disburse.domain.person import LabourCapacity, PovertyStatus
from disburse.domain.post import InsuranceKind
from disburse.domain.site import SiteKind

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.ledger import Ledger

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


def clerk(actor: str = "clerk-1") -> Context:
    return Context(actor_id=actor, role=Role.CLERK, client_id="test-client")


def finance(actor: str = "finance-1") -> Context:
    return Context(actor_id=actor, role=Role.FINANCE, client_id="test-client")


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
) -> UUID:
    """Register a person; returns their id."""
    rid = rid or resident_id(region)
    return ledger.people.register(
        clerk(),
        resident_id=rid,
        name="测试人",
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
    ledger: Ledger, place: County, *, stipend_fen: int = 150_000, part_time: bool = False
) -> UUID:
    """A post in the county's village."""
    return ledger.posts.create_post(
        clerk(),
        site_id=place.village_id,
        title="保洁员",
        stipend_fen=stipend_fen,
        fund_id=place.fund_id,
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
