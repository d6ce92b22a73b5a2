"""The policy catalogue document: programmes and their parameters as versioned data.

A parameter the source documents leave open is a :class:`NotSpecified` entry, never an
invented number. Applying a rule that needs it raises :class:`PolicyGapError` until a
region publishes a version that fills the gap.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from disburse.domain.errors import PolicyGapError
from disburse.domain.fund import FundSource
from disburse.domain.person import LabourCapacity, PovertyStatus
from disburse.domain.regions import check_region_scope


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NotSpecified(_Frozen):
    """An explicit gap: the source gives no value; a region must fill it."""

    not_specified: Literal[True] = Field(default=True, description="Always true: a gap.")
    note: str = Field(description="What the source says and why no number is given.")


T = TypeVar("T")


def require(value: T | NotSpecified, *, rule_id: str, what: str, version: str) -> T:
    """The value, or ``PolicyGapError`` naming the rule when the catalogue leaves it open."""
    if isinstance(value, NotSpecified):
        raise PolicyGapError(
            rule_id,
            f"catalogue {version} does not specify {what} ({value.note}); "
            "the region must publish a catalogue version that fills it",
        )
    return value


class SourceRef(_Frozen):
    """Where a rule comes from: seed document and clause."""

    rule_id: str = Field(description="The rule ID the clause grounds.")
    seed: str = Field(description="Source document (see docs/policy.md), e.g. '002'.")
    clause: str = Field(description="The clause, quoted or located.")


class QuotaBand(_Frozen):
    """Posts allotted to a settlement site by population band (POST-QUOTA-SITE)."""

    min_population: StrictInt = Field(ge=0, description="Inclusive lower bound.")
    max_population: StrictInt | None = Field(default=None, description="Inclusive upper bound.")
    posts: StrictInt | NotSpecified = Field(description="Posts allotted in the band.")


class PostRules(_Frozen):
    """Rules for rural public-welfare posts (乡村公益性岗位)."""

    eligible_statuses: list[PovertyStatus] = Field(description="Who may hold a post (POST-ELIG).")
    priority_labour: list[LabourCapacity] = Field(description="Labour capacities given priority.")
    max_term_months: StrictInt = Field(ge=1, le=12, description="Longest term (POST-TERM).")
    stipend_floor_fen: StrictInt | NotSpecified | None = Field(
        description="Minimum monthly stipend (local minimum wage); null: no floor in this scope."
    )
    income_exit_threshold_fen: StrictInt | NotSpecified = Field(
        description="Monthly income above which a part-time holder must exit (POST-EXIT-INCOME)."
    )
    site_quota_bands: list[QuotaBand] = Field(description="Settlement quotas (POST-QUOTA-SITE).")
    village_min_posts: StrictInt = Field(ge=0, description="Posts every village keeps at least.")
    fund_sources: list[FundSource] = Field(description="Fund sources that may pay stipends.")
    prorate_by_attendance: bool = Field(description="Stipend scales with days worked.")
    uniform_deviation_pct: StrictInt = Field(
        ge=0, description="Deviation from the regional median stipend that is flagged."
    )

    @field_validator("site_quota_bands")
    @classmethod
    def _bands_do_not_overlap(cls, bands: list[QuotaBand]) -> list[QuotaBand]:
        ordered = sorted(bands, key=lambda b: b.min_population)
        for low, high in pairwise(ordered):
            if low.max_population is None or low.max_population >= high.min_population:
                raise ValueError("quota bands overlap")
        return ordered

    def site_quota(self, population: int, version: str) -> int:
        """Posts allotted to a settlement site of ``population`` people."""
        for band in self.site_quota_bands:
            upper = band.max_population
            if band.min_population <= population and (upper is None or population <= upper):
                return require(
                    band.posts,
                    rule_id="POST-QUOTA-SITE",
                    what=f"the post quota for a settlement site of {population} people",
                    version=version,
                )
        raise PolicyGapError(
            "POST-QUOTA-SITE",
            f"catalogue {version} has no quota band for a site of {population} people",
        )


class GrantTier(_Frozen):
    """An amount for work in the listed provinces (e.g. neighbouring provinces)."""

    provinces: list[str] = Field(description="2-digit province codes of the workplace.")
    amount_fen: StrictInt = Field(gt=0, description="Grant for these provinces, in fen.")


class GrantRules(_Frozen):
    """One-time transport grants for cross-province work (一次性交通补助)."""

    eligible_statuses: list[PovertyStatus] = Field(description="Who may claim (GRANT-ELIG).")
    amount_fen: StrictInt | NotSpecified = Field(description="Amount where no tier applies.")
    tiers: list[GrantTier] = Field(default_factory=list, description="Amounts by province.")
    min_months_away: StrictInt = Field(
        default=0, ge=0, le=12, description="Months worked, at least."
    )
    fund_sources: list[FundSource] = Field(description="Fund sources that may pay grants.")

    def amount_for(self, work_province: str, version: str) -> int:
        """The grant for work in ``work_province``: its tier's amount, or the default."""
        for tier in self.tiers:
            if work_province in tier.provinces:
                return tier.amount_fen
        return require(
            self.amount_fen,
            rule_id="GRANT-AMOUNT",
            what="the transport grant amount",
            version=version,
        )


