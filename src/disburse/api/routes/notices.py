"""Public notices (公示): issue one for a region's period, read it, fetch its PDF or XLSX."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from disburse.api.commands import run_command
from disburse.api.deps import (
    COMMAND,
    COMMAND_DEPS,
    ENTITY,
    Finance,
    Reader,
    creation,
    state,
    wait_for_head,
)
from disburse.api.problems import ApiError
from disburse.api.responses import JSONResponse
from disburse.api.schemas import Input, StrictInt
from disburse.application.notices import Issued
from disburse.domain.notice import MAX_DAYS, MIN_DAYS, NoticeKind, PublicNotice
from disburse.domain.payout import PayoutStatus
from disburse.domain.text import Code, Label, Name
from disburse.printing.capitals import capitals

router = APIRouter(tags=["public notices"])
PERIOD_PATTERN = r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$"


class NoticeFormat(StrEnum):
    """What ``GET /v1/notices/{notice_id}`` answers with."""

    JSON = "json"
    PDF = "pdf"
    XLSX = "xlsx"


MEDIA_TYPES = {
    NoticeFormat.PDF: "application/pdf",
    NoticeFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class NoticeIn(Input):
    """Issue the public notice of a region's payouts for one period."""

    region_code: Annotated[Code, Field(pattern=r"^[0-9]{6}$")] = Field(
        description="6-digit code of the region noticed (inside the key's region)."
    )
    period: Annotated[Code, Field(pattern=PERIOD_PATTERN)] = Field(
        description="Period paid for: YYYY-MM for stipends, YYYY for grants and applications "
        "(NOTICE-PERIOD)."
    )
    days: StrictInt | None = Field(
        default=None,
        ge=MIN_DAYS,
        le=MAX_DAYS,
        description="Days the notice runs, from today (default: the catalogue's notice_days; "
        "NOTICE-DAYS if it sets none).",
    )
    contact: Label | None = Field(
        default=None,
        description="Where and how to object, printed on the notice (default: the server's "
        "DISBURSE_NOTICE_CONTACT; NOTICE-CONTACT if neither).",
    )
    title: Name | None = Field(
        default=None,
        description="The notice's title, e.g. XX县乡村公益性岗位补贴发放公示 "
        "(default: 补贴发放公示).",
    )


class BatchNoticeIn(Input):
    """Issue the notice of what a payment batch pays (发放结果公示)."""

    days: StrictInt | None = Field(
        default=None,
        ge=MIN_DAYS,
        le=MAX_DAYS,
        description="Days the notice runs, from today (default: the catalogue's notice_days; "
        "NOTICE-DAYS if it sets none).",
    )
    contact: Label | None = Field(
        default=None,
        description="Where and how to object, printed on the notice (default: the server's "
        "DISBURSE_NOTICE_CONTACT; NOTICE-CONTACT if neither).",
    )
    title: Name | None = Field(
        default=None, description="The notice's title (default: 补贴发放结果公示)."
    )


class NoticeLineOut(BaseModel):
    """One payout listed, as posted: the name and resident ID masked."""

    payout_id: UUID = Field(description="The payout listed (GET /v1/payouts/{payout_id}).")
    name: str = Field(description="The payee's name masked (张*三), or an organisation's name.")
    resident_id_masked: str = Field(
        description="The resident ID masked (2202**********0018), or an organisation's code."
    )
    programme: str = Field(description="Programme code of the payout (POST-STIPEND...).")
    amount_fen: int = Field(description="The amount listed, in fen.")


class SkippedOut(BaseModel):
    """A payout of the region and period that the notice does not list."""

    payout_id: UUID = Field(description="The payout left out (GET /v1/payouts/{payout_id}).")
    status: PayoutStatus = Field(description="Its status when the notice was issued.")
    rule_id: str = Field(
        description="Why: PAYOUT-NOTICE (already on notice), PAYOUT-STATE (past notice), "
        "PERSON-ERASED, NOTICE-PERIOD or REGION-SCOPE."
    )
    detail: str = Field(description="What a clerk reads about it, e.g. on notice until a date.")


class NoticeOut(BaseModel):
    """A public notice: what it listed, its window, and the digests of its files."""

    notice_id: UUID = Field(
        description="Notice id (derived from region, period and payouts, or from the batch)."
    )
    kind: NoticeKind = Field(
        description="before_payment (拟发放公示: opened the payouts' notice windows) or "
        "payment (发放结果公示: what a payment batch pays)."
    )
    batch_id: UUID | None = Field(description="The payment batch noticed (kind payment).")
    region_code: str = Field(description="6-digit code of the region noticed.")
    period: str = Field(
        description="The period paid for (YYYY-MM or YYYY); for a batch, its payouts' periods."
    )
    title: str = Field(description="The title printed on the notice.")
    contact: str = Field(description="Where and how to object, as printed.")
    starts_on: date = Field(description="First day of the notice window (the day issued).")
    ends_on: date = Field(
        description="Last day of the window: objections until then, approval after it "
        "(PAYOUT-NOTICE)."
    )
    count: int = Field(description="How many payouts the notice lists (one line each).")
    total_fen: int = Field(description="Their total, in fen.")
    total_capitals: str = Field(description="The total in Chinese capital numerals (大写).")
    sha256: dict[str, str] = Field(
        description="SHA-256 (hex) of the file printed in each format (pdf, xlsx), recorded "
        "when issued: the file fetched later must match it."
    )
    issued_by: str = Field(description="Actor who issued the notice.")
    lines: list[NoticeLineOut] = Field(description="The payouts listed, in the notice's order.")
    skipped: list[SkippedOut] = Field(
        default_factory=list,
        description="Payouts of the region and period not listed, and why (only when issued).",
    )
    version: int = Field(description="Version of the notice (also the ETag).")


