"""Bank files of a payment batch: the payment file out (audited), the bank's return file in."""

from __future__ import annotations

import base64
import hashlib
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from disburse.api.commands import position_header, run_command
from disburse.api.deps import COMMAND, COMMAND_DEPS, Finance, state
from disburse.api.problems import FieldProblem, problem
from disburse.api.responses import JSONResponse
from disburse.api.routes.batches import BatchOut, batch_out, load_batch
from disburse.bankfiles.returns import ReturnFileError
from disburse.bankfiles.service import (
    MEDIA_TYPES,
    export_batch,
    read_return_file,
    record_return_file,
)
from disburse.bankfiles.template import DEFAULT_TEMPLATE
from disburse.domain.text import Code

router = APIRouter(tags=["payment batches"])

ExportFormat = Literal["xlsx", "csv", "pain.001"]
ReturnFormat = Literal["xlsx", "csv", "pain.002"]
Template = Annotated[
    Code,
    Query(description="Bank template of the CSV/XLSX layout (docs/operations.md)."),
]
_FILE_CONTENT: dict[str, Any] = {
    media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA_TYPES.values()
}
_UPLOAD = {
    "requestBody": {
        "required": True,
        "description": "The bank's return file as sent, raw: CSV or XLSX in the template's "
        "layout, or ISO 20022 pain.002 XML. Its Content-Type is not read: the format is the "
        "query's, or recognised from the bytes.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class UploadDigest(BaseModel):
    """What makes two uploads the same request (for Idempotency-Key): the file's digest."""

    sha256: str


@router.get(
    "/v1/payment-batches/{batch_id}/file",
    response_class=Response,
    responses={
        200: {"description": "The payment file.", "content": _FILE_CONTENT},
        **{k: v for k, v in COMMAND.items() if k in (400, 401, 403, 404, 422)},
    },
)
def payment_file(
    batch_id: UUID,
    request: Request,
    who: Finance,
    file_format: Annotated[
        ExportFormat,
        Query(alias="format", description="xlsx or csv (bank template), or pain.001 XML."),
    ] = "xlsx",
    template: Template = DEFAULT_TEMPLATE,
) -> Response:
    """The batch's payment file for the bank; each export is recorded (PaymentBatch.Exported)."""
    load_batch(request, batch_id, who)
    ledger = state(request).ledger
    ledger.store.forget_last_written()
    sent = export_batch(
        ledger.payouts, who.context(), batch_id, file_format=file_format, template=template
    )
    digest = base64.b64encode(bytes.fromhex(sent.sha256)).decode()
    return Response(
        sent.content,
        media_type=sent.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{sent.file_name}"',
            "Repr-Digest": f"sha-256=:{digest}:",
            **position_header(ledger.store),
        },
    )


@router.post(
    "/v1/payment-batches/{batch_id}/results-file",
    response_model=BatchOut,
    responses=COMMAND,
    dependencies=COMMAND_DEPS,
    openapi_extra=_UPLOAD,
)
async def results_file(
    batch_id: UUID,
    request: Request,
    who: Finance,
    file_format: Annotated[
        ReturnFormat | None,
        Query(alias="format", description="xlsx, csv or pain.002 (default: from the file)."),
    ] = None,
    template: Template = DEFAULT_TEMPLATE,
) -> JSONResponse:
    """Record the bank's return file whole, or refuse it listing every bad line (422)."""
    load_batch(request, batch_id, who)
    data = await request.body()
    read = read_return_file(data, file_format=file_format, template=template)
    payouts = state(request).ledger.payouts
    try:
        return run_command(
            request,
            who,
            lambda: record_return_file(payouts, who.context(), read, batch_id=batch_id),
            batch_out,
            payload=UploadDigest(sha256=hashlib.sha256(data).hexdigest()),
            target=batch_id,
        )
    except ReturnFileError as refused:
        return problem(
            request,
            422,
            refused.rule_id,
            refused.message,
            field="body",
            errors=[
                FieldProblem(field=p.where, rule_id=p.rule_id, detail=p.detail)
                for p in refused.problems
            ],
        )
