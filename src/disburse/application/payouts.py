"""Payout commands: notice, objections, approval, batches, bank results, recovery."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.domain.batch import Outcome, PaymentBatch
from disburse.domain.errors import (
    DomainError,
    InvalidInputError,
    NotFoundError,
    OutOfScopeError,
    RuleViolationError,
)
from disburse.domain.fund import Fund
from disburse.domain.organisation import Organisation
from disburse.domain.payout import Payout, PayoutStatus
from disburse.domain.person import Person
from disburse.domain.regions import within
from disburse.domain.reservation import Reservation, reservation_id_for

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import date
    from uuid import UUID

    from disburse.access.context import Context
    from disburse.application.policy import Policy
    from disburse.domain.meta import Meta
    from disburse.domain.rules import PolicyDocument
    from disburse.persistence.batching import Changes
    from disburse.persistence.store import LedgerStore


def open_payout(payout: Payout, policy: PolicyDocument, today: date, meta: Meta) -> None:
    """A new payout goes on public notice when the region's catalogue asks for it."""
    days = policy.payouts.notice_days
    if days:
        payout.start_notice(starts_on=today, days=days, meta=meta.because("PAYOUT-NOTICE"))


@dataclass(frozen=True)
class BankResult:
    """One line of the bank's result file."""

    payout_id: UUID
    outcome: Outcome
    bank_reference: str = ""
    reason: str = ""
    paid_on: date | None = None


@dataclass(frozen=True)
class Payee:
    """One line of a payment file: who is paid, into which account, how much and why."""

    payout_id: UUID
    account: str
    name: str
    amount_fen: int
    programme: str
    period: str


@dataclass(frozen=True)
class Approval:
    """One payout of a bulk approval, with the version the approver saw (None: any)."""

    payout_id: UUID
    version: int | None = None


@dataclass(frozen=True)
class Approved:
    """What one approval of a bulk approval came to: the new status, or the refusal."""

    payout_id: UUID
    status: PayoutStatus | None = None
    refusal: DomainError | None = None


