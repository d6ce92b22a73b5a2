"""Bulk submissions: up to 10,000 people or claims, each validated and written on its own."""

from __future__ import annotations

from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from disburse.access.request import RecordedRequest, request_id_for
from disburse.api.commands import (
    fingerprint,
    idempotency_key,
    position_header,
    refuse_if_match,
    replay,
)
from disburse.api.deps import CREATE_DEPS, Submitter, problems, state
from disburse.api.problems import ApiError, FieldProblem, rule_of, status_of
from disburse.api.responses import JSONResponse
from disburse.api.routes.claims import (
    ApplicationIn,
    GrantIn,
    application_submission,
    grant_claim,
)
from disburse.api.routes.registry import PersonIn, registration
from disburse.api.schemas import Input
from disburse.domain.errors import DomainError
from disburse.domain.text import Code

if TYPE_CHECKING:
    from collections.abc import Callable

    from disburse.api.security import Principal

router = APIRouter(tags=["bulk"])
MAX_ITEMS = 10_000


class GrantItem(GrantIn):
    """A transport grant claim in a bulk submission."""

    type: Literal["transport_grant"] = Field(description="Item type.")
    external_claim_id: Code = Field(
        description="Required in bulk: your id for the claim, so a resent file writes "
        "nothing twice."
    )


class ApplicationItem(ApplicationIn):
    """A subsidy application in a bulk submission."""

    type: Literal["application"] = Field(description="Item type.")
    external_claim_id: Code = Field(
        description="Required in bulk: your id for the claim, so a resent file writes "
        "nothing twice."
    )


ClaimItem = Annotated[GrantItem | ApplicationItem, Field(discriminator="type")]
_PERSON = TypeAdapter(PersonIn)
_CLAIM: TypeAdapter[GrantItem | ApplicationItem] = TypeAdapter(ClaimItem)


class BulkIn(Input):
    """Up to 10,000 items. Each is checked and written by itself: one bad item stops no other."""

    items: list[dict[str, Any]] = Field(
        max_length=MAX_ITEMS,
        description="People (schema PersonIn) or claims (GrantItem / ApplicationItem, by "
        "`type`). Items are validated one by one and reported one by one.",
    )


class ItemProblem(BaseModel):
    """Why one item was refused."""

    status: int = Field(description="The status it would have had alone (403, 404, 409, 422).")
    rule_id: str = Field(
        description="Rule ID the item breaks (REQUEST-SCHEMA for its shape, else e.g. GRANT-ONCE)."
    )
    field: str | None = Field(description="The offending field.")
    detail: str = Field(description="What is wrong.")
    errors: list[FieldProblem] = Field(
        default_factory=list,
        description="Each field that failed validation (empty when a rule refused the item).",
    )


class ItemResult(BaseModel):
    """One item's outcome, at the item's index in the request."""

    index: int = Field(description="Position of the item in `items` (from 0).")
    accepted: bool = Field(description="Written (or already there).")
    id: UUID | None = Field(default=None, description="The person, grant or application id.")
    payout_id: UUID | None = Field(default=None, description="A claim's payout.")
    created: bool | None = Field(default=None, description="False if it was already there.")
    problem: ItemProblem | None = Field(default=None, description="Why it was refused.")


class BulkReport(BaseModel):
    """Per-item report of a bulk submission."""

    accepted: int = Field(description="Items written or already there.")
    refused: int = Field(description="Items refused; each result says why.")
    items: list[ItemResult] = Field(description="One per item, in order.")


def _schema_problem(error: ValidationError) -> ItemProblem:
    errors = [
        FieldProblem(
            # a missing or unknown ``type`` is reported by pydantic at the item itself
            field=".".join(str(p) for p in item["loc"])
            or ("type" if item["type"].startswith("union_tag") else "item"),
            rule_id=rule_of(item),
            detail=item["msg"],
        )
        for item in error.errors()
    ]
    named = [e for e in errors if e.rule_id != "REQUEST-SCHEMA"]
    first = named[0] if named else (errors[0] if errors else None)
    return ItemProblem(
        status=422,
        rule_id=first.rule_id if first else "REQUEST-SCHEMA",
        field=first.field if first else None,
        detail=first.detail if first else "invalid item",
        errors=errors,
    )


