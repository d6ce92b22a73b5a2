"""Rural public-welfare posts (乡村公益性岗位): create, appoint, insure, attend, exit.

Over 400 lines on purpose: one aggregate per module; the rules that check a post's
term, holder and attendance live beside it in ``post_checks.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import ConflictError, InvalidInputError, RuleViolationError
from disburse.domain.meta import Meta
from disburse.domain.money import check_amount, prorate, yuan
from disburse.domain.months import Month, add_months
from disburse.domain.person import Person
from disburse.domain.post_checks import check_eligible, check_stipend_floor
from disburse.domain.rules import PolicyDocument, require

MAX_DAYS_IN_MONTH = 31


class ExitReason(StrEnum):
    """Why a holder left the post (有序退岗)."""

    CONTRACT_END = "contract_end"
    INCOME_OVER_THRESHOLD = "income_over_threshold"
    VOLUNTARY = "voluntary"
    DEATH = "death"
    DISMISSAL = "dismissal"


class InsuranceKind(StrEnum):
    """Work-injury insurance or personal accident insurance (POST-INSURANCE)."""

    WORK_INJURY = "work_injury"
    ACCIDENT = "accident"


@dataclass(frozen=True)
class Stipend:
    """What an attendance record entitles the holder to, with its explanation."""

    month: Month
    person_id: UUID
    amount_fen: int
    days_worked: int
    days_required: int
    policy_version: str


class Post(Aggregate):
    """A public post at a site, held by at most one person at a time."""

    @event("Created")
    def __init__(
        self,
        *,
        site_id: UUID,
        region_code: str,
        title: str,
        stipend_fen: int,
        fund_id: UUID,
        part_time: bool,
        meta: Meta,
    ) -> None:
        self.site_id = site_id
        self.region_code = region_code
        self.title = title
        self.stipend_fen = stipend_fen
        self.fund_id = fund_id
        self.part_time = part_time
        self.holder_id: UUID | None = None
        self.terms: list[tuple[date, date]] = []
        self.exited_on: date | None = None
        self.exit_reason: ExitReason | None = None
        self.insurance: list[tuple[date, date]] = []
        self.attendance: dict[str, int] = {}
        self.sheets: dict[str, tuple[int, int]] = {}
        self.sheet_holders: dict[str, UUID] = {}  # whose attendance each sheet is

    @classmethod
    def create(
        cls,
        *,
        site_id: UUID,
        region_code: str,
        title: str,
        stipend_fen: int,
        fund_id: UUID,
        part_time: bool,
        policy: PolicyDocument,
        meta: Meta,
    ) -> Post:
        """Set up a post; its stipend must respect the catalogue's floor."""
        if not title.strip():
            raise InvalidInputError("POST-TITLE", "a post needs a title", field="title")
        check_amount(stipend_fen, field="stipend_fen")
        check_stipend_floor(stipend_fen, policy)
        return cls(
            site_id=site_id,
            region_code=region_code,
            title=title.strip(),
            stipend_fen=stipend_fen,
            fund_id=fund_id,
            part_time=part_time,
            meta=meta.because("POST-STIPEND-FLOOR", policy_version=policy.version),
        )

    # -- state ------------------------------------------------------------------------------

    @property
    def is_held(self) -> bool:
        """Someone holds the post now."""
        return self.holder_id is not None and self.exited_on is None

    def covered_by_term(self, month: Month) -> bool:
        """Some term of the current holder overlaps ``month``."""
        return any(s <= month.last_day and e >= month.first_day for s, e in self.terms)

    def insured_in(self, month: Month) -> bool:
        """Some insurance record covers part of ``month``."""
        return any(s <= month.last_day and e >= month.first_day for s, e in self.insurance)

    # -- appointment ------------------------------------------------------------------------

    def appoint(
        self,
        *,
        person: Person,
        term_start: date,
        term_end: date,
        policy: PolicyDocument,
        meta: Meta,
    ) -> None:
        """Appoint ``person`` for one term (POST-ELIG, POST-TERM, POST-STIPEND-FLOOR)."""
        if self.is_held:
            raise ConflictError(
                "POST-OCCUPIED", f"post is held by {self.holder_id}; exit first", field="post_id"
            )
        self._check_appointable(person, term_start, term_end, policy)
        priority = person.labour_capacity in policy.post.priority_labour
        self._appointed(
            person_id=person.id,
            term_start=term_start,
            term_end=term_end,
            priority_labour=priority,
            meta=meta.because(
                "POST-ELIG",
                "POST-TERM",
                "POST-STIPEND-FLOOR",
                "POST-ONE-PERSON-ONE-POST",
                policy_version=policy.version,
            ),
        )

    @event("Appointed")
    def _appointed(
        self,
        *,
        person_id: UUID,
        term_start: date,
        term_end: date,
        priority_labour: bool,
        meta: Meta,
    ) -> None:
        self.holder_id = person_id
        self.terms = [(term_start, term_end)]
        self.insurance = []
        self.exited_on = None
        self.exit_reason = None

    def renew(
        self,
        *,
        person: Person,
        term_start: date,
        term_end: date,
        policy: PolicyDocument,
        meta: Meta,
    ) -> None:
        """A new term for the same holder; eligibility is checked again."""
        if not self.is_held or person.id != self.holder_id:
            raise ConflictError("POST-TERM", "only the current holder's term can be renewed")
        if term_start <= self.terms[-1][1]:
            raise RuleViolationError(
                "POST-TERM",
                f"a new term starts after the current one ends ({self.terms[-1][1].isoformat()})",
                field="term_start",
            )
        self._check_appointable(person, term_start, term_end, policy)
        self._term_renewed(
            term_start=term_start,
            term_end=term_end,
            meta=meta.because("POST-ELIG", "POST-TERM", policy_version=policy.version),
        )

    @event("TermRenewed")
    def _term_renewed(self, *, term_start: date, term_end: date, meta: Meta) -> None:
        self.terms.append((term_start, term_end))

    def _check_appointable(
        self, person: Person, term_start: date, term_end: date, policy: PolicyDocument
    ) -> None:
        """What an appointment and a renewal both check: POST-ELIG, POST-TERM, the floor."""
        check_eligible(person, policy)
        self._check_term(term_start, term_end, policy)
        check_stipend_floor(self.stipend_fen, policy)

    @staticmethod
    def _check_term(term_start: date, term_end: date, policy: PolicyDocument) -> None:
        if term_end < term_start:
            raise InvalidInputError("POST-TERM", "term ends before it starts", field="term_end")
        months = policy.post.max_term_months
        anniversary = add_months(term_start, months)
        if anniversary.day < term_start.day:  # e.g. 29 Feb: the anniversary is 1 March
            anniversary += timedelta(days=1)
        last = anniversary - timedelta(days=1)
        if term_end > last:
            raise RuleViolationError(
                "POST-TERM",
                f"a term is at most {months} months: from {term_start.isoformat()} "
                f"it must end by {last.isoformat()}; renewal is a new term",
                field="term_end",
            )

    # -- insurance --------------------------------------------------------------------------

    def record_insurance(
        self,
        *,
        kind: InsuranceKind,
        policy_number: str,
        insurer: str,
        valid_from: date,
        valid_to: date,
        meta: Meta,
    ) -> None:
        """Record the holder's work-injury or accident insurance (POST-INSURANCE)."""
        if not self.is_held:
            raise ConflictError("POST-VACANT", "the post has no holder to insure")
        if valid_to < valid_from:
            raise InvalidInputError("POST-INSURANCE", "cover ends before it starts", "valid_to")
        if not policy_number.strip() or not insurer.strip():
            raise InvalidInputError(
                "POST-INSURANCE", "policy number and insurer are required", field="policy_number"
            )
        self._insurance_recorded(
            kind=InsuranceKind(kind),
            policy_number=policy_number.strip(),
            insurer=insurer.strip(),
            valid_from=valid_from,
            valid_to=valid_to,
            meta=meta.because("POST-INSURANCE"),
        )

    @event("InsuranceRecorded")
    def _insurance_recorded(
        self,
        *,
        kind: InsuranceKind,
        policy_number: str,
        insurer: str,
        valid_from: date,
        valid_to: date,
        meta: Meta,
    ) -> None:
        self.insurance.append((valid_from, valid_to))

    # -- attendance and stipend -------------------------------------------------------------

    def log_attendance(
        self, *, month: Month, days_worked: int, days_required: int, meta: Meta
    ) -> bool:
        """Log the month's attendance sheet; the monthly run requests the stipend from it.

        Logging the same sheet again changes nothing (returns False); a different sheet
        for a month already logged or paid is refused with POST-ATTENDANCE-ONCE.
        """
        self._check_days(days_worked, days_required)
        if self.holder_id is None:
            raise ConflictError("POST-VACANT", "the post has no holder", "post_id")
        key = str(month)
        if self.sheets.get(key) == (days_worked, days_required):
            return False
        if not self.covered_by_term(month):  # a sheet names the current holder's month
            raise RuleViolationError("POST-TERM", f"{month} is outside the holder's term", "month")
        if key in self.sheets:
            raise ConflictError(
                "POST-ATTENDANCE-ONCE",
                f"a different attendance for {month} is already recorded",
                "month",
            )
        self._attendance_logged(
            month=key,
            person_id=self.holder_id,
            days_worked=days_worked,
            days_required=days_required,
            meta=meta,
        )
        return True

    @event("AttendanceLogged")
    def _attendance_logged(
        self, *, month: str, person_id: UUID, days_worked: int, days_required: int, meta: Meta
    ) -> None:
        self.sheets[month] = (days_worked, days_required)
        self.sheet_holders[month] = person_id

    def request_stipend(
        self, *, month: Month, person: Person, policy: PolicyDocument, meta: Meta
    ) -> Stipend:
        """The stipend of the sheet logged for ``month`` (the monthly run requests it).

        Never for another person than the one the sheet was logged for: once a successor
        holds the post, the leaver's unrequested sheet is refused (POST-HOLDER-CHANGED).
        """
        key = str(month)
        sheet = self.sheets.get(key)
        if sheet is None:
            raise RuleViolationError(
                "POST-ATTENDANCE", f"no attendance is logged for {month}", field="month"
            )
        logged_for = self.sheet_holders[key]
        if logged_for != self.holder_id and key not in self.attendance:
            raise RuleViolationError(
                "POST-HOLDER-CHANGED",
                f"the attendance for {month} was logged for {logged_for}, who no longer holds "
                "the post; run the month before appointing the next holder",
                field="month",
            )
        days_worked, days_required = sheet
        return self.record_attendance(
            month=month,
            days_worked=days_worked,
            days_required=days_required,
            person=person,
            policy=policy,
            meta=meta,
        )

    def record_attendance(
        self,
        *,
        month: Month,
        days_worked: int,
        days_required: int,
        person: Person,
        policy: PolicyDocument,
        meta: Meta,
    ) -> Stipend:
        """Record a month's attendance; returns the stipend it entitles the holder to."""
        self._check_days(days_worked, days_required)
        logged = self.sheets.get(str(month))
        paid = str(month) in self.attendance  # refused below as already recorded
        if logged is not None and not paid and logged != (days_worked, days_required):
            raise ConflictError(
                "POST-ATTENDANCE-ONCE",
                f"the attendance logged for {month} is {logged[0]} of {logged[1]} days",
                "days_worked",
            )
        self._check_can_pay(month, person, policy)
        if policy.post.prorate_by_attendance:
            amount = prorate(self.stipend_fen, days_worked, days_required)
        else:
            amount = self.stipend_fen if days_worked > 0 else 0
        self._attendance_recorded(
            month=str(month),
            person_id=person.id,
            days_worked=days_worked,
            days_required=days_required,
            stipend_fen=amount,
            meta=meta.because(
                "POST-TERM",
                "POST-INSURANCE",
                "POST-EXIT-INCOME",
                "FRAUD-PAID-AFTER-EXIT",
                policy_version=policy.version,
            ),
        )
        return Stipend(month, person.id, amount, days_worked, days_required, policy.version)

    @event("AttendanceRecorded")
    def _attendance_recorded(
        self,
        *,
        month: str,
        person_id: UUID,
        days_worked: int,
        days_required: int,
        stipend_fen: int,
        meta: Meta,
    ) -> None:
        self.attendance[month] = stipend_fen
        self.sheets[month] = (days_worked, days_required)
        self.sheet_holders[month] = person_id

    @staticmethod
    def _check_days(days_worked: int, days_required: int) -> None:
        if not 1 <= days_required <= MAX_DAYS_IN_MONTH:
            raise InvalidInputError(
                "POST-ATTENDANCE", "days required is 1 to 31", field="days_required"
            )
        if not 0 <= days_worked <= days_required:
            raise InvalidInputError(
                "POST-ATTENDANCE", "days worked is 0 to days required", field="days_worked"
            )

    def _check_can_pay(self, month: Month, person: Person, policy: PolicyDocument) -> None:
        if self.holder_id is None or person.id != self.holder_id:
            raise ConflictError("POST-VACANT", "attendance is for the post's holder", "person_id")
        if str(month) in self.attendance:
            raise ConflictError(
                "POST-ATTENDANCE-ONCE", f"attendance for {month} is already recorded", "month"
            )
        if self.exited_on is not None and month > Month.of(self.exited_on):
            raise RuleViolationError(
                "FRAUD-PAID-AFTER-EXIT",
                f"the holder left on {self.exited_on.isoformat()}; no stipend for {month}",
                field="month",
            )
        if not person.alive_in(month):
            died = person.died_on.isoformat() if person.died_on else "?"
            raise RuleViolationError(
                "FRAUD-PAID-AFTER-EXIT",
                f"the holder died on {died}; no stipend for {month}",
                "month",
            )
        if not self.covered_by_term(month):
            raise RuleViolationError("POST-TERM", f"{month} is outside the holder's term", "month")
        if not self.insured_in(month):
            raise RuleViolationError(
                "POST-INSURANCE", f"no work-injury or accident insurance covers {month}", "month"
            )
        self._check_income(month, person, policy)

    def _check_income(self, month: Month, person: Person, policy: PolicyDocument) -> None:
        """POST-EXIT-INCOME (004 §16): part-time holders whose flexible income is too high."""
        if not self.part_time:
            return
        start = Month.of(self.terms[0][0])
        reported = {
            m: a for m, a in person.incomes.items() if str(start) <= m <= str(month) and a > 0
        }
        if not reported:
            return
        threshold = require(
            policy.post.income_exit_threshold_fen,
            rule_id="POST-EXIT-INCOME",
            what="the monthly income threshold for post holders",
            version=policy.version,
        )
        over = sorted(m for m, amount in reported.items() if amount > threshold)
        if over:
            raise RuleViolationError(
                "POST-EXIT-INCOME",
                f"income of {yuan(reported[over[0]])} yuan in {over[0]} exceeds the threshold "
                f"of {yuan(threshold)} yuan; the holder must exit the post",
                field="month",
            )

    # -- exit -------------------------------------------------------------------------------

    def exit(self, *, reason: ExitReason, effective_on: date, note: str, meta: Meta) -> UUID:
        """The holder leaves the post; returns the person who left."""
        if self.holder_id is None or not self.is_held:
            raise ConflictError("POST-VACANT", "the post has no holder")
        if effective_on < self.terms[0][0]:
            raise InvalidInputError(
                "POST-EXIT", "exit cannot precede the appointment", field="effective_on"
            )
        holder = self.holder_id
        self._exited(
            person_id=holder,
            reason=ExitReason(reason),
            effective_on=effective_on,
            meta=meta.because(reason=note or None),
        )
        return holder

    @event("Exited")
    def _exited(
        self, *, person_id: UUID, reason: ExitReason, effective_on: date, meta: Meta
    ) -> None:
        self.exited_on = effective_on
        self.exit_reason = ExitReason(reason)
