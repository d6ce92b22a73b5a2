"""Bank files in the console: a batch's payment file to download, the bank's return file to upload.

The same files and services as the API and the CLI (:mod:`disburse.bankfiles`): a
download is recorded (``PaymentBatch.Exported``), and a return file is recorded whole or
refused whole, the page listing every bad line with its number and rule.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from disburse.api.console.finance import batch_page
from disburse.api.console.web import (
    PREFIX,
    Viewer,
    check_csrf,
    problem_of,
    redirect,
    refuse,
    require,
    settle,
    state,
    viewer,
)
from disburse.bankfiles.returns import ReturnFileError
from disburse.bankfiles.service import export_batch, read_return_file, record_return_file
from disburse.domain.batch import EXPORT_FORMATS
from disburse.domain.errors import DomainError
from disburse.domain.meta import Role

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Signed = Annotated[Viewer, Depends(viewer)]
MAX_UPLOAD_BYTES = 8 * 1024 * 1024


def _in_scope(request: Request, who: Viewer, batch_id: UUID) -> None:
    shared = state(request)
    batch = shared.ledger.payouts.get_batch(batch_id)
    who.principal.require_region(
        shared.ledger.funds.get(batch.fund_id).region_code, "the batch's fund"
    )


@router.get("/batches/{batch_id}/file")
def payment_file(request: Request, batch_id: UUID, who: Signed, format: str = "xlsx") -> Response:  # noqa: A002 - the query parameter's name
    """The batch's payment file for the bank (default template); the export is recorded."""
    require(who, Role.FINANCE)
    _in_scope(request, who, batch_id)
    if format not in EXPORT_FORMATS:
        refuse(422, "BANKFILE-FORMAT", f"export formats: {', '.join(EXPORT_FORMATS)}", "format")
    sent = export_batch(
        state(request).ledger.payouts, who.principal.context(), batch_id, file_format=format
    )
    settle(request, "audit")
    return Response(
        sent.content,
        media_type=sent.media_type,
        headers={"Content-Disposition": f'attachment; filename="{sent.file_name}"'},
    )


@router.post("/batches/{batch_id}/results")
async def record_results(request: Request, batch_id: UUID, who: Signed) -> Response:
    """Record the bank's return file, whole or not at all (BATCH-TOTALS, per-line rules)."""
    require(who, Role.FINANCE)
    form = await request.form()
    check_csrf(request, who, form)
    _in_scope(request, who, batch_id)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        refuse(422, "BANKFILE-FORMAT", "choose the bank's return file", field="file")
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        refuse(413, "BODY-TOO-LARGE", "the file is larger than 8 MB", field="file")
    read = read_return_file(data, file_name=upload.filename or "")
    try:
        record_return_file(
            state(request).ledger.payouts, who.principal.context(), read, batch_id=batch_id
        )
    except ReturnFileError as refused:
        problem = problem_of(refused) | {"lines": [str(p) for p in refused.problems]}
        return batch_page(request, who, batch_id, problem=problem, status=422)
    except DomainError as refused:
        return batch_page(request, who, batch_id, problem=problem_of(refused), status=422)
    settle(request, "queue")
    return redirect(f"{PREFIX}/batches/{batch_id}")