def notice_out(notice: PublicNotice, issued: Issued | None = None) -> NoticeOut:
    """The response form of a notice (with what it left out, when just issued)."""
    return NoticeOut(
        notice_id=notice.id,
        kind=notice.kind,
        batch_id=notice.batch_id,
        region_code=notice.region_code,
        period=notice.period,
        title=notice.title,
        contact=notice.contact,
        starts_on=notice.starts_on,
        ends_on=notice.ends_on,
        count=notice.count,
        total_fen=notice.total_fen,
        total_capitals=capitals(notice.total_fen),
        sha256=dict(notice.sha256),
        issued_by=notice.issued_by,
        lines=[
            NoticeLineOut(
                payout_id=UUID(str(line["payout_id"])),
                name=str(line["name"]),
                resident_id_masked=str(line["resident_id"]),
                programme=str(line["programme"]),
                amount_fen=int(line["amount_fen"]),
            )
            for line in notice.lines
        ],
        skipped=[
            SkippedOut(payout_id=s.payout_id, status=s.status, rule_id=s.rule_id, detail=s.detail)
            for s in (issued.skipped if issued is not None else ())
        ],
        version=notice.version,
    )


@creation(router, "/v1/notices", NoticeOut)
def issue_notice(body: NoticeIn, request: Request, who: Finance) -> JSONResponse:
    """Issue the notice of a region's period: lists the payouts awaiting notice, opens them."""
    who.require_region(body.region_code, "the region noticed")
    shared = state(request)
    contact = _contact(body.contact, shared.settings.notice_contact)
    wait_for_head(request, "queue")  # every payout requested so far is a candidate
    candidates = shared.views.queue.awaiting_notice(region=body.region_code, period=body.period)
    notices = shared.ledger.notices

    def issue() -> Issued:
        return notices.issue(
            who.context(),
            region_code=body.region_code,
            period=body.period,
            candidates=candidates,
            contact=contact,
            days=body.days,
            title=body.title,
        )

    return run_command(
        request,
        who,
        issue,
        lambda issued: notice_out(issued.notice, issued),
        payload=body,
        status_code=201,
        location=lambda issued: f"/v1/notices/{issued.notice.id}",
    )


@router.post(
    "/v1/payment-batches/{batch_id}/notices",
    status_code=201,
    response_model=NoticeOut,
    responses={
        200: {"model": NoticeOut, "description": "Issued before: that notice, unchanged."},
        **COMMAND,
    },
    dependencies=COMMAND_DEPS,
)
def issue_batch_notice(
    batch_id: UUID, body: BatchNoticeIn, request: Request, who: Finance
) -> JSONResponse:
    """Issue the notice of what a payment batch pays; once per batch, opening no window."""
    shared = state(request)
    ledger = shared.ledger
    batch = ledger.payouts.get_batch(batch_id)
    who.require_region(ledger.funds.get(batch.fund_id).region_code, "the batch's fund")
    contact = _contact(body.contact, shared.settings.notice_contact)
    return run_command(
        request,
        who,
        lambda: ledger.notices.issue_for_batch(
            who.context(), batch_id, contact=contact, days=body.days, title=body.title
        ),
        lambda issued: notice_out(issued.notice, issued),
        payload=body,
        status_code=lambda issued: 201 if issued.created else 200,
        location=lambda issued: f"/v1/notices/{issued.notice.id}",
        target=batch_id,  # If-Match: the batch as the caller saw it
    )


def _contact(asked: str | None, default: str | None) -> str:
    """The contact printed: the request's, or the server's (422 NOTICE-CONTACT if neither)."""
    contact = asked or default
    if not contact:
        raise ApiError(
            422, "NOTICE-CONTACT", "say where to object: contact (or the server's default)",
            field="contact",
        )  # fmt: skip
    return contact


FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The notice as JSON, or its file (format=pdf or xlsx) as posted.",
        "content": {"application/json": {}, **{media: {} for media in MEDIA_TYPES.values()}},
    }
}


@router.get("/v1/notices/{notice_id}", response_model=NoticeOut, responses={**ENTITY, **FILES})
def get_notice(
    notice_id: UUID,
    request: Request,
    who: Reader,
    file_format: Annotated[
        NoticeFormat,
        Query(
            alias="format",
            description="json (the record), or pdf or xlsx: the file as posted, printed again "
            "from the record; X-Notice-SHA256 carries the digest recorded when issued.",
        ),
    ] = NoticeFormat.JSON,
) -> Response:
    """A public notice: what it listed and its window, or its PDF or XLSX as posted."""
    ledger = state(request).ledger
    notice = ledger.notices.get(notice_id)
    who.require_region(notice.region_code, "the notice")
    etag = f'"{notice.version}"'
    if file_format is NoticeFormat.JSON:
        body = notice_out(notice).model_dump(mode="json")
        return JSONResponse(body, headers={"ETag": etag})
    data = ledger.notices.print(notice, file_format.value)
    name = f"notice-{notice.region_code}-{notice.period}-{notice.id}.{file_format.value}"
    return Response(
        data,
        media_type=MEDIA_TYPES[file_format],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Notice-SHA256": notice.sha256[file_format.value],
            "ETag": etag,
        },
    )