class Payouts:
    """Move payouts from request to payment and, where needed, recovery."""

    def __init__(self, store: LedgerStore, policy: Policy, today: Callable[[], date]) -> None:
        self._store = store
        self._policy = policy
        self._today = today

    def get(self, payout_id: UUID) -> Payout:
        """The payout, or ``NotFoundError``."""
        return self._store.load(Payout, payout_id, "payout")

    def get_batch(self, batch_id: UUID) -> PaymentBatch:
        """The batch, or ``NotFoundError``."""
        return self._store.load(PaymentBatch, batch_id, "batch")

    def lodge_objection(self, ctx: Context, payout_id: UUID, *, grounds: str) -> str:
        """An objection during public notice; holds the payout. Returns the objection id."""
        objection_id = str(uuid.uuid4())
        self._store.update(
            Payout,
            payout_id,
            "payout",
            lambda p, _: p.lodge_objection(
                objection_id=objection_id, grounds=grounds, lodged_on=self._today(), meta=ctx.meta()
            ),
        )
        return objection_id

    def resolve_objection(
        self, ctx: Context, payout_id: UUID, *, objection_id: str, upheld: bool, reason: str
    ) -> None:
        """Uphold (the payout is rejected) or dismiss (it continues) an objection."""

        def command(payout: Payout, changes: Changes) -> None:
            payout.resolve_objection(
                objection_id=objection_id, upheld=upheld, meta=ctx.meta(reason)
            )
            if upheld:
                changes.add(*self._free_holds(payout, ctx.meta(reason)))

        self._store.update(Payout, payout_id, "payout", command)

    def approve(self, ctx: Context, payout_id: UUID) -> PayoutStatus:
        """Approve; the final approval commits the money from the fund (FUND-INSUFFICIENT)."""
        return self._store.transact(lambda changes: self._approve(ctx, payout_id, changes))

    def approve_many(
        self, ctx: Context, approvals: Sequence[Approval], *, scope: str | None = None
    ) -> list[Approved]:
        """Approve each payout as :meth:`approve` would, a chunk of them per transaction.

        Each is decided alone, in order: maker-checker, two-level approval, public notice
        and the fund's balance apply per payout, so a fund that runs out refuses the
        payouts after the one that emptied it. A refused approval writes nothing and fails
        no other. With ``scope`` (the region prefix the approver acts for), a payout
        outside it is refused (REGION-SCOPE) and not touched, as is one that does not
        exist (PAYOUT-NOT-FOUND); a payout named twice is refused the second time
        (APPROVAL-DUP).
        """
        seen: set[UUID] = set()
        firsts: list[Approval] = []
        refused: dict[int, Approved] = {}
        for index, approval in enumerate(approvals):
            refusal = None if scope is None else self._outside(approval.payout_id, scope)
            if refusal is None and approval.payout_id in seen:
                refusal = InvalidInputError(
                    "APPROVAL-DUP", "this payout is named earlier in the list", "payout_id"
                )
            if refusal is not None:
                refused[index] = Approved(approval.payout_id, refusal=refusal)
            else:
                seen.add(approval.payout_id)
                firsts.append(approval)

        def decide(approval: Approval, changes: Changes) -> PayoutStatus:
            expected = {} if approval.version is None else {approval.payout_id: approval.version}
            with self._store.expecting(expected):
                return self._approve(ctx, approval.payout_id, changes)

        done = iter(
            Approved(approval.payout_id, status, refusal)
            for approval, status, refusal in self._store.transact_each(firsts, decide)
        )
        return [refused.get(index) or next(done) for index in range(len(approvals))]

    def _outside(self, payout_id: UUID, scope: str) -> DomainError | None:
        """Why a payout may not be acted on for ``scope``: missing, or in another region."""
        payout = self._store.read(Payout, payout_id)  # only read: not copied
        if payout is None:
            return NotFoundError("PAYOUT-NOT-FOUND", f"no payout {payout_id}", "payout_id")
        if not within(payout.region_code, scope):
            return OutOfScopeError(f"the payout is outside this key's region {scope}", "payout_id")
        return None

    def _approve(self, ctx: Context, payout_id: UUID, changes: Changes) -> PayoutStatus:
        payout = self.get(payout_id)
        policy = self._policy.in_force(payout.region_code, self._today())
        meta = ctx.meta().because(policy_version=policy.version)
        if payout.approve(today=self._today(), rules=policy.payouts, meta=meta):
            fund = self._store.load(Fund, payout.fund_id, "fund")
            fund.commit(payout_id=payout.id, amount_fen=payout.amount_fen, meta=meta)
            changes.add(fund)
        changes.add(payout)
        return payout.status

    def reject(self, ctx: Context, payout_id: UUID, *, reason: str) -> None:
        """Reject; a committed amount returns to the fund."""

        def command(payout: Payout, changes: Changes) -> None:
            if payout.reject(meta=ctx.meta(reason)):
                changes.add(self._release(payout, ctx.meta(reason)))
            changes.add(*self._free_holds(payout, ctx.meta(reason)))

        self._store.update(Payout, payout_id, "payout", command)

    def cancel(self, ctx: Context, payout_id: UUID, *, reason: str) -> None:
        """Cancel an approved or failed payout; its commitment returns to the fund."""

        def command(payout: Payout, changes: Changes) -> None:
            payout.cancel(meta=ctx.meta(reason))
            changes.add(
                self._release(payout, ctx.meta(reason)), *self._free_holds(payout, ctx.meta(reason))
            )

        self._store.update(Payout, payout_id, "payout", command)

    def _free_holds(self, payout: Payout, meta: Meta) -> list[Reservation]:
        """A void payout's source no longer counts (e.g. a rejected grant frees the year)."""
        freed = []
        for key in payout.holds:
            seat = self._store.find(Reservation, reservation_id_for(key))
            if seat is not None and seat.holder_id == payout.source_id:
                seat.release(holder_id=payout.source_id, meta=meta)
                freed.append(seat)
        return freed

    def _payee_account(self, payee_id: UUID) -> str:
        """The registered account of the person or organisation paid."""
        person = self._store.read(Person, payee_id)  # only read: not copied
        if person is not None:
            person.require_identity()
            return person.bank_account
        return self._store.load(Organisation, payee_id, "organisation", copy=False).bank_account

    def _payee_name(self, payee_id: UUID) -> str:
        """The registered name of the person (decrypted) or organisation paid."""
        person = self._store.read(Person, payee_id)  # only read: not copied
        if person is not None:
            person.require_identity()
            return person.name
        return self._store.load(Organisation, payee_id, "organisation", copy=False).name

    def payees(self, batch_id: UUID, *, names: bool = True) -> tuple[PaymentBatch, list[Payee]]:
        """The batch and its lines as the bank is to pay them, in the batch's order.

        Each line goes to the account the payout was batched to: the beneficiary's own
        registered account (PAY-ONE-CARD, checked at release), under their registered name
        (decrypted; without ``names``, left blank: checking a return file needs none, and
        an identity erased since the release must not stop the bank's results).
        """
        batch = self.get_batch(batch_id)
        lines = []
        for key, amount_fen in batch.lines.items():
            payout = self._store.load(Payout, uuid.UUID(key), "payout", copy=False)
            lines.append(
                Payee(
                    payout_id=payout.id,
                    account=payout.account or self._payee_account(payout.beneficiary_id),
                    name=self._payee_name(payout.beneficiary_id) if names else "",
                    amount_fen=amount_fen,
                    programme=payout.programme,
                    period=payout.period,
                )
            )
        return batch, lines

    def record_export(
        self,
        ctx: Context,
        batch_id: UUID,
        *,
        file_format: str,
        template: str,
        sha256: str,
        reason: str | None = None,
    ) -> None:
        """Record that the batch went to the bank as this file (its SHA-256)."""
        self._store.update(
            PaymentBatch,
            batch_id,
            "batch",
            lambda batch, _: batch.record_export(
                file_format=file_format, template=template, sha256=sha256, meta=ctx.meta(reason)
            ),
        )

    def _release(self, payout: Payout, meta: Meta) -> Fund:
        fund = self._store.load(Fund, payout.fund_id, "fund")
        fund.release(payout_id=payout.id, amount_fen=payout.amount_fen, meta=meta)
        return fund

    def reissue(self, ctx: Context, payout_id: UUID, *, account: str, reason: str) -> None:
        """Pay a failed payout again, to the beneficiary's corrected own account."""

        def command(payout: Payout, _: Changes) -> None:
            payout.reissue(
                account=account,
                beneficiary_account=self._payee_account(payout.beneficiary_id),
                meta=ctx.meta(reason),
            )

        self._store.update(Payout, payout_id, "payout", command)

    def release_batch(self, ctx: Context, *, fund_id: UUID, payout_ids: Sequence[UUID]) -> UUID:
        """Send approved payouts of one fund to the bank, each to its beneficiary's account."""

        def decide(changes: Changes) -> UUID:
            if len(set(payout_ids)) != len(payout_ids):
                raise InvalidInputError("BATCH-DUP", "a payout appears twice", "payout_ids")
            payouts = [self.get(pid) for pid in payout_ids]
            for payout in payouts:
                if payout.fund_id != fund_id:
                    raise RuleViolationError(
                        "BATCH-FUND", f"payout {payout.id} is paid from another fund", "payout_ids"
                    )
            batch = PaymentBatch.release(
                fund_id=fund_id, lines={p.id: p.amount_fen for p in payouts}, meta=ctx.meta()
            )
            for payout in payouts:
                own = self._payee_account(payout.beneficiary_id)
                payout.add_to_batch(
                    batch_id=batch.id,
                    account=payout.account or own,
                    beneficiary_account=own,
                    meta=ctx.meta(),
                )
            changes.add(batch, *payouts)
            return batch.id

        return self._store.transact(decide)

    def record_results(
        self,
        ctx: Context,
        batch_id: UUID,
        *,
        results: Sequence[BankResult],
        control_count: int,
        control_total_fen: int,
    ) -> PaymentBatch:
        """Record a bank result file: all lines or none; its totals must match the batch."""

        def decide(changes: Changes) -> PaymentBatch:
            batch = self.get_batch(batch_id)
            batch.check_totals(count=control_count, total_fen=control_total_fen)
            fund = self._store.load(Fund, batch.fund_id, "fund")
            payouts: dict[UUID, Payout] = {}  # each loaded once: a later line sees the earlier
            for result in results:
                batch.record_result(
                    payout_id=result.payout_id,
                    outcome=result.outcome,
                    detail=result.bank_reference or result.reason,
                    meta=ctx.meta(result.reason or None),
                )
                payout = payouts.get(result.payout_id) or self.get(result.payout_id)
                payouts[payout.id] = payout
                self._apply(result, payout, fund, ctx)
            changes.add(*payouts.values())  # in the log before the batch and the fund, as ever
            changes.add(batch, fund)
            return batch

        return self._store.transact(decide)

    def _apply(self, result: BankResult, payout: Payout, fund: Fund, ctx: Context) -> None:
        meta = ctx.meta(result.reason or None)
        if result.outcome is Outcome.PAID:
            payout.record_paid(
                bank_reference=result.bank_reference,
                paid_on=result.paid_on or self._today(),
                meta=meta,
            )
            fund.record_payment(payout_id=payout.id, amount_fen=payout.amount_fen, meta=meta)
        elif result.outcome is Outcome.FAILED:
            payout.record_failed(failure=result.reason, meta=meta)
        else:
            payout.reverse_payment(bank_reference=result.bank_reference, meta=meta)
            fund.reverse_payment(payout_id=payout.id, amount_fen=payout.amount_fen, meta=meta)

    def order_recovery(
        self, ctx: Context, payout_id: UUID, *, amount_fen: int, case_reference: str, reason: str
    ) -> None:
        """Order the recovery of an improper payment, citing the alert or case."""
        self._store.update(
            Payout,
            payout_id,
            "payout",
            lambda p, _: p.order_recovery(
                amount_fen=amount_fen, case_reference=case_reference, meta=ctx.meta(reason)
            ),
        )

    def record_recovery(
        self, ctx: Context, payout_id: UUID, *, amount_fen: int, received_on: date
    ) -> None:
        """Recovered money returns to the fund."""

        def command(payout: Payout, changes: Changes) -> None:
            payout.record_recovery(amount_fen=amount_fen, received_on=received_on, meta=ctx.meta())
            fund = self._store.load(Fund, payout.fund_id, "fund")
            fund.record_recovery(payout_id=payout.id, amount_fen=amount_fen, meta=ctx.meta())
            changes.add(fund)

        self._store.update(Payout, payout_id, "payout", command)
