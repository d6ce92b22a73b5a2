"""Beneficiary registry commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.domain.errors import ConflictError, RegisteredElsewhereError
from disburse.domain.horizon import check_happened
from disburse.domain.identity import birth_date, mask_resident_id, normalise_resident_id
from disburse.domain.person import (
    LabourCapacity,
    Person,
    PovertyStatus,
    check_registration,
    person_id_for,
)
from disburse.domain.regions import within

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date
    from uuid import UUID

    from disburse.access.context import Context
    from disburse.domain.months import Month
    from disburse.persistence.batching import Changes
    from disburse.persistence.keys import KeyRing
    from disburse.persistence.store import LedgerStore


@dataclass(frozen=True)
class Registration:
    """The person registered, and whether this call created them."""

    person_id: UUID
    created: bool


class People:
    """Register people and record facts about them."""

    def __init__(self, store: LedgerStore, keys: KeyRing, today: Callable[[], date]) -> None:
        self._store = store
        self._keys = keys
        self._today = today

    def id_for(self, resident_id: str) -> UUID:
        """The person id a resident ID maps to (validates the ID first)."""
        return person_id_for(self._keys.resident_id_hash(normalise_resident_id(resident_id)))

    def register(
        self,
        ctx: Context,
        *,
        resident_id: str,
        name: str,
        home_region: str,
        poverty_status: PovertyStatus,
        labour_capacity: LabourCapacity,
        household_id: str,
        bank_account: str,
        public_payroll: bool = False,
        scope: str | None = None,
    ) -> Registration:
        """Register a person; the same resident ID again returns the same person.

        ``scope``: the region prefix the caller acts for. A person already registered
        outside it raises ``RegisteredElsewhereError``, decided in the same transaction as
        the registration, so a race between two regions answers the loser the same way.
        """
        rid = normalise_resident_id(resident_id)
        name, home_region, household_id, bank_account = check_registration(
            name=name, home_region=home_region, household_id=household_id, bank_account=bank_account
        )
        id_hash = self._keys.resident_id_hash(rid)

        def decide(changes: Changes) -> Registration:
            existing = self._store.find(Person, person_id_for(id_hash))
            if existing is not None:
                if scope is not None and not within(existing.home_region, scope):
                    raise RegisteredElsewhereError("resident ID", "resident_id")
                existing.require_identity()
                return Registration(existing.id, created=False)
            person = Person(
                id_hash=id_hash,
                resident_id=rid,
                resident_id_masked=mask_resident_id(rid),
                birth_date=birth_date(rid),
                name=name,
                home_region=home_region,
                poverty_status=PovertyStatus(poverty_status),
                labour_capacity=LabourCapacity(labour_capacity),
                household_id=household_id,
                bank_account=bank_account,
                public_payroll=public_payroll,
                meta=ctx.meta(),
            )
            changes.add(person)
            return Registration(person.id, created=True)

        return self._store.transact(decide)

    def erase_identity(
        self, ctx: Context, person_id: UUID, *, legal_basis: str, reason: str
    ) -> bool:
        """Erase a person's identity where the law allows it: record why, then destroy the key.

        Amounts, dates, statuses and every hash stay; the resident ID, its masked form,
        the name and the bank account of the person's events become unreadable for good.
        Returns whether a key was destroyed now (False: it already was, e.g. on a retry
        after the key store failed).
        """
        keys = self._store.person_keys

        def decide(changes: Changes) -> bool:
            person = self._store.load(Person, person_id, "person")
            if person.is_erased:
                return False
            if keys is not None and self._store.chained.person_key(person_id) is None:
                raise ConflictError(
                    "PERSON-UNSEALED",
                    "this person was registered before identities were sealed under a key "
                    "of their own: destroying a key cannot erase them",
                    field="person_id",
                )
            person.erase_identity(
                erased_on=self._today(), legal_basis=legal_basis, meta=ctx.meta(reason)
            )
            changes.add(person)
            return True  # the key is destroyed right after this is saved

        recorded = self._store.transact(decide)
        destroyed = keys is not None and keys.destroy(person_id)
        return recorded or destroyed

    def get(self, person_id: UUID) -> Person:
        """The person, or ``NotFoundError``."""
        return self._store.load(Person, person_id, "person")

    def record_death(self, ctx: Context, person_id: UUID, *, died_on: date, evidence: str) -> None:
        """Record a death (DATE-HORIZON: not dated beyond the horizon)."""
        check_happened(died_on, self._today(), "died_on")
        self._store.update(
            Person,
            person_id,
            "person",
            lambda p, _: p.record_death(died_on=died_on, evidence=evidence, meta=ctx.meta()),
        )

    def report_income(
        self, ctx: Context, person_id: UUID, *, month: Month, amount_fen: int, source: str
    ) -> None:
        """Record a month's income (DATE-HORIZON: a month that has begun, within the horizon)."""
        check_happened(month.first_day, self._today(), "month")
        self._store.update(
            Person,
            person_id,
            "person",
            lambda p, _: p.report_income(
                month=month, amount_fen=amount_fen, source=source, meta=ctx.meta()
            ),
        )

    def change_status(
        self,
        ctx: Context,
        person_id: UUID,
        *,
        effective_on: date,
        poverty_status: PovertyStatus | None = None,
        labour_capacity: LabourCapacity | None = None,
        public_payroll: bool | None = None,
        reason: str | None = None,
    ) -> None:
        """Change status, labour capacity or payroll flag."""
        self._store.update(
            Person,
            person_id,
            "person",
            lambda p, _: p.change_status(
                poverty_status=poverty_status,
                labour_capacity=labour_capacity,
                public_payroll=public_payroll,
                effective_on=effective_on,
                meta=ctx.meta(reason),
            ),
        )

    def change_bank_account(
        self, ctx: Context, person_id: UUID, *, bank_account: str, reason: str
    ) -> None:
        """Replace the person's own account."""
        self._store.update(
            Person,
            person_id,
            "person",
            lambda p, _: p.change_bank_account(bank_account=bank_account, meta=ctx.meta(reason)),
        )

    def record_employment(
        self,
        ctx: Context,
        person_id: UUID,
        *,
        province_code: str,
        employer: str,
        started_on: date,
        reason: str | None = None,
    ) -> None:
        """Record employment (DATE-HORIZON: not starting beyond the horizon)."""
        check_happened(started_on, self._today(), "started_on")
        self._store.update(
            Person,
            person_id,
            "person",
            lambda p, _: p.record_employment(
                province_code=province_code,
                employer=employer,
                started_on=started_on,
                meta=ctx.meta(reason),
            ),
        )

    def register_unemployment(
        self,
        ctx: Context,
        person_id: UUID,
        *,
        registered_on: date,
        evidence: str,
        reason: str | None = None,
    ) -> None:
        """Record a registration as unemployed (失业登记); it ends the work on record before it."""
        check_happened(registered_on, self._today(), "registered_on")
        self._store.update(
            Person,
            person_id,
            "person",
            lambda p, _: p.register_unemployment(
                registered_on=registered_on, evidence=evidence, meta=ctx.meta(reason)
            ),
        )
