"""The FRAUD-* rules of DOMAIN.md, evaluated on the facts the alerts view keeps.

Each function looks at the facts around one subject and returns findings; the view calls
them when a fact arrives, whatever order the facts arrive in, so a rule fires
retroactively (a death recorded today flags the payouts already made for later months).
A payout counts while it is live: not rejected and not cancelled.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from disburse.domain.catalogue import select_in_force
from disburse.domain.errors import NotFoundError
from disburse.domain.money import yuan
from disburse.domain.rules import PolicyDocument
from disburse.readside.alerts import outliers
from disburse.readside.alerts.findings import Finding

if TYPE_CHECKING:
    from collections.abc import Iterable

    from disburse.readside.alerts.outliers import Group
    from disburse.readside.db import Row, Tx

LIVE_PAYOUT = "status NOT IN ('rejected', 'cancelled')"
LIVE_SOURCE = (
    "NOT EXISTS (SELECT 1 FROM alert_payouts x WHERE x.source_id = {src}"
    " AND x.status IN ('rejected', 'cancelled'))"
)


def period_start(period: str) -> date:
    """First day of a payout period: ``YYYY`` or ``YYYY-MM``."""
    year, _, month = period.partition("-")
    return date(int(year), int(month or 1), 1)


def month_of(day: str) -> str:
    """``YYYY-MM`` of an ISO date."""
    return day[:7]


class PolicyBook:
    """The catalogue versions published so far (as the view has seen them).

    Read once per transaction (a batch), and parsed again only when the view's
    ``alert_policy`` has changed since; :meth:`published` makes the transaction that
    adds a version read them again.
    """

    _MEMO = "alerts.policies"

    def __init__(self) -> None:
        #: The last versions parsed, with the (count, last position) they were read at.
        self._parsed: tuple[tuple[int, int], list[PolicyDocument]] | None = None

    def in_force(self, tx: Tx, region_code: str, on: date) -> PolicyDocument | None:
        """The version governing ``region_code`` on ``on``, or None if none does."""
        documents: list[PolicyDocument] | None = tx.memo.get(self._MEMO)
        if documents is None:
            documents = self._documents(tx)
            tx.memo[self._MEMO] = documents
        try:
            return select_in_force(documents, region_code, on)
        except NotFoundError:
            return None

    def published(self, tx: Tx) -> None:
        """A version was added in this transaction: the next look-up reads them again."""
        tx.memo.pop(self._MEMO, None)

    def _documents(self, tx: Tx) -> list[PolicyDocument]:
        marker_row = tx.one(
            "SELECT COUNT(*) AS n, COALESCE(MAX(position), 0) AS m FROM alert_policy"
        )
        marker = (int(marker_row["n"]), int(marker_row["m"])) if marker_row else (0, 0)
        parsed = self._parsed  # one read: another projector (a rebuild) may replace it
        if parsed is not None and parsed[0] == marker:
            return parsed[1]
        rows = tx.all("SELECT document FROM alert_policy ORDER BY position")
        documents = [PolicyDocument.model_validate_json(r["document"]) for r in rows]
        self._parsed = (marker, documents)
        return documents


# -- people and posts -------------------------------------------------------------------------


def ineligible_placement(
    tx: Tx, person: Row, post: Row, appointed_at: int, policy: PolicyDocument | None
) -> list[Finding]:
    """FRAUD-INELIGIBLE-PLACEMENT at an appointment: status, public payroll, second post."""
    pid, post_id = person["person_id"], post["post_id"]
    found: list[Finding] = []

    def finding(key: str, summary: str, evidence: Iterable[int]) -> None:
        found.append(
            Finding(
                "FRAUD-INELIGIBLE-PLACEMENT",
                "post",
                post_id,
                key,
                post["region_code"],
                pid,
                summary,
                tuple(evidence),
            )
        )

    if person["public_payroll"]:
        finding(
            f"payroll:{pid}:{post_id}",
            "the post holder is on a government payroll",
            (appointed_at, person["status_position"]),
        )
    if policy is not None and person["poverty_status"] not in {
        str(s) for s in policy.post.eligible_statuses
    }:
        finding(
            f"status:{pid}:{post_id}",
            f"a {person['poverty_status']} person is not eligible for a post under "
            f"{policy.version}",
            (appointed_at, person["status_position"]),
        )
    others = tx.all(
        "SELECT post_id, appointed_position FROM alert_tenures WHERE person_id = :p"
        " AND exited_on IS NULL ORDER BY appointed_position",
        {"p": pid},
    )
    if len(others) > 1:
        finding(
            f"second-post:{pid}",
            f"the person holds {len(others)} posts at once: "
            + ", ".join(r["post_id"] for r in others),
            (r["appointed_position"] for r in others),
        )
    return found


def payroll_holder(tx: Tx, person: Row) -> list[Finding]:
    """FRAUD-INELIGIBLE-PLACEMENT, retroactively: a holder later found on a public payroll."""
    if not person["public_payroll"]:
        return []
    rows = tx.all(
        "SELECT t.post_id, t.appointed_position, p.region_code FROM alert_tenures t"
        " JOIN alert_posts p ON p.post_id = t.post_id"
        " WHERE t.person_id = :p AND t.exited_on IS NULL",
        {"p": person["person_id"]},
    )
    return [
        Finding(
            "FRAUD-INELIGIBLE-PLACEMENT",
            "post",
            r["post_id"],
            f"payroll:{person['person_id']}:{r['post_id']}",
            r["region_code"],
            person["person_id"],
            "the post holder is on a government payroll",
            (r["appointed_position"], person["status_position"]),
        )
        for r in rows
    ]


def pay_outliers(tx: Tx, group: Group, policy: PolicyDocument) -> list[Finding]:
    """FRAUD-PAY-OUTLIER: a stipend further from the median of similar posts than allowed.

    Similar posts: same region code, same part-time flag (``group``, which the new post
    has just joined). The median is of the others (the lower median), and only once there
    are enough of them. Every post of the group is judged, but only those with no alert
    yet are read (:mod:`disburse.readside.alerts.outliers`): an alert raised for a post
    never changes, so judging it again would add nothing.
    """
    if group.posts - 1 < policy.alerts.outlier_min_peers:
        return []
    allowed = policy.post.uniform_deviation_pct
    return [
        Finding(
            "FRAUD-PAY-OUTLIER",
            "post",
            post["post_id"],
            f"outlier:{post['post_id']}",
            group.region_code,
            None,
            f"stipend {yuan(int(post['stipend_fen']))} yuan is more than {allowed}% from the "
            f"median {yuan(median)} yuan of {group.posts - 1} similar posts in "
            f"{group.region_code}",
            (int(post["created_position"]),),
        )
        for post, median in outliers.pending_outside(tx, group, allowed)
    ]


def shared_account(
    tx: Tx, account_hash: str, region_code: str, policy: PolicyDocument
) -> list[Finding]:
    """FRAUD-SHARED-ACCOUNT: one account on record for people of several households."""
    rows = tx.all(
        "SELECT person_id, household_id, account_position FROM alert_people"
        " WHERE account_hash = :h ORDER BY account_position",
        {"h": account_hash},
    )
    first_of_household: dict[str, int] = {}
    for row in rows:  # ordered by position: the first member of each household
        first_of_household.setdefault(row["household_id"], int(row["account_position"]))
    households = first_of_household
    if len(households) < policy.alerts.shared_account_households:
        return []
    return [
        Finding(
            "FRAUD-SHARED-ACCOUNT",
            "account",
            account_hash[:16],
            f"account:{account_hash}",
            region_code,
            None,
            f"one bank account is on record for {len(rows)} people of {len(households)} "
            "households: " + ", ".join(r["person_id"] for r in rows),
            tuple(sorted(households.values())),  # one per household: the same households are
            # the same evidence, so a dismissed alert returns only for a new household
        )
    ]


# -- payouts ------------------------------------------------------------------------------------


def payouts_where(tx: Tx, condition: str, params: dict[str, Any]) -> list[Row]:
    """Live payouts matching a condition, with their source's start date when known."""
    return tx.all(
        "SELECT p.*, s.starts_on FROM alert_payouts p"
        " LEFT JOIN alert_sources s ON s.source_id = p.source_id"
        f" WHERE p.{LIVE_PAYOUT} AND {condition} ORDER BY p.position",
        params,
    )


