"""The beneficiary registry: a person and the facts about them."""

from __future__ import annotations

import re
import uuid
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import ConflictError, InvalidInputError
from disburse.domain.meta import Meta
from disburse.domain.money import check_amount
from disburse.domain.months import Month
from disburse.domain.regions import PROVINCE_CODES, check_region_code, province_of

#: What the identity fields of a person read as once the identity was erased.
ERASED = "[erased]"
#: The identity fields of a person's events (``Aggregate.Event`` name -> fields): stored
#: sealed under the person's own key, and unreadable (:data:`ERASED`) once it is destroyed.
IDENTITY_FIELDS: dict[str, tuple[str, ...]] = {
    "Person.Registered": ("resident_id", "resident_id_masked", "name", "bank_account"),
    "Person.BankAccountChanged": ("bank_account",),
}
PERSON_NAMESPACE = uuid.UUID("8f6c1f0e-3a51-4f55-9a0e-6c1f52a8e001")
_ACCOUNT = re.compile(r"^[0-9]{8,32}$")
_NAME_MAX = 64


class PovertyStatus(StrEnum):
    """Poverty status of a person (脱贫人口 / 监测对象 / 农村低收入人口 / none)."""

    LIFTED = "lifted"
    MONITORED = "monitored"
    LOW_INCOME = "low_income"
    NONE = "none"


class LabourCapacity(StrEnum):
    """Labour capacity: full, weak (弱劳力) or half (半劳力)."""

    FULL = "full"
    WEAK = "weak"
    HALF = "half"


def person_id_for(id_hash: str) -> UUID:
    """The person id: derived from the keyed hash of the resident ID, never from the ID itself."""
    return uuid.uuid5(PERSON_NAMESPACE, id_hash)


def check_account(account: str, field: str = "bank_account") -> str:
    """A bank account number: 8 to 32 digits."""
    if not _ACCOUNT.fullmatch(account):
        raise InvalidInputError("PERSON-ACCOUNT", "a bank account is 8 to 32 digits", field=field)
    return account


def check_name(name: str) -> str:
    """A non-empty name of reasonable length."""
    name = name.strip()
    if not name or len(name) > _NAME_MAX:
        raise InvalidInputError("PERSON-NAME", "name must be 1 to 64 characters", field="name")
    return name


