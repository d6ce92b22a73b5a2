"""Organisations that apply for subsidies: employers, labour brokers, assistance bases."""

from __future__ import annotations

import re
import unicodedata
import uuid
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import ConflictError, InvalidInputError
from disburse.domain.meta import Meta
from disburse.domain.person import check_account
from disburse.domain.regions import check_region_code

ORG_NAMESPACE = uuid.UUID("8f6c1f0e-3a51-4f55-9a0e-6c1f52a8e006")
RULE = "ORG-CODE"
# GB 32100-2015 unified social credit code: 18 characters from this alphabet.
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


class OrganisationKind(StrEnum):
    """Who applies: an employer, a labour broker / HR agency, or an assistance base."""

    EMPLOYER = "employer"
    BROKER = "broker"
    BASE = "base"


def credit_code_check(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    total = sum(_ALPHABET.index(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(raw: str) -> str:
    """A valid unified social credit code, upper-cased; ``InvalidInputError`` otherwise."""
    code = unicodedata.normalize("NFKC", raw).strip().upper()
    if not _SHAPE.fullmatch(code):
        raise InvalidInputError(
            RULE, "a unified social credit code has 18 characters (GB 32100)", "credit_code"
        )
    if credit_code_check(code[:17]) != code[17]:
        raise InvalidInputError(
            RULE, "the check character does not match (GB 32100)", "credit_code"
        )
    return code


def organisation_id_for(credit_code: str) -> UUID:
    """One organisation per credit code."""
    return uuid.uuid5(ORG_NAMESPACE, credit_code)


class Organisation(Aggregate):
    """An employer, broker or base, with the account subsidies are paid to."""

    @staticmethod
    def create_id(credit_code: str) -> UUID:
        """Deterministic from the credit code."""
        return organisation_id_for(credit_code)

    @event("Registered")
    def __init__(
        self,
        *,
        credit_code: str,
        kind: OrganisationKind,
        name: str,
        region_code: str,
        bank_account: str,
        meta: Meta,
    ) -> None:
        self.credit_code = credit_code
        self.kind = OrganisationKind(kind)
        self.name = name
        self.region_code = region_code
        self.bank_account = bank_account
        self.registered_via = meta.client_id

    @classmethod
    def register(
        cls,
        *,
        credit_code: str,
        kind: OrganisationKind,
        name: str,
        region_code: str,
        bank_account: str,
        meta: Meta,
    ) -> Organisation:
        """Register after checking the code, name, region and account."""
        if not name.strip():
            raise InvalidInputError("ORG-NAME", "an organisation needs a name", "name")
        return cls(
            credit_code=normalise_credit_code(credit_code),
            kind=OrganisationKind(kind),
            name=name.strip(),
            region_code=check_region_code(region_code),
            bank_account=check_account(bank_account),
            meta=meta,
        )

    def change_bank_account(self, *, bank_account: str, meta: Meta) -> None:
        """Replace the account subsidies are paid to."""
        check_account(bank_account)
        if bank_account == self.bank_account:
            raise ConflictError(
                "ORG-ACCOUNT", "this is already the account on record", "bank_account"
            )
        self._bank_account_changed(bank_account=bank_account, meta=meta)

    @event("BankAccountChanged")
    def _bank_account_changed(self, *, bank_account: str, meta: Meta) -> None:
        self.bank_account = bank_account