#: What :func:`after_exit_or_death` needs of a payout's payee, post and source, in one
#: query (one round trip): the death, the exit from the post (a stipend's source), and the
#: start of the source (a grant's or an application's).
_PAYEE_FACTS = (
    "SELECT pe.died_on, pe.death_position, t.exited_on, t.exit_position, s.starts_on"
    " FROM (SELECT 1 AS one) AS o"
    " LEFT JOIN alert_people pe ON pe.person_id = :p"
    " LEFT JOIN alert_tenures t ON t.post_id = :src AND t.person_id = :p"
    " AND t.exited_on IS NOT NULL"
    " LEFT JOIN alert_sources s ON s.source_id = :src"
)


def after_exit_or_death(tx: Tx, payouts: Iterable[Row]) -> list[Finding]:
    """FRAUD-PAID-AFTER-EXIT for stipends, FRAUD-DECEASED for every other payout.

    A stipend for a month after the holder's exit month or death month is one
    FRAUD-PAID-AFTER-EXIT alert per payout, whichever facts show it. Any other payout
    (grant, application) to a person who died before its period started (the work start
    of a grant, the period start of an application) is FRAUD-DECEASED. One alert per
    payout: the stipend rule is the specific one.
    """
    found = []
    for payout in payouts:
        pid, month = payout["beneficiary_id"], payout["period"]
        facts: list[tuple[str, int]] = []
        known = tx.one(_PAYEE_FACTS, {"p": pid, "src": payout["source_id"]})
        assert known is not None  # noqa: S101 - one row, whatever the joins find
        died_on = known["died_on"]
        if payout["kind"] == "stipend":
            exited_on = known["exited_on"]
            if exited_on is not None and month > month_of(exited_on):
                facts.append((f"left on {exited_on}", int(known["exit_position"])))
            if died_on is not None and month > month_of(died_on):
                facts.append((f"died on {died_on}", int(known["death_position"])))
            rule, summary = "FRAUD-PAID-AFTER-EXIT", f"stipend for {month}; the holder "
        else:
            starts = known["starts_on"] or period_start(month).isoformat()
            if died_on is not None and died_on < starts:
                facts.append((f"died on {died_on}", int(known["death_position"])))
            rule, summary = "FRAUD-DECEASED", f"{payout['programme']} from {starts}; the payee "
        if facts:
            found.append(
                Finding(
                    rule,
                    "payout",
                    payout["payout_id"],
                    f"payout:{payout['payout_id']}",
                    payout["region_code"],
                    pid,
                    summary + " and ".join(text for text, _ in facts),
                    (int(payout["position"]), *(position for _, position in facts)),
                )
            )
    return found


