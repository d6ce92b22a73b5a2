"""Payment batches: released per fund with control totals, paid, and the bank's results."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from disburse.api.commands import run_command
from disburse.api.deps import (
    ENTITY,
    Finance,
    Overseer,
    command,
    creation,
    entity_response,
    state,
)
from disburse.api.responses import JSONResponse
from disburse.api.schemas import Count, Fen, Input
from disburse.api.security import Principal
from disburse.application.payouts import BankResult
from disburse.domain.batch import Outcome, PaymentBatch
from disburse.domain.payout import Payout
from disburse.domain.text import Code, Reason

router = APIRouter(tags=["payment batches"])


class BatchIn(Input):
    """Send approved payouts of one fund to the bank."""

    fund_id: UUID = Field(description="The fund all payouts are paid from (BATCH-FUND).")
    payout_ids: list[UUID] = Field(description="Approved payouts (BATCH-DUP, BATCH-EMPTY).")


class BatchLineOut(BaseModel):
    """A line of a batch."""

    payout_id: UUID = Field(description="A payout sent in the batch (GET /v1/payouts/{payout_id}).")
    amount_fen: int = Field(description="That payout's amount sent to the bank, in fen.")
    outcome: Outcome | None = Field(description="The bank's last result, if any.")


class BatchOut(BaseModel):
    """A payment batch and the bank's results so far."""

    batch_id: UUID = Field(description="Batch id, as returned by POST /v1/payment-batches.")
    fund_id: UUID = Field(
        description="The one fund every payout in the batch is paid from (BATCH-FUND)."
    )
    count: int = Field(
        description="Control count: payouts in the batch (a result file must state it, "
        "BATCH-TOTALS)."
    )
    total_fen: int = Field(description="Control total in fen.")
    lines: list[BatchLineOut] = Field(description="Payouts and results.")
    complete: bool = Field(description="Every line has a result.")
    version: int = Field(description="Version (also the ETag).")


class BankResultIn(Input):
    """One line of the bank's result file."""

    payout_id: UUID = Field(description="A payout of this batch that the result line is about.")
    outcome: Outcome = Field(description="paid, failed or reversed.")
    bank_reference: Code = Field(default="", description="The bank's reference.")
    reason: Reason = Field(default="", description="Why it failed or was reversed.")
    paid_on: date | None = Field(default=None, description="Value date (default: today).")


class ResultsIn(Input):
    """A bank result file: recorded whole or not at all (BATCH-TOTALS)."""

    control_count: Count = Field(description="The file's stated count (the batch's count).")
    control_total_fen: Fen = Field(description="The file's stated total in fen.")
    results: list[BankResultIn] = Field(description="One line per payout, as in the bank's file.")


def batch_out(batch: PaymentBatch) -> BatchOut:
    """A batch as the API shows it."""
    return BatchOut(
        batch_id=batch.id,
        fund_id=batch.fund_id,
        count=batch.count,
        total_fen=batch.total_fen,
        lines=[
            BatchLineOut(
                payout_id=UUID(payout_id),
                amount_fen=amount,
                outcome=Outcome(batch.results[payout_id]) if payout_id in batch.results else None,
            )
            for payout_id, amount in batch.lines.items()
        ],
        complete=len(batch.results) == batch.count,
        version=batch.version,
    )


def load_batch(request: Request, batch_id: UUID, who: Principal) -> PaymentBatch:
    """The batch, once its fund is found in the caller's region (404, then 403)."""
    ledger = state(request).ledger
    batch = ledger.payouts.get_batch(batch_id)
    who.require_region(ledger.funds.get(batch.fund_id).region_code, "the batch's fund")
    return batch


def _payouts_in_scope(request: Request, payout_ids: list[UUID], who: Principal) -> list[Payout]:
    """Each payout named, once every one is found in the caller's region (404, then 403).

    Checked before any rule of the command, so nothing is said about another region's
    payout (its fund, amount or state).
    """
    payouts = state(request).ledger.payouts
    found = [payouts.get(payout_id) for payout_id in dict.fromkeys(payout_ids)]
    for payout in found:
        who.require_region(payout.region_code, "a payout named")
    return found


@creation(router, "/v1/payment-batches", BatchOut)
def release_batch(body: BatchIn, request: Request, who: Finance) -> JSONResponse:
    """Send approved payouts of one fund to the bank, each to its beneficiary's own account."""
    ledger = state(request).ledger
    who.require_region(ledger.funds.get(body.fund_id).region_code, "the fund")
    named = _payouts_in_scope(request, body.payout_ids, who)
    lines = {payout.id: payout.amount_fen for payout in named}
    return run_command(
        request,
        who,
        lambda: ledger.payouts.release_batch(
            who.context(), fund_id=body.fund_id, payout_ids=body.payout_ids
        ),
        lambda batch_id: BatchOut(
            batch_id=batch_id,
            fund_id=body.fund_id,
            count=len(lines),
            total_fen=sum(lines.values()),
            lines=[BatchLineOut(payout_id=p, amount_fen=a, outcome=None) for p, a in lines.items()],
            complete=False,
            version=1,
        ),
        payload=body,
        status_code=201,
        location=lambda batch_id: f"/v1/payment-batches/{batch_id}",
    )


@router.get("/v1/payment-batches/{batch_id}", response_model=BatchOut, responses=ENTITY)
def get_batch(batch_id: UUID, request: Request, who: Overseer) -> JSONResponse:
    """A batch, its lines and the bank's results."""
    batch = load_batch(request, batch_id, who)
    return entity_response(batch_out(batch), batch.version)


@command(router, "/v1/payment-batches/{batch_id}/results", BatchOut)
def record_results(batch_id: UUID, body: ResultsIn, request: Request, who: Finance) -> JSONResponse:
    """Record the bank's result file, whole or not at all (BATCH-TOTALS)."""
    load_batch(request, batch_id, who)
    _payouts_in_scope(request, [line.payout_id for line in body.results], who)
    payouts = state(request).ledger.payouts
    return run_command(
        request,
        who,
        lambda: payouts.record_results(
            who.context(),
            batch_id,
            results=[
                BankResult(
                    payout_id=line.payout_id,
                    outcome=line.outcome,
                    bank_reference=line.bank_reference,
                    reason=line.reason,
                    paid_on=line.paid_on,
                )
                for line in body.results
            ],
            control_count=body.control_count,
            control_total_fen=body.control_total_fen,
        ),
        batch_out,
        payload=body,
        target=batch_id,
    )
