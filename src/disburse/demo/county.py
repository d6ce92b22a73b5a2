"""The honest life of the demo county, through the same services the API and CLI use.

Funds of the three sources, villages and a relocation settlement site, the registry,
public posts with appointments and insurance, monthly attendance and the monthly run,
transport grants for people working in other provinces, an application under every
programme, and their payment. Every step is a command of the application layer, so
every rule applies and every event carries its actor, rule IDs and catalogue version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from disburse.application.monthly import run_month
from disburse.demo.cast import ADMIN, CLERK, COUNTY, FINANCE
from disburse.demo.catalogue import demo_catalogue
from disburse.demo.payments import Cashier
from disburse.demo.population import VILLAGES, Resident, population
from disburse.domain.fund import FundSource
from disburse.domain.organisation import OrganisationKind, credit_code_check
from disburse.domain.person import LabourCapacity, PovertyStatus
from disburse.domain.post import ExitReason, InsuranceKind
from disburse.domain.site import SiteKind

if TYPE_CHECKING:
    import random
    from collections.abc import Callable
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from disburse.application.monthly import MonthlyRun
    from disburse.domain.months import Month
    from disburse.readside.views import Views

MONTHS = 6
TITLES = ("保洁员", "护林员", "护路员", "水管员", "治安巡逻员", "养老服务员", "公共设施管护员")
FULL_TIME_FEN = 80_000
PART_TIME_FEN = 50_000
FULL_MONTH_SHARE = 0.9  # of attendance sheets; a few are short, a rare one empty
EMPTY_MONTH_SHARE = 0.015
WORK_PROVINCES = (
    ("44", "深圳某电子厂"),
    ("32", "苏州某纺织厂"),
    ("33", "宁波某服装厂"),
    ("11", "北京某物业公司"),
)
PRIORITY = (LabourCapacity.WEAK, LabourCapacity.HALF)
ELIGIBLE = (PovertyStatus.LIFTED, PovertyStatus.MONITORED)


@dataclass
class Holder:
    """A post and its current holder."""

    post_id: UUID
    person_id: UUID
    part_time: bool


@dataclass
class County:
    """The demo county as it is built: who lives there, what was set up, what ran."""

    ledger: Ledger
    views: Views
    rng: random.Random
    year: int
    people: int
    say: Callable[[str], None]
    residents: list[Resident] = field(default_factory=list)
    ids: dict[str, UUID] = field(default_factory=dict)  # resident ID -> person id
    funds: dict[tuple[FundSource, str, int], UUID] = field(default_factory=dict)
    sites: list[UUID] = field(default_factory=list)
    holders: list[Holder] = field(default_factory=list)
    organisations: dict[str, UUID] = field(default_factory=dict)
    grantees: list[UUID] = field(default_factory=list)  # people with a transport grant
    runs: list[MonthlyRun] = field(default_factory=list)
    cashier: Cashier = field(init=False)

    def __post_init__(self) -> None:
        self.cashier = Cashier(self.ledger, self.rng)

    @property
    def stipend_fund(self) -> UUID:
        """This year's employment-subsidy budget of the county (POST-FUND)."""
        return self.funds[FundSource.EMPLOYMENT_SUBSIDY, COUNTY, self.year]

    def account_of(self, person_id: UUID) -> str:
        """The bank account on record for a person."""
        return self.ledger.people.get(person_id).bank_account

    def of_another_household(self, person_id: UUID, among: list[UUID]) -> UUID:
        """The first of ``among`` who is not of ``person_id``'s household.

        Households are of one to five people, so six candidates always hold one.
        """
        household = {self.ids[r.resident_id]: r.household_id for r in self.residents}
        return next(other for other in among if household[other] != household[person_id])

    # -- set-up -----------------------------------------------------------------------------

    def publish_catalogue(self) -> None:
        """The city's own numbers for what the seeds leave open."""
        self.ledger.policy.publish(
            ADMIN, demo_catalogue(), reason="Jilin city publishes its local amounts"
        )

    def allocate(self) -> None:
        """Budgets of the three fund sources for the year, and 2021's for on-the-job training."""
        budgets = (
            (FundSource.EMPLOYMENT_SUBSIDY, COUNTY, self.year, 150_000_000),
            (FundSource.RURAL_REVITALISATION, COUNTY, self.year, 40_000_000),
            (FundSource.EAST_WEST, COUNTY, self.year, 30_000_000),
            (FundSource.EMPLOYMENT_SUBSIDY, COUNTY, 2021, 5_000_000),
        )
        for source, region, year, amount in budgets:
            self.funds[source, region, year] = self.ledger.funds.allocate(
                FINANCE, source=source, region_code=region, year=year, amount_fen=amount
            )

    def register_sites(self) -> None:
        """Twelve villages and the relocation settlement site (quota 5 for 2,600 people)."""
        for name in VILLAGES:
            self.sites.append(
                self.ledger.posts.register_site(
                    CLERK,
                    region_code=COUNTY,
                    kind=SiteKind.VILLAGE,
                    name=name,
                    population=self.rng.randrange(600, 1800),
                )
            )
        self.sites.append(
            self.ledger.posts.register_site(
                CLERK,
                region_code=COUNTY,
                kind=SiteKind.SETTLEMENT,
                name="幸福家园易地扶贫搬迁安置点",
                population=2600,
            )
        )

    def register_people(self) -> None:
        """The county's registry, household by household."""
        self.residents = population(self.rng, COUNTY, self.people)
        for number, resident in enumerate(self.residents, start=1):
            self.ids[resident.resident_id] = self.ledger.people.register(
                CLERK,
                resident_id=resident.resident_id,
                name=resident.name,
                home_region=COUNTY,
                poverty_status=resident.status,
                labour_capacity=resident.capacity,
                household_id=resident.household_id,
                bank_account=resident.bank_account,
            ).person_id
            if number % 500 == 0:
                self.say(f"registered {number} of {len(self.residents)} people")

    def register_organisations(self) -> None:
        """Two labour brokers, three employers, one assistance workshop."""
        kinds = (
            ("broker-a", OrganisationKind.BROKER, "永吉县劳务经纪人协会"),
            ("broker-b", OrganisationKind.BROKER, "吉林市某人力资源有限公司"),
            ("employer-a", OrganisationKind.EMPLOYER, "永吉县某食品有限公司"),
            ("employer-b", OrganisationKind.EMPLOYER, "吉林某建材有限公司"),
            ("employer-c", OrganisationKind.EMPLOYER, "永吉县某农业合作社"),
            ("base", OrganisationKind.BASE, "幸福家园帮扶车间"),
        )
        for number, (key, kind, name) in enumerate(kinds, start=1):
            first17 = f"91{COUNTY}MA{number:07d}"
            self.organisations[key] = self.ledger.organisations.register(
                CLERK,
                credit_code=first17 + credit_code_check(first17),
                kind=kind,
                name=name,
                region_code=COUNTY,
                bank_account=f"0722{self.rng.randrange(10**14):014d}",
            ).organisation_id

    # -- posts ------------------------------------------------------------------------------

    def create_posts(self) -> list[tuple[UUID, bool]]:
        """Eight posts in each village (two part-time), five at the settlement site."""
        fund = self.stipend_fund
        posts = []
        *villages, settlement = self.sites
        for site in villages:
            for number in range(8):
                part_time = number >= 6
                posts.append((self._post(site, fund, part_time, TITLES[number % 7]), part_time))
        posts.extend((self._post(settlement, fund, False, title), False) for title in TITLES[:5])  # noqa: FBT003
        return posts

    def _post(self, site: UUID, fund: UUID, part_time: bool, title: str) -> UUID:
        return self.ledger.posts.create_post(
            CLERK,
            site_id=site,
            title=title,
            stipend_fen=PART_TIME_FEN if part_time else FULL_TIME_FEN,
            fund_id=fund,
            part_time=part_time,
        )

    def candidates(self) -> list[UUID]:
        """Eligible people for posts, weak and half labour first (POST-ELIG)."""
        eligible = [r for r in self.residents if r.status in ELIGIBLE]
        eligible.sort(key=lambda r: (r.capacity not in PRIORITY, r.resident_id))
        return [self.ids[r.resident_id] for r in eligible]

    def appoint(self, post_id: UUID, person_id: UUID, start: date, *, insured_from: date) -> None:
        """Appoint for the rest of the year and record the accident insurance."""
        end = date(self.year, 12, 31)
        self.ledger.posts.appoint(
            CLERK, post_id, person_id=person_id, term_start=start, term_end=end
        )
        self.ledger.posts.record_insurance(
            CLERK,
            post_id,
            kind=InsuranceKind.ACCIDENT,
            policy_number=f"PICC-{self.year}-{post_id.hex[:8]}",
            insurer="中国人民财产保险吉林市分公司",
            valid_from=insured_from,
            valid_to=end,
        )

    def staff(self, posts: list[tuple[UUID, bool]], candidates: list[UUID]) -> None:
        """Fill every post; two were insured only from March (the run refuses Jan, Feb)."""
        start = date(self.year, 1, 1)
        late = {posts[3][0], posts[12][0]}
        for (post_id, part_time), person_id in zip(posts, candidates, strict=False):
            insured_from = date(self.year, 3, 1) if post_id in late else start
            self.appoint(post_id, person_id, start, insured_from=insured_from)
            self.holders.append(Holder(post_id, person_id, part_time))

    # -- the months -------------------------------------------------------------------------

    def log_month(self, month: Month) -> None:
        """The villages' attendance sheets: most full, some short, a rare empty one."""
        required = sum(
            1
            for day in range(1, month.last_day.day + 1)
            if date(month.year, month.month, day).weekday() < 5
        )
        for holder in self.holders:
            draw = self.rng.random()
            if draw < FULL_MONTH_SHARE:
                worked = required
            elif draw < 1 - EMPTY_MONTH_SHARE:
                worked = self.rng.randrange(12, required)
            else:
                worked = 0
            self.ledger.posts.log_attendance(
                CLERK, holder.post_id, month=month, days_worked=worked, days_required=required
            )

    def run(self, month: Month) -> list[UUID]:
        """The monthly run for the county; returns the stipends it requested."""
        result = run_month(self.ledger, self.views, CLERK, month=month, region=COUNTY)
        self.runs.append(result)
        return result.requested_ids

    def exit_and_replace(self, month: Month, candidates: list[UUID]) -> None:
        """Two holders leave mid-month; two new people take their posts next month."""
        for index, reason in ((5, ExitReason.VOLUNTARY), (40, ExitReason.CONTRACT_END)):
            holder = self.holders[index]
            self.ledger.posts.exit(
                CLERK,
                holder.post_id,
                reason=reason,
                effective_on=date(month.year, month.month, 15),
                note="moved to work in the city" if reason is ExitReason.VOLUNTARY else "agreed",
            )
            start = month.next().first_day
            newcomer = candidates.pop()
            self.appoint(holder.post_id, newcomer, start, insured_from=start)
            self.holders[index] = Holder(holder.post_id, newcomer, holder.part_time)

    # -- claims -----------------------------------------------------------------------------

    def free_people(self, status: PovertyStatus = PovertyStatus.LIFTED) -> list[UUID]:
        """People of ``status`` with full labour capacity: no post, free for other claims."""
        held = {h.person_id for h in self.holders}
        return [
            self.ids[r.resident_id]
            for r in self.residents
            if r.status is status
            and r.capacity is LabourCapacity.FULL
            and self.ids[r.resident_id] not in held
        ]

    def claim_grants(self, people: list[UUID]) -> list[UUID]:
        """About one in fifteen of ``people`` went to work in another province this spring."""
        payouts = []
        for number, person_id in enumerate(people):
            if self.rng.random() > 1 / 15 and number:
                continue
            province, employer = self.rng.choice(WORK_PROVINCES)
            started = date(self.year, self.rng.randrange(1, 4), 1)
            self.ledger.people.record_employment(
                CLERK, person_id, province_code=province, employer=employer, started_on=started
            )
            claim = self.ledger.grants.claim(
                CLERK,
                person_id=person_id,
                work_province=province,
                employer=employer,
                started_on=started,
                months_worked=self.rng.randrange(3, 7),
                evidence_ref=f"劳动合同及社保缴费记录 {person_id.hex[:8]}",
            )
            self.grantees.append(person_id)
            payouts.append(claim.payout_id)
        return payouts

    def apply_for_every_programme(self, people: list[UUID]) -> dict[str, tuple[UUID, list[UUID]]]:
        """One application under each programme: (payout, beneficiaries) by programme."""
        catalogue = demo_catalogue()
        org = self.organisations
        low_income = self.free_people(PovertyStatus.LOW_INCOME)
        y = self.year
        applications: tuple[tuple[str, UUID, list[UUID], date, int, int | None], ...] = (
            ("SVC-BROKER", org["broker-a"], people[0:10], date(y, 3, 1), 1, None),
            ("TRAIN-OJT", org["employer-a"], people[10:14], date(2021, 6, 1), 6, None),
            ("HIRE-WAGE", org["employer-b"], people[14:17], date(y, 2, 1), 8, 40_000),
            ("HIRE-GRAD", org["employer-c"], people[17:18], date(y, 4, 1), 1, 400_000),
            ("TRAIN-LIVING", people[18], [], date(y, 3, 1), 2, None),
            ("STARTUP-ONCE", people[19], [], date(y, 5, 1), 1, None),
            ("BASE-REWARD", org["base"], [], date(y, 6, 1), 1, None),
            ("PENSION-PROXY", low_income[0], [], date(y, 1, 1), 1, None),
        )
        done = {}
        for programme, applicant, beneficiaries, start, months, chosen in applications:
            claim = self.ledger.subsidies.submit(
                CLERK,
                programme=programme,
                applicant_id=applicant,
                beneficiary_ids=beneficiaries,
                period_start=start,
                months=months,
                chosen_fen=chosen,
                evidence=catalogue.programmes[programme].evidence,
            )
            done[programme] = (claim.payout_id, list(beneficiaries))
        return done
