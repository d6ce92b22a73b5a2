"""Registry of employers, labour brokers and assistance bases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.domain.errors import RegisteredElsewhereError
from disburse.domain.organisation import (
    Organisation,
    OrganisationKind,
    normalise_credit_code,
    organisation_id_for,
)
from disburse.domain.regions import within

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.access.context import Context
    from disburse.persistence.batching import Changes
    from disburse.persistence.store import LedgerStore


@dataclass(frozen=True)
class OrganisationRegistration:
    """The organisation, and whether this call created it."""

    organisation_id: UUID
    created: bool


class Organisations:
    """Register organisations; the same credit code again returns the same one."""

    def __init__(self, store: LedgerStore) -> None:
        self._store = store

    def register(
        self,
        ctx: Context,
        *,
        credit_code: str,
        kind: OrganisationKind,
        name: str,
        region_code: str,
        bank_account: str,
        scope: str | None = None,
    ) -> OrganisationRegistration:
        """Register an employer, broker or base.

        ``scope``: the region prefix the caller acts for. An organisation already registered
        outside it raises ``RegisteredElsewhereError``, decided in the same transaction as
        the registration, so a race between two regions answers the loser the same way.
        """
        code = normalise_credit_code(credit_code)

        def decide(changes: Changes) -> OrganisationRegistration:
            existing = self._store.find(Organisation, organisation_id_for(code))
            if existing is not None:
                if scope is not None and not within(existing.region_code, scope):
                    raise RegisteredElsewhereError("credit code", "credit_code")
                return OrganisationRegistration(existing.id, created=False)
            organisation = Organisation.register(
                credit_code=code,
                kind=OrganisationKind(kind),
                name=name,
                region_code=region_code,
                bank_account=bank_account,
                meta=ctx.meta(),
            )
            changes.add(organisation)
            return OrganisationRegistration(organisation.id, created=True)

        return self._store.transact(decide)

    def change_bank_account(
        self, ctx: Context, organisation_id: UUID, *, bank_account: str, reason: str
    ) -> None:
        """Record the organisation's new account (failed payouts can then be re-issued)."""
        self._store.update(
            Organisation,
            organisation_id,
            "organisation",
            lambda org, _: org.change_bank_account(
                bank_account=bank_account, meta=ctx.meta(reason)
            ),
        )

    def get(self, organisation_id: UUID) -> Organisation:
        """The organisation, or ``NotFoundError``."""
        return self._store.load(Organisation, organisation_id, "organisation")
