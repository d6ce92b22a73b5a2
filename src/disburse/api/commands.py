"""Running a command for a request: idempotency keys, If-Match, and the response.

A request with an ``Idempotency-Key`` is answered once: its response is recorded as an
event in the same transaction as the events it caused (``LedgerStore.riding``). A retry
with the same key and body gets the recorded response and writes nothing; the same key
with another body is refused (422). Refused commands write nothing and record nothing,
so retrying one runs it again.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from disburse.access.request import RecordedRequest, request_id_for
from disburse.api.problems import ApiError
from disburse.api.responses import JSONResponse
from disburse.domain.errors import DomainError

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from fastapi import Request

    from disburse.api.security import Principal
    from disburse.persistence.store import LedgerStore

R = TypeVar("R")
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_ETAG = re.compile(r'^(?:W/)?"(\d+)"$')
REPLAYED = "Idempotent-Replayed"


def etag(version: int) -> str:
    """The entity tag of an aggregate version."""
    return f'"{version}"'


def expected_version(request: Request) -> int | None:
    """The version named by ``If-Match`` (None if absent or ``*``); 400 if unreadable."""
    value = request.headers.get("if-match")
    if value is None or value.strip() == "*":
        return None
    found = _ETAG.fullmatch(value.strip())
    if found is None:
        raise ApiError(
            400,
            "IF-MATCH",
            'If-Match takes one entity tag as given in ETag, e.g. "3"',
            field="header.If-Match",
        )
    return int(found.group(1))


def position_header(store: LedgerStore) -> dict[str, str]:
    """``X-Ledger-Position``: what this request wrote last, else the head (wait for it all)."""
    written = store.last_written()
    if not written:
        written = store.recorder.max_notification_id() or 0
    return {"X-Ledger-Position": str(written)}


def refuse_if_match(request: Request) -> None:
    """Commands that create or submit have no version to match: 400 if If-Match is sent."""
    if request.headers.get("if-match") is not None:
        raise ApiError(
            400, "IF-MATCH", "this command names no single resource", field="header.If-Match"
        )


def idempotency_key(request: Request) -> str | None:
    """The request's ``Idempotency-Key`` (None without one); 400 if malformed."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise ApiError(
            400,
            "IDEMPOTENCY-KEY",
            "Idempotency-Key is 1-255 visible ASCII characters",
            field="header.Idempotency-Key",
        )
    return key


def fingerprint(request: Request, payload: BaseModel | None) -> str:
    """What makes two requests the same: method, path, query and the validated body.

    The body is compared as data (keys sorted), not as the bytes sent.
    """
    body = "" if payload is None else json.dumps(payload.model_dump(mode="json"), sort_keys=True)
    text = f"{request.method} {request.url.path}?{request.url.query}\n{body}"
    return hashlib.sha256(text.encode()).hexdigest()


def _as_json(value: BaseModel | dict[str, Any]) -> object:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def replay(request: Request, record: RecordedRequest, seen: str) -> JSONResponse:
    """The first response to a request with this key (422 if the key was used otherwise)."""
    if record.fingerprint != seen:
        raise ApiError(
            422,
            "IDEMPOTENCY-KEY-REUSED",
            "this Idempotency-Key was used for a different request; use a new key",
            field="header.Idempotency-Key",
        )
    store: LedgerStore = request.app.state.disburse.ledger.store
    headers = {REPLAYED: "true", **position_header(store)}
    if record.location:
        headers["Location"] = record.location
    request.state.replayed = True
    return JSONResponse(record.body, status_code=record.status, headers=headers)


def run_command(  # noqa: C901 - the parts of a command request are independent
    request: Request,
    principal: Principal,
    action: Callable[[], R],
    render: Callable[[R], BaseModel | dict[str, Any]],
    *,
    payload: BaseModel | None = None,
    status_code: int | Callable[[R], int] = 200,
    location: Callable[[R], str] | None = None,
    target: UUID | None = None,
) -> JSONResponse:
    """Run ``action`` once for this request and answer with ``render(result)``.

    ``action`` is one call of an application command (one transaction): the record of
    an idempotent request is saved with that transaction, rendered from its result.

    ``target`` is the aggregate the path names: ``If-Match`` applies to it.
    ``status_code`` may depend on the result (201 created, 200 already there).
    """

    def code_of(result: R) -> int:
        return status_code(result) if callable(status_code) else status_code

    store: LedgerStore = request.app.state.disburse.ledger.store
    store.forget_last_written()
    key = idempotency_key(request)
    if target is None:
        refuse_if_match(request)
    version = expected_version(request)
    seen = fingerprint(request, payload)
    record_id = request_id_for(principal.client_id, key) if key is not None else None
    if record_id is not None:
        earlier = store.find(RecordedRequest, record_id)
        if earlier is not None:
            return replay(request, earlier, seen)
    answer: dict[str, Any] = {}

    def rider(result: R) -> RecordedRequest:
        answer["body"] = _as_json(render(result))
        answer["location"] = location(result) if location is not None else None
        return RecordedRequest(
            client_id=principal.client_id,
            key=key or "",
            fingerprint=seen,
            status=code_of(result),
            body=answer["body"],
            location=answer["location"],
            meta=principal.context().meta(),
        )

    expected = {target: version} if target is not None and version is not None else {}
    try:
        with store.expecting(expected):
            if record_id is None:
                result = action()
            else:
                with store.riding(rider):
                    result = action()
                    if store.rider_pending():  # the action saved nothing: record anyway
                        store.transact(lambda _: result)
    except DomainError:
        earlier = store.find(RecordedRequest, record_id) if record_id is not None else None
        if earlier is not None:  # a concurrent retry with the same key won
            return replay(request, earlier, seen)
        raise
    if "body" not in answer:
        answer["body"] = _as_json(render(result))
        answer["location"] = location(result) if location is not None else None
    headers = position_header(store)
    if answer["location"]:
        headers["Location"] = answer["location"]
    return JSONResponse(answer["body"], status_code=code_of(result), headers=headers)
