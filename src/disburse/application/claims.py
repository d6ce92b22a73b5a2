"""Reservations taken by commands: uniqueness rules and clients' external claim ids."""

from __future__ import annotations

from typing import TYPE_CHECKING

from disburse.domain.errors import ConflictError
from disburse.domain.reservation import Reservation, reservation_id_for

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.domain.meta import Meta
    from disburse.persistence.store import LedgerStore

EXTERNAL_RULE = "CLAIM-EXTERNAL-ID"


def reserve(
    store: LedgerStore,
    *,
    key: str,
    rule_id: str,
    holder_id: UUID,
    refusal: str,
    field: str,
    meta: Meta,
) -> Reservation:
    """Take ``key`` for ``holder_id`` (creating the reservation if it is new).

    Refused with ``refusal`` under ``rule_id`` while another holder has it. Save the
    result in the same transaction as the holder: a concurrent taker then conflicts.
    """
    seat = store.find(Reservation, reservation_id_for(key))
    if seat is None:
        return Reservation(
            key=key, rule_id=rule_id, holder_id=holder_id, meta=meta.because(rule_id)
        )
    seat.take(holder_id=holder_id, refusal=refusal, field=field, meta=meta.because(rule_id))
    return seat


def holder_of(store: LedgerStore, key: str) -> UUID | None:
    """Who holds ``key`` now, if anyone."""
    seat = store.find(Reservation, reservation_id_for(key))
    return None if seat is None else seat.holder_id


def external_key(client_id: str, external_claim_id: str) -> str:
    """A client's own claim id names one claim, whoever resubmits it."""
    return f"external-claim:{client_id}:{external_claim_id}"


def check_same_claim(
    external_claim_id: str,
    earlier_id: UUID,
    earlier: tuple[object, ...],
    submitted: tuple[object, ...],
) -> None:
    """A resubmission must carry the same facts; another claim under the same id conflicts."""
    if earlier != submitted:
        raise ConflictError(
            EXTERNAL_RULE,
            f"external claim id {external_claim_id} was used for a different claim ({earlier_id})",
            "external_claim_id",
        )


def remember_external(
    client_id: str, external_claim_id: str, holder_id: UUID, meta: Meta
) -> Reservation:
    """Record which claim a client's external id names (saved with the claim)."""
    return Reservation(
        key=external_key(client_id, external_claim_id),
        rule_id=EXTERNAL_RULE,
        holder_id=holder_id,
        meta=meta,
    )
