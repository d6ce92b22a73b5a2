"""Payouts: one shape for stipends, grants and applications, from request onwards."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.meta import Meta
from disburse.domain.money import check_amount

PAYOUT_NAMESPACE = uuid.UUID("8f6c1f0e-3a51-4f55-9a0e-6c1f52a8e005")


class PayoutKind(StrEnum):
    """What a payout pays for."""

    STIPEND = "stipend"
    GRANT = "grant"
    APPLICATION = "application"


class PayoutStatus(StrEnum):
    """Where a payout is in its life."""

    REQUESTED = "requested"


def payout_id_for(programme: str, source_id: UUID, period: str) -> UUID:
    """At most one payout per programme, source (post, grant, application) and period."""
    return uuid.uuid5(PAYOUT_NAMESPACE, f"{programme}:{source_id}:{period}")


class Payout(Aggregate):
    """Money owed to a beneficiary, with the explanation of how it was computed."""

    @staticmethod
    def create_id(programme: str, source_id: UUID, period: str) -> UUID:
        """Deterministic: a second request for the same thing names the same payout."""
        return payout_id_for(programme, source_id, period)

    @event("Requested")
    def __init__(
        self,
        *,
        kind: PayoutKind,
        programme: str,
        source_id: UUID,
        period: str,
        beneficiary_id: UUID,
        fund_id: UUID,
        region_code: str,
        amount_fen: int,
        explanation: dict[str, Any],
        meta: Meta,
    ) -> None:
        self.kind = PayoutKind(kind)
        self.programme = programme
        self.source_id = source_id
        self.period = period
        self.beneficiary_id = beneficiary_id
        self.fund_id = fund_id
        self.region_code = region_code
        self.amount_fen = amount_fen
        self.explanation = explanation
        self.requested_by = meta.actor_id
        self.status = PayoutStatus.REQUESTED

    @classmethod
    def request(
        cls,
        *,
        kind: PayoutKind,
        programme: str,
        source_id: UUID,
        period: str,
        beneficiary_id: UUID,
        fund_id: UUID,
        region_code: str,
        amount_fen: int,
        explanation: dict[str, Any],
        meta: Meta,
    ) -> Payout:
        """Request a payout of a positive amount."""
        check_amount(amount_fen)
        return cls(
            kind=PayoutKind(kind),
            programme=programme,
            source_id=source_id,
            period=period,
            beneficiary_id=beneficiary_id,
            fund_id=fund_id,
            region_code=region_code,
            amount_fen=amount_fen,
            explanation=explanation,
            meta=meta,
        )
