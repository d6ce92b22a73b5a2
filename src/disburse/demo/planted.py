"""The irregularities planted in the demo county, one or more per ``FRAUD-*`` rule.

Most reach the ledger the way they do in a real county, through ordinary commands
whose facts only later turn out wrong: a death recorded months late, an income
reported after the stipends were paid, a holder found on a government payroll, a
bank account changed to one another household uses, a post paid far above its
peers. The rules the commands enforce up front (one grant per year, one broker per
worker, the months of a programme, work in another province) can only be broken by
facts that arrived another way: here, the neighbouring county's claims migrated from
its previous ledger by a system actor. The alerts are the second line for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from disburse.application.alert_desk import Alerts
from disburse.demo.cast import CLERK, FINANCE, INSPECTOR, MIGRATION, NEIGHBOUR
from disburse.domain.alert import AlertOutcome
from disburse.domain.grant import TransportGrant
from disburse.domain.payout import PayoutStatus
from disburse.domain.post import ExitReason
from disburse.domain.subsidy import SubsidyApplication

if TYPE_CHECKING:
    from disburse.demo.county import County, Holder
    from disburse.domain.meta import Meta
    from disburse.domain.months import Month

#: Every rule the alerts view raises; the demo plants at least one case of each.
FRAUD_RULES = (
    "FRAUD-DUP-GRANT",
    "FRAUD-DUP-BROKER",
    "FRAUD-INELIGIBLE-PLACEMENT",
    "FRAUD-PAID-AFTER-EXIT",
    "FRAUD-DECEASED",
    "FRAUD-SHARED-ACCOUNT",
    "FRAUD-INCOME-OVER",
    "FRAUD-SAME-PROVINCE",
    "FRAUD-OVER-CAP",
    "FRAUD-PAY-OUTLIER",
)
OUTLIER_FEN = 200_000
OVER_THRESHOLD_FEN = 150_000
_MIGRATED = f"claim migrated from the {NEIGHBOUR} county ledger"


@dataclass
class Planted:
    """The planted cases, played into the months of the county's story."""

    county: County
    cases: dict[str, str] = field(default_factory=dict)  # rule -> what was planted
    dead: Holder | None = None
    earner: Holder | None = None

    def outlier_post(self) -> tuple[UUID, bool]:
        """FRAUD-PAY-OUTLIER: a village post paid 2,000 yuan where its peers get 800."""
        county = self.county
        post_id = county.ledger.posts.create_post(
            CLERK,
            site_id=county.sites[0],
            title="村级公益性岗位协管员",
            stipend_fen=OUTLIER_FEN,
            fund_id=county.stipend_fund,
            part_time=False,
        )
        self.cases["FRAUD-PAY-OUTLIER"] = "a village post created at 2000.00 yuan a month"
        return post_id, False

    def choose(self) -> None:
        """The holders whose story goes wrong: one dies, one earns too much."""
        holders = self.county.holders
        self.dead = holders[10]
        self.earner = next(h for h in holders if h.part_time)

    def after_month(self, month: Month) -> None:
        """What comes to light after the month was paid."""
        ledger = self.county.ledger
        if month.month == 3 and self.earner is not None:
            ledger.people.report_income(
                CLERK,
                self.earner.person_id,
                month=month,
                amount_fen=OVER_THRESHOLD_FEN,
                source="flexible work at a greenhouse (004 §16)",
            )
            self.cases["FRAUD-INCOME-OVER"] = (
                f"a part-time holder's income of 1500.00 yuan in {month}, reported after "
                "the stipend was paid"
            )
        if month.month == 4 and self.earner is not None:
            ledger.posts.exit(
                CLERK,
                self.earner.post_id,
                reason=ExitReason.INCOME_OVER_THRESHOLD,
                effective_on=month.first_day,
                note="income over the monitoring threshold (POST-EXIT-INCOME)",
            )
            self.county.holders.remove(self.earner)

    def grant_after_death(self, person_id: UUID) -> UUID:
        """A grant claimed in May for work from May 1st by someone who died in March."""
        ledger, year = self.county.ledger, self.county.year
        ledger.people.record_employment(
            CLERK,
            person_id,
            province_code="44",
            employer="东莞某五金厂",
            started_on=date(year, 5, 1),
        )
        claim = ledger.grants.claim(
            CLERK,
            person_id=person_id,
            work_province="44",
            employer="东莞某五金厂",
            started_on=date(year, 5, 1),
            months_worked=3,
            evidence_ref="劳动合同复印件",
        )
        return claim.payout_id

    def record_late_facts(self, deceased_claimant: UUID, shared: tuple[UUID, UUID]) -> None:
        """June: the civil registry, the payroll cross-check and a changed account arrive."""
        county = self.county
        ledger, year = county.ledger, county.year
        assert self.dead is not None  # noqa: S101 - chosen before the months
        ledger.people.record_death(
            CLERK, self.dead.person_id, died_on=date(year, 4, 10), evidence="户籍注销证明"
        )
        ledger.posts.exit(
            CLERK,
            self.dead.post_id,
            reason=ExitReason.DEATH,
            effective_on=date(year, 4, 10),
            note="death recorded by the civil registry in June",
        )
        county.holders.remove(self.dead)
        self.cases["FRAUD-PAID-AFTER-EXIT"] = (
            "stipends for May and June paid to a holder who died on April 10 (recorded late)"
        )
        ledger.people.record_death(
            CLERK, deceased_claimant, died_on=date(year, 3, 15), evidence="户籍注销证明"
        )
        self.cases["FRAUD-DECEASED"] = (
            "a transport grant for work from May 1 by someone who died in March"
        )
        payroll = county.holders[20]
        ledger.people.change_status(
            CLERK,
            payroll.person_id,
            public_payroll=True,
            effective_on=date(year, 1, 1),
            reason="monthly cross-check with the township government payroll (004 §14)",
        )
        self.cases["FRAUD-INELIGIBLE-PLACEMENT"] = "a post holder found on a government payroll"
        first, second = shared
        account = county.account_of(first)
        ledger.people.change_bank_account(
            CLERK, second, bank_account=account, reason="a new bank card handed in by a broker"
        )
        self.cases["FRAUD-SHARED-ACCOUNT"] = "two households paid into one bank account"

    def migrate(
        self, grantee: UUID, same_province: UUID, broker_worker: UUID, wage_worker: UUID
    ) -> None:
        """The neighbour's claims, migrated from its previous ledger (no command checks)."""
        county = self.county
        year = county.year
        meta = MIGRATION.meta(_MIGRATED)
        facts = [
            self._grant(grantee, "44", "广州某物流公司", meta),
            self._grant(same_province, "22", "长春某汽车配件厂", meta),
            SubsidyApplication(
                programme="SVC-BROKER",
                applicant_id=county.organisations["broker-b"],
                applicant_kind="broker",
                region_code=NEIGHBOUR,
                beneficiary_ids=[broker_worker],
                period_start=date(year, 4, 1),
                months=1,
                chosen_fen=None,
                evidence=["劳务派遣协议"],
                external_claim_id=None,
                amount_fen=30_000,
                explanation={"migrated": NEIGHBOUR},
                meta=meta,
            ),
            SubsidyApplication(
                programme="HIRE-WAGE",
                applicant_id=county.organisations["employer-c"],
                applicant_kind="employer",
                region_code=NEIGHBOUR,
                beneficiary_ids=[wage_worker],
                period_start=date(year, 3, 1),
                months=6,
                chosen_fen=40_000,
                evidence=["劳动合同", "工资发放记录"],
                external_claim_id=None,
                amount_fen=240_000,
                explanation={"migrated": NEIGHBOUR},
                meta=meta,
            ),
        ]
        county.ledger.store.save(*facts)
        self.cases["FRAUD-DUP-GRANT"] = (
            f"a second {year} transport grant for one person, claimed in {NEIGHBOUR}"
        )
        self.cases["FRAUD-SAME-PROVINCE"] = "a transport grant for work in Changchun, Jilin"
        self.cases["FRAUD-DUP-BROKER"] = "one worker claimed by two labour brokers"
        self.cases["FRAUD-OVER-CAP"] = "14 months of HIRE-WAGE for one worker (limit 12)"

    def _grant(self, person_id: UUID, province: str, employer: str, meta: Meta) -> TransportGrant:
        year = self.county.year
        return TransportGrant(
            person_id=person_id,
            region_code=NEIGHBOUR,
            work_province=province,
            employer=employer,
            started_on=date(year, 3, 1),
            months_worked=4,
            evidence_ref="蛟河市原台账",
            external_claim_id=None,
            period=str(year),
            amount_fen=50_000,
            meta=meta,
        )

    def investigate(self) -> int:
        """The inspector confirms the stipends paid after death; finance recovers them."""
        county = self.county
        county.views.catch_up()
        alerts = county.views.alerts.find(rule="FRAUD-PAID-AFTER-EXIT")
        recovered = 0
        desk = Alerts(county.ledger.store, county.views.alerts)
        for alert in alerts:
            desk.resolve(
                INSPECTOR,
                alert.alert_id,
                outcome=AlertOutcome.CONFIRMED,
                reason="the civil registry confirms the death; the village signed the sheets",
            )
            payout = county.ledger.payouts.get(UUID(alert.subject_id))
            if payout.status is PayoutStatus.FAILED:  # the bank bounced it: nothing to recover
                county.ledger.payouts.cancel(
                    FINANCE, payout.id, reason="the holder died before the month"
                )
                continue
            county.ledger.payouts.order_recovery(
                FINANCE,
                payout.id,
                amount_fen=payout.amount_fen,
                case_reference=f"JJ-{county.year}-{alert.alert_id.hex[:6]}",
                reason="stipend paid for a month after the holder's death",
            )
            if not recovered:  # the family returned the first; the second is outstanding
                county.ledger.payouts.record_recovery(
                    FINANCE,
                    payout.id,
                    amount_fen=payout.amount_fen,
                    received_on=date(county.year, 7, 20),
                )
            recovered += 1
        return recovered
