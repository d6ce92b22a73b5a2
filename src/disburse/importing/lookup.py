"""Finding the people and organisations a row names, by resident ID or credit code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from disburse.domain.errors import ConflictError, NotFoundError, RuleViolationError
from disburse.domain.organisation import Organisation, organisation_id_for
from disburse.domain.person import Person

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger

NAME_RULE = "IMPORT-NAME-MISMATCH"


def registered_person(
    ledger: Ledger, resident_id: str, *, field: str = "resident_id", what: str = "person"
) -> Person:
    """The person registered under this (valid) resident ID; PERSON-NOT-FOUND if none."""
    person = ledger.store.find(Person, ledger.people.id_for(resident_id))
    if person is None:
        raise NotFoundError(
            "PERSON-NOT-FOUND",
            f"no {what} is registered under this resident ID: import them with "
            "`disburse import people` first",
            field,
        )
    try:
        person.require_identity()
    except ConflictError as error:
        error.field = field
        raise
    return person


def check_name(person: Person, name: str | None) -> None:
    """When the row gives a name, it must be the registered one (catches a wrong ID)."""
    if name is not None and name.strip() != person.name:
        raise RuleViolationError(
            NAME_RULE,
            "the name differs from the one registered under this resident ID: "
            "check the resident ID",
            "name",
        )


def registered_organisation(ledger: Ledger, credit_code: str) -> Organisation:
    """The organisation registered under this (valid) credit code; not found otherwise."""
    organisation = ledger.store.find(Organisation, organisation_id_for(credit_code))
    if organisation is None:
        raise NotFoundError(
            "ORGANISATION-NOT-FOUND",
            "no employer, broker or base is registered under this credit code",
            "credit_code",
        )
    return organisation