class AmountRule(_Frozen):
    """How a programme's amount is computed.

    ``fixed``: ``amount_fen``. ``range``: the applicant chooses a value within
    ``[min_fen, max_fen]``. ``monthly``: a monthly amount (fixed, or chosen within the
    range) times the months, at most ``max_months``. ``cap_fen`` caps the total.
    """

    kind: Literal["fixed", "range", "monthly"] = Field(description="How the amount is set.")
    amount_fen: StrictInt | NotSpecified | None = Field(
        default=None,
        description="Amount in fen for fixed, or the monthly amount for monthly; not_specified "
        "marks a gap.",
    )
    min_fen: StrictInt | None = Field(default=None, gt=0, description="Lowest amount chosen.")
    max_fen: StrictInt | None = Field(default=None, gt=0, description="Highest amount chosen.")
    max_months: StrictInt | None = Field(default=None, ge=1, le=120, description="Months, at most.")
    cap_fen: StrictInt | None = Field(default=None, gt=0, description="Total cap in fen.")

    @model_validator(mode="after")
    def _complete(self) -> AmountRule:
        ranged = self.min_fen is not None and self.max_fen is not None
        if self.kind == "fixed" and self.amount_fen is None:
            raise ValueError("a fixed amount needs amount_fen (or not_specified)")
        if self.kind == "range" and not ranged and not isinstance(self.amount_fen, NotSpecified):
            raise ValueError("a range needs min_fen and max_fen")
        if ranged and self.min_fen > self.max_fen:  # type: ignore[operator]
            raise ValueError("min_fen is above max_fen")
        return self


class ProgrammeRules(_Frozen):
    """A subsidy programme: who applies, for whom, how much, how often, when."""

    title: str = Field(description="The programme's name in words, as GET /v1/policy shows it.")
    applicant_kind: Literal["person", "employer", "broker", "base"] = Field(
        description="Who applies (and is paid)."
    )
    beneficiary_statuses: list[PovertyStatus] = Field(
        default_factory=list, description="Eligible beneficiaries; empty: no beneficiaries."
    )
    per_beneficiary: bool = Field(
        default=False, description="The amount is paid for each beneficiary."
    )
    amount: AmountRule = Field(
        description="How the amount is computed: fixed, range or monthly, with an optional cap."
    )
    frequency: Literal["none", "once_ever", "once_per_year"] = Field(
        default="none", description="How often a subject may count."
    )
    one_applicant_per_beneficiary: bool = Field(
        default=False, description="A beneficiary counts for one applicant a year (SVC-BROKER)."
    )
    effective_from: date | None = Field(default=None, description="Open from (inclusive).")
    effective_to: date | None = Field(default=None, description="Open until (inclusive).")
    fund_sources: list[FundSource] = Field(description="Fund sources that may pay it.")
    evidence: list[str] = Field(default_factory=list, description="Evidence references needed.")


class PayoutRules(_Frozen):
    """How payouts are approved in a region (public notice, second approval)."""

    notice_days: StrictInt | None = Field(
        default=None, ge=1, le=60, description="Days of public notice (公示) before approval."
    )
    second_approval_above_fen: StrictInt | None = Field(
        default=None, ge=0, description="Payouts above this amount need a second approver."
    )


class AlertRules(_Frozen):
    """Thresholds of the anti-fraud alerts that the sources leave to judgement."""

    shared_account_households: StrictInt = Field(
        default=2,
        ge=2,
        le=100,
        description="FRAUD-SHARED-ACCOUNT: households on one bank account that raise an alert "
        "(2: any account used by two unrelated households).",
    )
    outlier_min_peers: StrictInt = Field(
        default=3,
        ge=1,
        le=1000,
        description="FRAUD-PAY-OUTLIER: similar posts needed in the region before a stipend "
        "is compared with their median (see post.uniform_deviation_pct).",
    )


class PolicyDocument(_Frozen):
    """One published catalogue version for a region scope and a period."""

    version: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Version id that payouts cite (letters, digits, '.', '_', ':', '-').",
    )
    title: str = Field(description="Title of the version.")
    region_prefix: str = Field(description="'' nationwide, or a 2/4/6-digit region prefix.")
    effective_from: date = Field(description="In force from (inclusive).")
    effective_to: date | None = Field(default=None, description="In force until (inclusive).")
    post: PostRules = Field(description="Public-welfare post rules.")
    payouts: PayoutRules = Field(
        default_factory=PayoutRules, description="Approval rules (notice, second approval)."
    )
    grant: GrantRules | None = Field(
        default=None, description="Transport grants; absent from versions published before them."
    )
    alerts: AlertRules = Field(
        default_factory=AlertRules, description="Thresholds of the anti-fraud alerts."
    )
    programmes: dict[str, ProgrammeRules] = Field(
        default_factory=dict, description="Subsidy programmes by code (SVC-BROKER, TRAIN-OJT...)."
    )
    sources: list[SourceRef] = Field(description="Where each rule comes from.")

    @field_validator("region_prefix")
    @classmethod
    def _scope(cls, value: str) -> str:
        return check_region_scope(value)

    @model_validator(mode="after")
    def _period(self) -> PolicyDocument:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self

    def applies(self, region_code: str, on: date) -> bool:
        """Whether this version covers ``region_code`` on day ``on``."""
        return (
            region_code.startswith(self.region_prefix)
            and self.effective_from <= on
            and (self.effective_to is None or on <= self.effective_to)
        )