class _ItemRefusedError(DomainError):
    """An item the API itself refused (e.g. REGION-SCOPE): its chunk drops what it did."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.rule_id, error.detail, error.field)
        self.status = error.status_code


def _decide(item: Callable[[int, dict[str, Any]], ItemResult]) -> Callable[..., ItemResult]:
    def decide(entry: tuple[int, dict[str, Any]], _changes: object) -> ItemResult:
        try:
            return item(*entry)
        except ApiError as error:
            raise _ItemRefusedError(error) from None

    return decide


def _refused(index: int, error: DomainError) -> ItemResult:
    status = error.status if isinstance(error, _ItemRefusedError) else status_of(error)
    problem = ItemProblem(
        status=status, rule_id=error.rule_id, field=error.field, detail=error.message
    )
    return ItemResult(index=index, accepted=False, problem=problem)


def _bulk(
    request: Request,
    who: Principal,
    body: BulkIn,
    item: Callable[[int, dict[str, Any]], ItemResult],
) -> JSONResponse:
    store = state(request).ledger.store

    def report() -> BulkReport:
        """Items decided one by one, committed a chunk per transaction."""
        results: list[ItemResult] = []
        entries = enumerate(body.items)
        for (index, _raw), result, error in store.transact_each(entries, _decide(item)):
            if error is not None:
                results.append(_refused(index, error))
            elif result is not None:  # every item answers with its result
                results.append(result)
        accepted = sum(r.accepted for r in results)
        return BulkReport(accepted=accepted, refused=len(results) - accepted, items=results)

    return answer_once(request, who, body, report)


def answer_once(
    request: Request, who: Principal, body: BaseModel, work: Callable[[], BaseModel]
) -> JSONResponse:
    """Answer a request of many items once per ``Idempotency-Key``: replay a retry.

    Items are idempotent by nature (resident ID, external claim id, a payout's status):
    the report is recorded after them, so a retry before it is recorded writes nothing new.
    """
    store = state(request).ledger.store
    store.forget_last_written()
    key = idempotency_key(request)
    refuse_if_match(request)
    seen = fingerprint(request, body)
    record_id = request_id_for(who.client_id, key) if key is not None else None
    if record_id is not None:
        earlier = store.find(RecordedRequest, record_id)
        if earlier is not None:
            return replay(request, earlier, seen)
    payload = work().model_dump(mode="json")
    if key is not None:
        record = partial(
            RecordedRequest,
            client_id=who.client_id,
            key=key,
            fingerprint=seen,
            status=200,
            body=payload,
            location=None,
            meta=who.context().meta(),
        )
        # a concurrent retry may have recorded it first: same items, same ids
        with store.riding(lambda _: record()), suppress(DomainError):
            store.transact(lambda _: None)
    return JSONResponse(payload, headers=position_header(store))


@router.post(
    "/v1/bulk/people",
    response_model=BulkReport,
    responses=problems(404, 409),
    dependencies=CREATE_DEPS,
)
def bulk_people(body: BulkIn, request: Request, who: Submitter) -> JSONResponse:
    """Register up to 10,000 people; a per-item report (known people: created=false)."""
    ledger = state(request).ledger

    def item(index: int, raw: dict[str, Any]) -> ItemResult:
        try:
            person = _PERSON.validate_python(raw)
        except ValidationError as error:
            return ItemResult(index=index, accepted=False, problem=_schema_problem(error))
        registered = registration(ledger, who, person)()
        return ItemResult(
            index=index, accepted=True, id=registered.person_id, created=registered.created
        )

    return _bulk(request, who, body, item)


@router.post(
    "/v1/bulk/claims",
    response_model=BulkReport,
    responses=problems(404, 409),
    dependencies=CREATE_DEPS,
)
def bulk_claims(body: BulkIn, request: Request, who: Submitter) -> JSONResponse:
    """Submit up to 10,000 grant claims and applications; a per-item report."""
    ledger = state(request).ledger

    def item(index: int, raw: dict[str, Any]) -> ItemResult:
        try:
            claim = _CLAIM.validate_python(raw)
        except ValidationError as error:
            return ItemResult(index=index, accepted=False, problem=_schema_problem(error))
        if isinstance(claim, GrantItem):
            grant = grant_claim(ledger, who, claim)()
            return ItemResult(
                index=index,
                accepted=True,
                id=grant.grant_id,
                payout_id=grant.payout_id,
                created=grant.created,
            )
        application = application_submission(ledger, who, claim)()
        return ItemResult(
            index=index,
            accepted=True,
            id=application.application_id,
            payout_id=application.payout_id,
            created=application.created,
        )

    return _bulk(request, who, body, item)
