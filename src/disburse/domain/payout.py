"""Payouts: one shape for stipends, grants and applications, from request to recovery.

requested -> [on notice -> held by objection -> ...] -> approved | rejected -> batched
-> paid | failed -> (re-issued | cancelled); paid -> recovery ordered -> recovered.

Over 400 lines on purpose: one aggregate per module, and every state of that lifecycle
checks the others; its commands and events stay together.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import ConflictError, InvalidInputError, RuleViolationError
from disburse.domain.meta import Meta, Role
from disburse.domain.money import check_amount, yuan
from disburse.domain.rules import PayoutRules

PAYOUT_NAMESPACE = uuid.UUID("8f6c1f0e-3a51-4f55-9a0e-6c1f52a8e005")


class PayoutKind(StrEnum):
    """What a payout pays for."""

    STIPEND = "stipend"
    GRANT = "grant"
    APPLICATION = "application"


class PayoutStatus(StrEnum):
    """Where a payout is in its life."""

    REQUESTED = "requested"
    ON_NOTICE = "on_notice"
    HELD = "held"
    FIRST_APPROVED = "first_approved"
    APPROVED = "approved"
    REJECTED = "rejected"
    BATCHED = "batched"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RECOVERY_ORDERED = "recovery_ordered"
    RECOVERED = "recovered"


RESOLVERS = frozenset({Role.FINANCE, Role.INSPECTOR})
PENDING = frozenset({PayoutStatus.REQUESTED, PayoutStatus.ON_NOTICE, PayoutStatus.FIRST_APPROVED})


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
        holds: list[str],
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
        self.holds = list(holds)  # reservation keys its source holds (released on rejection)
        self.requested_by = meta.actor_id
        self.requested_via = meta.client_id
        self.requested_principal = meta.principal
        self.status = PayoutStatus.REQUESTED
        self.notice_ends_on: date | None = None
        self.objections: dict[str, bool] = {}  # objection id -> still open
        self.approvers: list[str] = []
        self.approving_principals: list[str] = []  # separation of duties compares these
        self.batch_id: UUID | None = None
        self.account: str | None = None
        self.bank_reference: str | None = None
        self.failure: str | None = None
        self.recovery_ordered_fen = 0
        self.recovered_fen = 0

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
        holds: list[str] | None = None,
    ) -> Payout:
        """Request a payout of a positive amount.

        ``holds`` are the reservation keys its source took (e.g. once a year per person);
        they are released if the payout is rejected or cancelled.
        """
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
            holds=holds or [],
            meta=meta,
        )

    def _require(self, *allowed: PayoutStatus, action: str) -> None:
        if self.status not in allowed:
            raise ConflictError(
                "PAYOUT-STATE", f"cannot {action} a payout that is {self.status.value}", "status"
            )

    # -- public notice and objections -------------------------------------------------------

    def start_notice(self, *, starts_on: date, days: int, meta: Meta) -> None:
        """Publish the payout for public notice (公示) for ``days`` days."""
        self._require(PayoutStatus.REQUESTED, action="put on notice")
        self._notice_started(
            starts_on=starts_on, ends_on=starts_on + timedelta(days=days - 1), meta=meta
        )

    @event("NoticeStarted")
    def _notice_started(self, *, starts_on: date, ends_on: date, meta: Meta) -> None:
        self.status = PayoutStatus.ON_NOTICE
        self.notice_ends_on = ends_on

    def lodge_objection(
        self, *, objection_id: str, grounds: str, lodged_on: date, meta: Meta
    ) -> None:
        """An objection during the notice period holds the payout until it is resolved."""
        self._require(PayoutStatus.ON_NOTICE, PayoutStatus.HELD, action="object to")
        if not grounds.strip():
            raise InvalidInputError(
                "PAYOUT-OBJECTION", "an objection states its grounds", "grounds"
            )
        if self.notice_ends_on is not None and lodged_on > self.notice_ends_on:
            raise RuleViolationError(
                "PAYOUT-NOTICE",
                f"the notice period ended on {self.notice_ends_on.isoformat()}",
                "lodged_on",
            )
        if objection_id in self.objections:
            raise ConflictError(
                "PAYOUT-OBJECTION", f"objection {objection_id} exists", "objection_id"
            )
        self._objection_lodged(objection_id=objection_id, grounds=grounds.strip(), meta=meta)

    @event("ObjectionLodged")
    def _objection_lodged(self, *, objection_id: str, grounds: str, meta: Meta) -> None:
        self.objections[objection_id] = True
        self.status = PayoutStatus.HELD

    def resolve_objection(self, *, objection_id: str, upheld: bool, meta: Meta) -> None:
        """Dismiss an objection (the payout continues) or uphold it (the payout is rejected)."""
        self._require(PayoutStatus.HELD, action="resolve an objection to")
        if meta.role not in RESOLVERS:
            raise RuleViolationError(
                "PAYOUT-ROLE", "finance or an inspector resolves objections", "role"
            )
        if not self.objections.get(objection_id):
            raise ConflictError(
                "PAYOUT-OBJECTION", f"no open objection {objection_id}", "objection_id"
            )
        if not meta.reason:
            raise InvalidInputError("PAYOUT-OBJECTION", "a resolution states its reason", "reason")
        self._objection_resolved(objection_id=objection_id, upheld=upheld, meta=meta)

    @event("ObjectionResolved")
    def _objection_resolved(self, *, objection_id: str, upheld: bool, meta: Meta) -> None:
        self.objections[objection_id] = False
        if upheld:
            self.status = PayoutStatus.REJECTED
        elif not any(self.objections.values()):
            self.status = PayoutStatus.ON_NOTICE

    # -- approval ---------------------------------------------------------------------------

    def approve(self, *, today: date, rules: PayoutRules, meta: Meta) -> bool:
        """Approve (finance, not the requester); returns True when money must now be committed.

        Above the catalogue's threshold a second, different finance approver is needed.
        """
        self._require(*PENDING, action="approve")
        self.check_approver(meta)
        if self.notice_ends_on is not None and today <= self.notice_ends_on:
            raise RuleViolationError(
                "PAYOUT-NOTICE",
                f"the public notice runs until {self.notice_ends_on.isoformat()}",
                "status",
            )
        threshold = rules.second_approval_above_fen
        needs_two = threshold is not None and self.amount_fen > threshold
        final = not needs_two or self.status is PayoutStatus.FIRST_APPROVED
        self._approved(final=final, meta=meta.because("PAYOUT-SOD"))
        return final

    def check_approver(self, meta: Meta) -> None:
        """Segregation of duties: a finance role, not the requester, not the first approver.

        Actors are compared as principals (``Meta.principal``): a key that is not a
        gateway is one principal whatever ``X-Actor-Id`` it sent.
        """
        meta.require_finance("approve payouts")
        if meta.principal == self.requested_principal:
            raise RuleViolationError(
                "PAYOUT-SOD", "the approver must differ from whoever requested the payout", "actor"
            )
        if meta.principal in self.approving_principals:
            raise RuleViolationError(
                "PAYOUT-SOD", "the second approval needs a different approver", "actor"
            )

    @event("Approved")
    def _approved(self, *, final: bool, meta: Meta) -> None:
        self.approvers.append(meta.actor_id)
        self.approving_principals.append(meta.principal)
        self.status = PayoutStatus.APPROVED if final else PayoutStatus.FIRST_APPROVED

    def reject(self, *, meta: Meta) -> bool:
        """Reject (finance); returns True when a commitment must be released."""
        self._require(*PENDING, PayoutStatus.HELD, PayoutStatus.APPROVED, action="reject")
        meta.require_finance("reject payouts")
        if not meta.reason:
            raise InvalidInputError("PAYOUT-REJECT", "a rejection states its reason", "reason")
        committed = self.status is PayoutStatus.APPROVED
        self._rejected(meta=meta)
        return committed

    @event("Rejected")
    def _rejected(self, *, meta: Meta) -> None:
        self.status = PayoutStatus.REJECTED

    # -- payment ---------------------------------------------------------------------------

    def add_to_batch(
        self, *, batch_id: UUID, account: str, beneficiary_account: str, meta: Meta
    ) -> None:
        """Put an approved payout in a payment batch, to the beneficiary's own account."""
        self._require(PayoutStatus.APPROVED, action="batch")
        check_one_card(account, beneficiary_account)
        self._batched(batch_id=batch_id, account=account, meta=meta.because("PAY-ONE-CARD"))

    @event("Batched")
    def _batched(self, *, batch_id: UUID, account: str, meta: Meta) -> None:
        self.status = PayoutStatus.BATCHED
        self.batch_id = batch_id
        self.account = account

    def record_paid(self, *, bank_reference: str, paid_on: date, meta: Meta) -> None:
        """The bank paid it."""
        self._require(PayoutStatus.BATCHED, action="record a payment for")
        if not bank_reference.strip():
            raise InvalidInputError(
                "BATCH-RESULT", "a payment carries the bank reference", "bank_reference"
            )
        self._paid(bank_reference=bank_reference.strip(), paid_on=paid_on, meta=meta)

    @event("Paid")
    def _paid(self, *, bank_reference: str, paid_on: date, meta: Meta) -> None:
        self.status = PayoutStatus.PAID
        self.bank_reference = bank_reference

    def record_failed(self, *, failure: str, meta: Meta) -> None:
        """The bank could not pay it (account closed, name mismatch...)."""
        self._require(PayoutStatus.BATCHED, action="record a failure for")
        if not failure.strip():
            raise InvalidInputError("BATCH-RESULT", "a failure carries the bank's reason", "reason")
        self._failed(failure=failure.strip(), meta=meta)

    @event("Failed")
    def _failed(self, *, failure: str, meta: Meta) -> None:
        self.status = PayoutStatus.FAILED
        self.failure = failure

    def reverse_payment(self, *, bank_reference: str, meta: Meta) -> None:
        """A documented reversal: the bank returned money it reported paid."""
        self._require(PayoutStatus.PAID, action="reverse the payment of")
        if not meta.reason or not bank_reference.strip():
            raise InvalidInputError(
                "BATCH-REVERSAL", "a reversal cites the bank's reference and a reason", "reason"
            )
        self._payment_reversed(bank_reference=bank_reference.strip(), meta=meta)

    @event("PaymentReversed")
    def _payment_reversed(self, *, bank_reference: str, meta: Meta) -> None:
        self.status = PayoutStatus.FAILED
        self.failure = f"reversed by the bank ({bank_reference})"

    def reissue(self, *, account: str, beneficiary_account: str, meta: Meta) -> None:
        """After a failure, pay again to the corrected account (the beneficiary's own)."""
        self._require(PayoutStatus.FAILED, action="re-issue")
        meta.require_finance("re-issue payouts")
        check_one_card(account, beneficiary_account)
        self._reissued(account=account, meta=meta.because("PAY-ONE-CARD"))

    @event("Reissued")
    def _reissued(self, *, account: str, meta: Meta) -> None:
        self.status = PayoutStatus.APPROVED
        self.account = account
        self.batch_id = None

    def cancel(self, *, meta: Meta) -> None:
        """Give up a failed or approved payout; its commitment is released."""
        self._require(PayoutStatus.FAILED, PayoutStatus.APPROVED, action="cancel")
        meta.require_finance("cancel payouts")
        if not meta.reason:
            raise InvalidInputError("PAYOUT-CANCEL", "a cancellation states its reason", "reason")
        self._cancelled(meta=meta)

    @event("Cancelled")
    def _cancelled(self, *, meta: Meta) -> None:
        self.status = PayoutStatus.CANCELLED

    # -- recovery ---------------------------------------------------------------------------

    def order_recovery(self, *, amount_fen: int, case_reference: str, meta: Meta) -> None:
        """Order the recovery of an improper payment (all or part of it)."""
        self._require(
            PayoutStatus.PAID,
            PayoutStatus.RECOVERY_ORDERED,
            PayoutStatus.RECOVERED,
            action="order recovery of",
        )
        meta.require_finance("order recoveries")
        check_amount(amount_fen)
        if not meta.reason:
            raise InvalidInputError("RECOVERY", "a recovery order states its reason", "reason")
        left = self.amount_fen - self.recovery_ordered_fen
        if amount_fen > left:
            raise RuleViolationError(
                "RECOVERY", f"at most {yuan(left)} yuan is left to order", "amount_fen"
            )
        self._recovery_ordered(amount_fen=amount_fen, case_reference=case_reference, meta=meta)

    @event("RecoveryOrdered")
    def _recovery_ordered(self, *, amount_fen: int, case_reference: str, meta: Meta) -> None:
        self.status = PayoutStatus.RECOVERY_ORDERED
        self.recovery_ordered_fen += amount_fen

    def record_recovery(self, *, amount_fen: int, received_on: date, meta: Meta) -> None:
        """Money came back (partial or full); it returns to the fund."""
        self._require(PayoutStatus.RECOVERY_ORDERED, action="record a recovery for")
        meta.require_finance("record recoveries")
        check_amount(amount_fen)
        if amount_fen > self.outstanding_recovery_fen:
            raise RuleViolationError(
                "RECOVERY",
                f"only {yuan(self.outstanding_recovery_fen)} yuan is outstanding",
                "amount_fen",
            )
        self._recovered(amount_fen=amount_fen, received_on=received_on, meta=meta)

    @event("Recovered")
    def _recovered(self, *, amount_fen: int, received_on: date, meta: Meta) -> None:
        self.recovered_fen += amount_fen
        if self.outstanding_recovery_fen == 0:
            self.status = PayoutStatus.RECOVERED

    @property
    def outstanding_recovery_fen(self) -> int:
        """Ordered but not yet recovered."""
        return self.recovery_ordered_fen - self.recovered_fen


def check_one_card(account: str, beneficiary_account: str) -> None:
    """PAY-ONE-CARD: money goes to the beneficiary's own registered account (直补快办)."""
    if account != beneficiary_account:
        raise RuleViolationError(
            "PAY-ONE-CARD",
            "the account is not the beneficiary's registered account; record the new "
            "account on the person first",
            "account",
        )