def second_stipend(tx: Tx, payout: Row) -> list[Finding]:
    """FRAUD-OVER-CAP (month limit): two stipends for one month from posts held at once.

    Handing over mid-month (exit from one post, a later start at the next) is allowed;
    a post with no known tenure counts as held.
    """
    rows = tx.all(  # each with its holder's tenure of the post, if known (one at most)
        "SELECT p.source_id, p.position, t.term_start, t.exited_on AS tenure_exited_on"
        " FROM alert_payouts p LEFT JOIN alert_tenures t"
        " ON t.post_id = p.source_id AND t.person_id = p.beneficiary_id"
        f" WHERE p.{LIVE_PAYOUT} AND p.kind = 'stipend' AND p.beneficiary_id = :b"
        " AND p.period = :m ORDER BY p.position",
        {"b": payout["beneficiary_id"], "m": payout["period"]},
    )
    spans = []
    for row in rows:
        start = row["term_start"] or "0000-00-00"  # a tenure always has its start
        end = row["tenure_exited_on"] or "9999-99-99"
        spans.append((start, end, row))
    overlapping = [
        row
        for start, end, row in spans
        if any(o is not row and start <= o_end and o_start <= end for o_start, o_end, o in spans)
    ]
    if len({r["source_id"] for r in overlapping}) < 2:  # noqa: PLR2004 - two posts
        return []
    return [
        Finding(
            "FRAUD-OVER-CAP",
            "person",
            payout["beneficiary_id"],
            f"stipend-month:{payout['beneficiary_id']}:{payout['period']}",
            payout["region_code"],
            payout["beneficiary_id"],
            f"{len(overlapping)} stipends for {payout['period']} from posts held at the same "
            "time: one post, one stipend a month",
            tuple(int(r["position"]) for r in overlapping),
        )
    ]


def income_over(tx: Tx, person_id: str, policies: PolicyBook) -> list[Finding]:
    """FRAUD-INCOME-OVER: a part-time holder paid despite income over the threshold.

    Counts the stipends for months from the first month whose reported income exceeded
    the catalogue's threshold (004 §16).
    """
    tenures = tx.all(
        "SELECT t.post_id, t.term_start, t.exited_on, p.region_code FROM alert_tenures t"
        " JOIN alert_posts p ON p.post_id = t.post_id"
        " WHERE t.person_id = :p AND p.part_time = 1",
        {"p": person_id},
    )
    found = []
    for tenure in tenures:
        incomes = tx.all(
            "SELECT month, amount_fen, position FROM alert_incomes"
            " WHERE person_id = :p AND month >= :start ORDER BY month",
            {"p": person_id, "start": month_of(tenure["term_start"])},
        )
        over = []
        for income in incomes:
            policy = policies.in_force(tx, tenure["region_code"], period_start(income["month"]))
            threshold = policy.post.income_exit_threshold_fen if policy else None
            if isinstance(threshold, int) and int(income["amount_fen"]) > threshold:
                over.append(income)
        if not over:
            continue
        paid = payouts_where(
            tx,
            "p.kind = 'stipend' AND p.source_id = :post AND p.beneficiary_id = :b"
            " AND p.period >= :m",
            {"post": tenure["post_id"], "b": person_id, "m": over[0]["month"]},
        )
        if paid:
            found.append(
                Finding(
                    "FRAUD-INCOME-OVER",
                    "post",
                    tenure["post_id"],
                    f"income:{person_id}:{tenure['post_id']}",
                    tenure["region_code"],
                    person_id,
                    f"income of {yuan(int(over[0]['amount_fen']))} yuan in {over[0]['month']} "
                    f"is over the threshold, yet {len(paid)} stipend(s) from then on",
                    (*(int(o["position"]) for o in over), *(int(p["position"]) for p in paid)),
                )
            )
    return found