class Person(Aggregate):
    """A beneficiary, keyed by the keyed hash of their resident ID."""

    @staticmethod
    def create_id(id_hash: str) -> UUID:
        """Deterministic: registering the same resident ID twice names the same person."""
        return person_id_for(id_hash)

    @event("Registered")
    def __init__(
        self,
        *,
        id_hash: str,
        resident_id: str,
        resident_id_masked: str,
        birth_date: date,
        name: str,
        home_region: str,
        poverty_status: PovertyStatus,
        labour_capacity: LabourCapacity,
        household_id: str,
        bank_account: str,
        public_payroll: bool,
        meta: Meta,
    ) -> None:
        self.id_hash = id_hash
        self.resident_id = resident_id
        self.resident_id_masked = resident_id_masked
        self.birth_date = birth_date
        self.name = name
        self.home_region = home_region
        self.poverty_status = PovertyStatus(poverty_status)
        self.labour_capacity = LabourCapacity(labour_capacity)
        self.household_id = household_id
        self.bank_account = bank_account
        self.public_payroll = public_payroll
        self.registered_via = meta.client_id
        self.erased_on: date | None = None
        self.died_on: date | None = None
        self.incomes: dict[str, int] = {}
        self.employments: list[dict[str, Any]] = []
        self.unemployed_on: list[date] = []  # registrations as unemployed (失业登记)

    @property
    def home_province(self) -> str:
        """The 2-digit province of the home region."""
        return province_of(self.home_region)

    @property
    def is_deceased(self) -> bool:
        """Whether a death has been recorded."""
        return self.died_on is not None

    def alive_in(self, month: Month) -> bool:
        """Whether the person was alive for at least part of ``month``."""
        return self.died_on is None or self.died_on >= month.first_day

    def income_in(self, month: Month) -> int | None:
        """Reported income for ``month`` in fen, if any."""
        return self.incomes.get(str(month))

    @property
    def is_erased(self) -> bool:
        """Whether the identity was erased (the person key destroyed)."""
        return self.erased_on is not None

    def require_identity(self) -> None:
        """Refuse to act for a person whose identity was erased: nobody can be paid by it."""
        if self.erased_on is not None:
            raise ConflictError(
                "PERSON-ERASED",
                f"the identity of person {self.id} was erased on {self.erased_on.isoformat()}",
                field="person_id",
            )

    # -- commands ---------------------------------------------------------------------------

    def erase_identity(self, *, erased_on: date, legal_basis: str, meta: Meta) -> None:
        """Record that the identity is erased (the person key is destroyed after this is saved)."""
        self.require_identity()
        if not legal_basis.strip():
            raise InvalidInputError(
                "PERSON-ERASURE-BASIS", "name the legal basis of the erasure", field="legal_basis"
            )
        if not (meta.reason or "").strip():
            raise InvalidInputError(
                "PERSON-ERASURE-BASIS", "say why the identity is erased", field="reason"
            )
        self._identity_erased(erased_on=erased_on, legal_basis=legal_basis.strip(), meta=meta)

    @event("IdentityErased")
    def _identity_erased(self, *, erased_on: date, legal_basis: str, meta: Meta) -> None:
        self.erased_on = erased_on
        self.resident_id = self.resident_id_masked = self.name = self.bank_account = ERASED

    def record_death(self, *, died_on: date, evidence: str, meta: Meta) -> None:
        """Record the date of death (from civil registration or a family report)."""
        self.require_identity()
        if self.died_on is not None:
            raise ConflictError(
                "PERSON-DEATH",
                f"death already recorded on {self.died_on.isoformat()}",
                field="died_on",
            )
        if died_on < self.birth_date:
            raise InvalidInputError("PERSON-DEATH", "date of death before birth", field="died_on")
        self._death_recorded(died_on=died_on, evidence=evidence, meta=meta)

    @event("DeathRecorded")
    def _death_recorded(self, *, died_on: date, evidence: str, meta: Meta) -> None:
        self.died_on = died_on

    def report_income(self, *, month: Month, amount_fen: int, source: str, meta: Meta) -> None:
        """Record income earned in a month (e.g. flexible work beside a part-time post)."""
        self.require_identity()
        check_amount(amount_fen, allow_zero=True)
        self._income_reported(month=str(month), amount_fen=amount_fen, source=source, meta=meta)

    @event("IncomeReported")
    def _income_reported(self, *, month: str, amount_fen: int, source: str, meta: Meta) -> None:
        self.incomes[month] = amount_fen

    def change_status(
        self,
        *,
        poverty_status: PovertyStatus | None = None,
        labour_capacity: LabourCapacity | None = None,
        public_payroll: bool | None = None,
        effective_on: date,
        meta: Meta,
    ) -> None:
        """Change poverty status, labour capacity or public-payroll flag."""
        self.require_identity()
        if poverty_status is None and labour_capacity is None and public_payroll is None:
            raise InvalidInputError("PERSON-STATUS", "nothing to change", field="poverty_status")
        self._status_changed(
            poverty_status=None if poverty_status is None else PovertyStatus(poverty_status),
            labour_capacity=None if labour_capacity is None else LabourCapacity(labour_capacity),
            public_payroll=public_payroll,
            effective_on=effective_on,
            meta=meta,
        )

    @event("StatusChanged")
    def _status_changed(
        self,
        *,
        poverty_status: PovertyStatus | None,
        labour_capacity: LabourCapacity | None,
        public_payroll: bool | None,
        effective_on: date,
        meta: Meta,
    ) -> None:
        if poverty_status is not None:
            self.poverty_status = PovertyStatus(poverty_status)
        if labour_capacity is not None:
            self.labour_capacity = LabourCapacity(labour_capacity)
        if public_payroll is not None:
            self.public_payroll = public_payroll

    def change_bank_account(self, *, bank_account: str, meta: Meta) -> None:
        """Replace the account payments go to (one-card rule: the person's own account)."""
        self.require_identity()
        check_account(bank_account)
        if bank_account == self.bank_account:
            raise ConflictError(
                "PERSON-ACCOUNT", "this is already the account on record", field="bank_account"
            )
        self._bank_account_changed(bank_account=bank_account, meta=meta)

    @event("BankAccountChanged")
    def _bank_account_changed(self, *, bank_account: str, meta: Meta) -> None:
        self.bank_account = bank_account

    def record_employment(
        self, *, province_code: str, employer: str, started_on: date, meta: Meta
    ) -> None:
        """Record employment (used to check cross-province transport grants)."""
        self.require_identity()
        if province_code not in PROVINCE_CODES:
            raise InvalidInputError(
                "REGION-CODE", f"{province_code!r} is not a province code", field="province_code"
            )
        if not employer.strip():
            raise InvalidInputError("PERSON-EMPLOYMENT", "employer is required", field="employer")
        self._employment_recorded(
            province_code=province_code, employer=employer.strip(), started_on=started_on, meta=meta
        )

    @event("EmploymentRecorded")
    def _employment_recorded(
        self, *, province_code: str, employer: str, started_on: date, meta: Meta
    ) -> None:
        ended_on = min((d for d in self.unemployed_on if d >= started_on), default=None)
        self.employments.append(
            {
                "province_code": province_code,
                "employer": employer,
                "started_on": started_on,
                "ended_on": ended_on,
                "request_id": meta.request_id,  # where the fact came from (a file's line)
            }
        )

    def has_employment(self, *, province_code: str, employer: str, started_on: date) -> bool:
        """Whether this employment is on record already (a list sent again adds nothing)."""
        return any(
            (e["province_code"], e["employer"], e["started_on"])
            == (province_code, employer.strip(), started_on)
            for e in self.employments
        )

    def register_unemployment(self, *, registered_on: date, evidence: str, meta: Meta) -> None:
        """Record a registration as unemployed (失业登记): it ends the work on record before it."""
        self.require_identity()
        if registered_on < self.birth_date:
            raise InvalidInputError(
                "PERSON-UNEMPLOYMENT", "registered before birth", field="registered_on"
            )
        if registered_on in self.unemployed_on:
            raise ConflictError(
                "PERSON-UNEMPLOYMENT",
                f"unemployment already registered on {registered_on.isoformat()}",
                field="registered_on",
            )
        self._unemployment_registered(registered_on=registered_on, evidence=evidence, meta=meta)

    @event("UnemploymentRegistered")
    def _unemployment_registered(self, *, registered_on: date, evidence: str, meta: Meta) -> None:
        self.unemployed_on.append(registered_on)
        for employment in self.employments:
            if employment["started_on"] <= registered_on and (
                employment.get("ended_on") is None or employment["ended_on"] > registered_on
            ):
                employment["ended_on"] = registered_on


def check_registration(
    *, name: str, home_region: str, household_id: str, bank_account: str
) -> tuple[str, str, str, str]:
    """Validate the plain fields of a registration; returns them normalised."""
    if not household_id.strip():
        raise InvalidInputError(
            "PERSON-HOUSEHOLD", "household id is required", field="household_id"
        )
    return (
        check_name(name),
        check_region_code(home_region, field="home_region"),
        household_id.strip(),
        check_account(bank_account),
    )
