"""Anti-fraud alerts: the facts each FRAUD-* rule needs, and the alerts they raise.

The view keeps a narrow copy of the facts (no names, no resident IDs, bank accounts only
as keyed hashes) and re-evaluates the rules around every fact that arrives, so a rule
fires whether the payout or the fact that makes it improper was recorded first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from disburse.domain.person import ERASED
from disburse.readside.alerts import claim_rules, outliers, post_rules
from disburse.readside.alerts.findings import ALERTS_DDL, Finding, record, resolve
from disburse.readside.base import Position, View, dumps, event_type, handles

if TYPE_CHECKING:
    from collections.abc import Callable

    from disburse.readside.db import Row, Tx

_STATUS = {
    "Payout.NoticeStarted": "on_notice",
    "Payout.ObjectionLodged": "held",
    "Payout.Approved": "approved",
    "Payout.Rejected": "rejected",
    "Payout.Batched": "batched",
    "Payout.Paid": "paid",
    "Payout.Failed": "failed",
    "Payout.PaymentReversed": "failed",
    "Payout.Reissued": "approved",
    "Payout.Cancelled": "cancelled",
    "Payout.RecoveryOrdered": "recovery_ordered",
    "Payout.Recovered": "recovered",
}


class AlertsView(View):
    """Facts for the fraud rules, and the alerts with their inspectors' decisions."""

    name = "alerts"
    #: 2: alert_regions (an alert belongs to every region it concerns).
    #: 3: FRAUD-PAY-OUTLIER kept incrementally (the ``outliers`` tables).
    version = 3
    tables = (
        "alerts",
        "alert_regions",
        "alert_people",
        "alert_incomes",
        "alert_posts",
        "alert_tenures",
        "alert_payouts",
        "alert_sources",
        "alert_grants",
        "alert_applications",
        "alert_app_people",
        "alert_policy",
        *outliers.OUTLIER_TABLES,
    )
    schema: ClassVar[tuple[str, ...]] = (
        *ALERTS_DDL,
        "CREATE TABLE IF NOT EXISTS alert_people (person_id TEXT PRIMARY KEY,"
        " home_region TEXT NOT NULL, household_id TEXT NOT NULL, account_hash TEXT NOT NULL,"
        " poverty_status TEXT NOT NULL, public_payroll INTEGER NOT NULL, died_on TEXT,"
        " position BIGINT NOT NULL, account_position BIGINT NOT NULL,"
        " status_position BIGINT NOT NULL, death_position BIGINT)",
        "CREATE INDEX IF NOT EXISTS alert_people_account ON alert_people (account_hash)",
        "CREATE TABLE IF NOT EXISTS alert_incomes (person_id TEXT NOT NULL,"
        " month TEXT NOT NULL, amount_fen BIGINT NOT NULL, position BIGINT NOT NULL,"
        " PRIMARY KEY (person_id, month))",
        "CREATE TABLE IF NOT EXISTS alert_posts (post_id TEXT PRIMARY KEY,"
        " region_code TEXT NOT NULL, stipend_fen BIGINT NOT NULL, part_time INTEGER NOT NULL,"
        " created_position BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS alert_tenures (post_id TEXT NOT NULL,"
        " person_id TEXT NOT NULL, term_start TEXT NOT NULL, exited_on TEXT,"
        " appointed_position BIGINT NOT NULL, exit_position BIGINT,"
        " PRIMARY KEY (post_id, person_id))",
        "CREATE INDEX IF NOT EXISTS alert_tenures_person ON alert_tenures (person_id)",
        "CREATE TABLE IF NOT EXISTS alert_payouts (payout_id TEXT PRIMARY KEY,"
        " kind TEXT NOT NULL, programme TEXT NOT NULL, source_id TEXT NOT NULL,"
        " beneficiary_id TEXT NOT NULL, period TEXT NOT NULL, region_code TEXT NOT NULL,"
        " amount_fen BIGINT NOT NULL, status TEXT NOT NULL, position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS alert_payouts_person ON alert_payouts (beneficiary_id)",
        "CREATE INDEX IF NOT EXISTS alert_payouts_source ON alert_payouts (source_id)",
        "CREATE TABLE IF NOT EXISTS alert_sources (source_id TEXT PRIMARY KEY,"
        " starts_on TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS alert_grants (grant_id TEXT PRIMARY KEY,"
        " person_id TEXT NOT NULL, period TEXT NOT NULL, region_code TEXT NOT NULL,"
        " work_province TEXT NOT NULL, position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS alert_grants_person ON alert_grants (person_id, period)",
        "CREATE TABLE IF NOT EXISTS alert_applications (application_id TEXT PRIMARY KEY,"
        " programme TEXT NOT NULL, applicant_id TEXT NOT NULL, applicant_kind TEXT NOT NULL,"
        " region_code TEXT NOT NULL, year TEXT NOT NULL, months INTEGER NOT NULL,"
        " per_person_fen BIGINT NOT NULL, position BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS alert_app_people (application_id TEXT NOT NULL,"
        " person_id TEXT NOT NULL, PRIMARY KEY (application_id, person_id))",
        "CREATE INDEX IF NOT EXISTS alert_app_people_person ON alert_app_people (person_id)",
        "CREATE TABLE IF NOT EXISTS alert_policy (position BIGINT PRIMARY KEY,"
        " version TEXT NOT NULL, document TEXT NOT NULL)",
        *outliers.OUTLIER_DDL,
    )

    def __init__(self, hash_account: Callable[[str], str]) -> None:
        """``hash_account``: a keyed hash; accounts and households are kept only hashed."""
        self.hash_account = hash_account
        self.policies = post_rules.PolicyBook()

    # -- catalogue and people ---------------------------------------------------------------

    @handles("PolicyCatalogue.VersionPublished")
    def _published(self, tx: Tx, event: Any, where: Position) -> None:
        tx.write(
            "INSERT INTO alert_policy (position, version, document) VALUES (:p, :v, :d)",
            {"p": where.position, "v": event.document["version"], "d": dumps(event.document)},
        )
        self.policies.published(tx)

    @handles("Person.Registered")
    def _registered(self, tx: Tx, event: Any, where: Position) -> None:
        tx.write(
            "INSERT INTO alert_people (person_id, home_region, household_id, account_hash,"
            " poverty_status, public_payroll, position, account_position, status_position)"
            " VALUES (:id, :region, :household, :account, :status, :payroll, :p, :p, :p)",
            {
                "id": str(event.originator_id),
                "region": event.home_region,
                "household": self.hash_account(f"household:{event.household_id}"),
                "account": self._account_of(event),
                "status": str(event.poverty_status),
                "payroll": int(bool(event.public_payroll)),
                "p": where.position,
            },
        )
        self._check_account(tx, str(event.originator_id), where)

    @handles("Person.BankAccountChanged")
    def _account_changed(self, tx: Tx, event: Any, where: Position) -> None:
        person_id = str(event.originator_id)
        tx.write(
            "UPDATE alert_people SET account_hash = :h, account_position = :p"
            " WHERE person_id = :id",
            {"h": self._account_of(event), "p": where.position, "id": person_id},
        )
        self._check_account(tx, person_id, where)

    def _account_of(self, event: Any) -> str:
        """The keyed hash of the person's account; an erased account matches nobody else."""
        account = event.bank_account
        if account == ERASED:
            account = f"erased:{event.originator_id}"
        return self.hash_account(account)

    def _check_account(self, tx: Tx, person_id: str, where: Position) -> None:
        person = self._person(tx, person_id)
        policy = self.policies.in_force(tx, person["home_region"], where.recorded_at.date())
        if policy is not None:
            found = post_rules.shared_account(
                tx, person["account_hash"], person["home_region"], policy
            )
            record(tx, found, where)

    @handles("Person.DeathRecorded")
    def _died(self, tx: Tx, event: Any, where: Position) -> None:
        person_id = str(event.originator_id)
        tx.write(
            "UPDATE alert_people SET died_on = :d, death_position = :p WHERE person_id = :id",
            {"d": event.died_on.isoformat(), "p": where.position, "id": person_id},
        )
        payouts = post_rules.payouts_where(tx, "p.beneficiary_id = :b", {"b": person_id})
        record(tx, post_rules.after_exit_or_death(tx, payouts), where)

    @handles("Person.IncomeReported")
    def _income(self, tx: Tx, event: Any, where: Position) -> None:
        person_id = str(event.originator_id)
        tx.write(
            "INSERT INTO alert_incomes (person_id, month, amount_fen, position)"
            " VALUES (:id, :m, :a, :p) ON CONFLICT (person_id, month) DO UPDATE"
            " SET amount_fen = excluded.amount_fen, position = excluded.position",
            {"id": person_id, "m": event.month, "a": event.amount_fen, "p": where.position},
        )
        record(tx, post_rules.income_over(tx, person_id, self.policies), where)

    @handles("Person.StatusChanged")
    def _status(self, tx: Tx, event: Any, where: Position) -> None:
        person_id = str(event.originator_id)
        person = self._person(tx, person_id)
        status = event.poverty_status or person["poverty_status"]
        payroll = person["public_payroll"] if event.public_payroll is None else event.public_payroll
        tx.write(
            "UPDATE alert_people SET poverty_status = :s, public_payroll = :pp,"
            " status_position = :p WHERE person_id = :id",
            {"s": str(status), "pp": int(bool(payroll)), "p": where.position, "id": person_id},
        )
        if event.public_payroll:
            record(tx, post_rules.payroll_holder(tx, self._person(tx, person_id)), where)

    # -- posts ------------------------------------------------------------------------------

    @handles("Post.Created")
    def _post_created(self, tx: Tx, event: Any, where: Position) -> None:
        post_id, part_time = str(event.originator_id), int(bool(event.part_time))
        tx.write(
            "INSERT INTO alert_posts (post_id, region_code, stipend_fen, part_time,"
            " created_position) VALUES (:id, :r, :s, :pt, :p)",
            {
                "id": post_id,
                "r": event.region_code,
                "s": event.stipend_fen,
                "pt": part_time,
                "p": where.position,
            },
        )
        group = outliers.add_post(
            tx,
            region_code=event.region_code,
            part_time=part_time,
            post_id=post_id,
            stipend_fen=event.stipend_fen,
            position=where.position,
        )
        policy = self.policies.in_force(tx, event.region_code, where.recorded_at.date())
        if policy is not None:
            record(tx, post_rules.pay_outliers(tx, group, policy), where)

    @handles("Post.Appointed")
    def _appointed(self, tx: Tx, event: Any, where: Position) -> None:
        post_id, person_id = str(event.originator_id), str(event.person_id)
        tx.write(
            "INSERT INTO alert_tenures (post_id, person_id, term_start, appointed_position)"
            " VALUES (:post, :person, :start, :p) ON CONFLICT (post_id, person_id) DO UPDATE"
            " SET term_start = excluded.term_start, exited_on = NULL, exit_position = NULL,"
            " appointed_position = excluded.appointed_position",
            {
                "post": post_id,
                "person": person_id,
                "start": event.term_start.isoformat(),
                "p": where.position,
            },
        )
        post = tx.one("SELECT * FROM alert_posts WHERE post_id = :id", {"id": post_id})
        person = tx.one("SELECT * FROM alert_people WHERE person_id = :id", {"id": person_id})
        if post is None or person is None:  # pragma: no cover - created before appointed
            return
        policy = self.policies.in_force(tx, post["region_code"], event.term_start)
        found = post_rules.ineligible_placement(tx, person, post, where.position, policy)
        record(tx, [*found, *post_rules.income_over(tx, person_id, self.policies)], where)

    @handles("Post.Exited")
    def _exited(self, tx: Tx, event: Any, where: Position) -> None:
        post_id, person_id = str(event.originator_id), str(event.person_id)
        tx.write(
            "UPDATE alert_tenures SET exited_on = :d, exit_position = :p"
            " WHERE post_id = :post AND person_id = :person",
            {"d": event.effective_on.isoformat(), "p": where.position, "post": post_id,
             "person": person_id},
        )  # fmt: skip
        payouts = post_rules.payouts_where(
            tx, "p.source_id = :s AND p.beneficiary_id = :b", {"s": post_id, "b": person_id}
        )
        record(tx, post_rules.after_exit_or_death(tx, payouts), where)

    # -- payouts and claims -----------------------------------------------------------------

    @handles("Payout.Requested")
    def _requested(self, tx: Tx, event: Any, where: Position) -> None:
        payout: Row = {
            "payout_id": str(event.originator_id),
            "kind": str(event.kind),
            "programme": event.programme,
            "source_id": str(event.source_id),
            "beneficiary_id": str(event.beneficiary_id),
            "period": event.period,
            "region_code": event.region_code,
            "amount_fen": event.amount_fen,
            "status": "requested",
            "position": where.position,
        }
        tx.write(
            "INSERT INTO alert_payouts (payout_id, kind, programme, source_id, beneficiary_id,"
            " period, region_code, amount_fen, status, position) VALUES (:payout_id, :kind,"
            " :programme, :source_id, :beneficiary_id, :period, :region_code, :amount_fen,"
            " :status, :position)",
            payout,
        )
        found = post_rules.after_exit_or_death(tx, [payout])  # the row as just written
        if payout["kind"] == "stipend":
            found += post_rules.second_stipend(tx, payout)
            found += post_rules.income_over(tx, payout["beneficiary_id"], self.policies)
        record(tx, found, where)

    @handles(*_STATUS)
    def _payout_status(self, tx: Tx, event: Any, where: Position) -> None:
        status = _STATUS[event_type(event)]
        if status == "approved" and getattr(event, "final", True) is False:
            status = "first_approved"
        tx.write(
            "UPDATE alert_payouts SET status = :s WHERE payout_id = :id",
            {"s": status, "id": str(event.originator_id)},
        )

    @handles("Payout.ObjectionResolved")
    def _objection_resolved(self, tx: Tx, event: Any, where: Position) -> None:
        if event.upheld:
            tx.write(
                "UPDATE alert_payouts SET status = 'rejected' WHERE payout_id = :id",
                {"id": str(event.originator_id)},
            )

    @handles("TransportGrant.Claimed")
    def _grant(self, tx: Tx, event: Any, where: Position) -> None:
        grant_id = str(event.originator_id)
        tx.write(
            "INSERT INTO alert_grants (grant_id, person_id, period, region_code, work_province,"
            " position) VALUES (:id, :person, :period, :region, :province, :p)",
            {
                "id": grant_id,
                "person": str(event.person_id),
                "period": event.period,
                "region": event.region_code,
                "province": event.work_province,
                "p": where.position,
            },
        )
        self._source(tx, grant_id, event.started_on.isoformat())
        grant = tx.one("SELECT * FROM alert_grants WHERE grant_id = :id", {"id": grant_id})
        assert grant is not None  # noqa: S101 - inserted above
        person = tx.one(
            "SELECT * FROM alert_people WHERE person_id = :id", {"id": str(event.person_id)}
        )
        found = claim_rules.duplicate_grant(tx, grant) + claim_rules.same_province(grant, person)
        record(tx, [*found, *self._source_payouts(tx, grant_id)], where)

    @handles("SubsidyApplication.Submitted")
    def _application(self, tx: Tx, event: Any, where: Position) -> None:
        app_id = str(event.originator_id)
        counted = [str(b) for b in event.beneficiary_ids] or [str(event.applicant_id)]
        tx.write(
            "INSERT INTO alert_applications (application_id, programme, applicant_id,"
            " applicant_kind, region_code, year, months, per_person_fen, position)"
            " VALUES (:id, :programme, :applicant, :kind, :region, :year, :months, :each, :p)",
            {
                "id": app_id,
                "programme": event.programme,
                "applicant": str(event.applicant_id),
                "kind": event.applicant_kind,
                "region": event.region_code,
                "year": str(event.period_start.year),
                "months": event.months,
                "each": event.amount_fen // max(len(counted), 1),
                "p": where.position,
            },
        )
        for person_id in dict.fromkeys(counted):
            tx.write(
                "INSERT INTO alert_app_people (application_id, person_id) VALUES (:a, :p)",
                {"a": app_id, "p": person_id},
            )
        self._source(tx, app_id, event.period_start.isoformat())
        app = tx.one("SELECT * FROM alert_applications WHERE application_id = :id", {"id": app_id})
        assert app is not None  # noqa: S101 - inserted above
        policy = self.policies.in_force(tx, event.region_code, event.period_start)
        found = [
            *claim_rules.duplicate_application(tx, app, policy),
            *claim_rules.duplicate_broker(tx, app),
            *claim_rules.over_cap(tx, app, policy),
            *self._source_payouts(tx, app_id),
        ]
        record(tx, found, where)

    @handles("AlertCase.Resolved")
    def _resolved(self, tx: Tx, event: Any, where: Position) -> None:
        resolve(tx, str(event.alert_id), str(event.outcome), event.meta, where)

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _person(tx: Tx, person_id: str) -> Row:
        row = tx.one("SELECT * FROM alert_people WHERE person_id = :id", {"id": person_id})
        if row is None:  # pragma: no cover - facts about a person follow the registration
            raise LookupError(f"person {person_id} not in the alerts view")
        return row

    @staticmethod
    def _source(tx: Tx, source_id: str, starts_on: str) -> None:
        tx.write(
            "INSERT INTO alert_sources (source_id, starts_on) VALUES (:s, :d)"
            " ON CONFLICT (source_id) DO NOTHING",
            {"s": source_id, "d": starts_on},
        )

    @staticmethod
    def _source_payouts(tx: Tx, source_id: str) -> list[Finding]:
        """The payouts of a claim whose request was logged before the claim itself."""
        payouts = post_rules.payouts_where(tx, "p.source_id = :s", {"s": source_id})
        return post_rules.after_exit_or_death(tx, payouts)
