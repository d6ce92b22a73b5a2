"""Logs never hold a resident ID, and every request is logged with who did what and how long.

The requests here carry resident IDs every way a client may send one: people registered
(again, in bulk, with bad items), IDs that fail their checks, IDs where an id or a header
belongs, full-width digits as spreadsheets write them, and reads that answer with full IDs.
The ``log_trap`` fixture holds the whole session's logs as a deployment writes them.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from disburse.domain.identity import check_digit
from disburse.domain.meta import Role
from tests import factories as f
from tests.api_support import strings

if TYPE_CHECKING:
    from httpx2 import Response

    from tests.api_support import Api, LogTrap

CLERK, CLAIMANT, INSPECTOR = Role.CLERK, Role.CLAIMANT, Role.INSPECTOR
_ID_SHAPE = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9X](?![0-9])")
_CONVERTOR = re.compile(r"{(\w+):\w+}")  # {actor_id:path} is the template {actor_id}
_request = itertools.count(1)


def resident_ids_in(records: list[dict[str, Any]]) -> list[str]:
    """Valid resident IDs in log records, as a reader sees them, each with its record's event.

    Unlike ``LogTrap.resident_ids`` this reads the decoded values (the JSON renderer
    escapes non-ASCII) folded as the ledger folds input, so an ID written in full-width
    digits or with a lower-case x counts too.
    """
    found = []
    for record in records:
        for value in strings(record):
            folded = unicodedata.normalize("NFKC", value).upper()
            found += [
                f"{record.get('event')}: {rid} in {value!r}"
                for rid in _ID_SHAPE.findall(folded)
                if check_digit(rid[:17]) == rid[17]
            ]
    return found


def full_width(text: str) -> str:
    """``text`` with its digits full-width (U+FF10..U+FF19), as some spreadsheets write them."""
    return "".join(chr(ord(c) - ord("0") + 0xFF10) if c.isdigit() else c for c in text)


def person_body(rid: str, region: str = f.COUNTY) -> dict[str, Any]:
    return {
        "resident_id": rid,
        "name": "李四",
        "home_region": region,
        "poverty_status": "monitored",
        "labour_capacity": "full",
        "household_id": "H-0042",
        "bank_account": "6222020200001234",
    }


def wrong_check(rid: str) -> str:
    """The ID with a wrong check character."""
    return rid[:17] + ("1" if rid[17] != "1" else "2")


class Session:
    """Requests with a known X-Request-Id each, to find their log records afterwards."""

    def __init__(self, api: Api, log_trap: LogTrap) -> None:
        self.api = api
        self.trap = log_trap
        self.start = len(log_trap.lines())
        self.sent: list[tuple[str, str, Response, str | None]] = []  # id, route, response, actor

    def call(
        self,
        method: str,
        path: str,
        route: str,
        role: Role = CLERK,
        body: Any = None,
        *,
        actor: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        request_id = f"logs-{next(_request)}"
        response = self.api.call(
            method,
            path,
            role,
            json_body=body,
            actor=actor,
            **{"X-Request-Id": request_id, **(headers or {})},
        )
        assert response.status_code < 500, f"{method} {path}: {response.text}"
        assert response.headers["X-Request-Id"] == request_id
        self.sent.append((request_id, route, response, actor))
        return response

    def records(self) -> list[dict[str, Any]]:
        return self.trap.lines()[self.start :]


def with_check_x() -> str:
    """A valid resident ID whose check character is X."""
    return next(rid for n in range(1000) if (rid := f.resident_id(serial=n)).endswith("X"))


def test_requests_carrying_resident_ids_log_none(api: Api, log_trap: LogTrap) -> None:
    s = Session(api, log_trap)
    rid, other_rid, fw_rid, x_rid = (
        f.resident_id(),
        f.resident_id(),
        f.resident_id(),
        with_check_x(),
    )
    # registered, registered again, read back in full by a clerk and an inspector
    created = s.call("POST", "/v1/people", "/v1/people", body=person_body(rid), actor="amy")
    assert created.status_code == 201, created.text
    person = created.json()["id"]
    assert s.call("POST", "/v1/people", "/v1/people", body=person_body(rid)).status_code == 200
    for role in (CLERK, INSPECTOR):
        read = s.call("GET", f"/v1/people/{person}", "/v1/people/{person_id}", role)
        assert read.json()["resident_id"] == rid
    # full-width digits, as spreadsheets write them, and a lower-case x
    again = s.call("POST", "/v1/people", "/v1/people", body=person_body(full_width(rid)))
    assert again.json() == {"id": person, "created": False}
    for new in (full_width(fw_rid), x_rid.lower()):
        assert s.call("POST", "/v1/people", "/v1/people", body=person_body(new)).status_code == 201
    # refused: a wrong check character, wrong lengths, a bad birth date, another county
    for bad in (wrong_check(rid), rid[:17], rid + "0", rid[:10] + "13" + rid[12:]):
        refused = s.call("POST", "/v1/people", "/v1/people", body=person_body(bad))
        assert refused.status_code == 422, refused.text
        assert refused.json()["rule_id"] == "ID-RESIDENT"
        assert bad not in refused.text, "a refused ID is echoed back"
    foreign = s.call(
        "POST", "/v1/people", "/v1/people", body=person_body(other_rid, f.OTHER_COUNTY)
    )
    assert foreign.status_code == 403
    # a resident ID where a person id, an actor, a key or a request header belongs
    s.call("GET", f"/v1/people/{rid}", "/v1/people/{person_id}")
    s.call("GET", f"/v1/people/{full_width(rid)}", "/v1/people/{person_id}")
    s.call("GET", f"/v1/balances/people/{rid}", "/v1/balances/people/{person_id}")
    s.call("GET", f"/v1/audit/actors/{rid}", "/v1/audit/actors/{actor_id:path}", INSPECTOR)
    s.call("GET", f"/v1/residents/{rid}", "unmatched")
    s.call("GET", f"/v1/people/{person}", "/v1/people/{person_id}", actor=rid)
    body = person_body(f.resident_id())
    for _ in range(2):  # the second is a replay
        keyed = s.call(
            "POST", "/v1/people", "/v1/people", body=body, headers={"Idempotency-Key": rid}
        )
        assert keyed.status_code == 201
    reused = s.call(
        "POST", "/v1/people", "/v1/people", body=person_body(rid), headers={"Idempotency-Key": rid}
    )
    assert reused.json()["rule_id"] == "IDEMPOTENCY-KEY-REUSED"
    api.client.get("/healthz", headers={"X-Request-Id": rid})
    # with a revoked, unknown or no key: only the path is known
    for headers in ({"Authorization": f"Bearer dsb_{rid}"}, {"Authorization": "Bearer x"}, {}):
        for path in (f"/v1/people/{rid}", f"/v1/people/{full_width(rid)}"):
            assert api.client.get(path, headers=headers).status_code == 401
    # in bulk: new people, a known one, full-width digits, bad IDs, another county's person
    items = [
        person_body(f.resident_id()),
        person_body(rid),
        person_body(full_width(f.resident_id())),
        person_body(wrong_check(f.resident_id())),
        person_body(rid[:17] + "Z"),
        person_body(f.resident_id(f.OTHER_COUNTY), f.OTHER_COUNTY),
        {"resident_id": f.resident_id()},  # incomplete
        person_body(rid) | {"resident_id": int(wrong_check(rid)[:18])},  # a number
    ]
    for role in (CLERK, CLAIMANT):
        bulk = s.call("POST", "/v1/bulk/people", "/v1/bulk/people", role, {"items": items})
        assert bulk.status_code == 200, bulk.text
        assert bulk.json()["accepted"] == 3, bulk.text
        assert wrong_check(rid) not in bulk.text

    records = s.records()
    assert len(records) >= len(s.sent)
    assert log_trap.resident_ids() == []
    assert resident_ids_in(records) == []


def test_every_request_is_logged_with_its_id_client_actor_route_status_and_duration(
    api: Api, log_trap: LogTrap
) -> None:
    s = Session(api, log_trap)
    person = str(f.register(api.ledger))
    s.call("GET", f"/v1/people/{person}", "/v1/people/{person_id}", actor="amy")
    s.call("GET", f"/v1/people/{person}", "/v1/people/{person_id}", Role.FINANCE)
    s.call("POST", "/v1/people", "/v1/people", body=person_body(f.resident_id()), actor="bo")
    s.call("POST", "/v1/people", "/v1/people", body={"name": "no id"}, actor="bo")  # 422
    s.call("GET", f"/v1/people/{person}/nothing", "unmatched")  # 404
    s.call("POST", f"/v1/people/{person}/facts", "/v1/people/{person_id}/facts", Role.FINANCE)
    s.call("GET", "/v1/alerts", "/v1/alerts", Role.FINANCE, actor="cy")
    s.call(
        "GET", "/v1/audit/actors/clerk-county/amy", "/v1/audit/actors/{actor_id:path}", INSPECTOR
    )
    by_id = {r["request_id"]: r for r in s.records() if r.get("event") == "request"}
    for request_id, route, response, actor in s.sent:
        record = by_id.get(request_id)
        assert record is not None, f"{request_id} ({route}) was not logged"
        principal = response.request.headers["Authorization"]
        client = next(
            f"{r.value}-{region}" for (r, region), k in api.keys.items() if k in principal
        )
        expected = {
            "request_id": request_id,
            "method": response.request.method,
            "route": route,
            "status": response.status_code,
            "client": client if route != "unmatched" else None,
            "actor": (f"{client}/{actor}" if actor else client) if route != "unmatched" else None,
        }
        logged = {k: record.get(k) for k in expected}
        logged["route"] = _CONVERTOR.sub(r"{\1}", str(logged["route"]))
        assert logged == expected | {"route": _CONVERTOR.sub(r"{\1}", route)}
        assert isinstance(record["duration_ms"], int | float)
        assert record["duration_ms"] >= 0
        assert record["level"] == "info"
    rules = {by_id[i]["rule_id"] for i, _, response, _ in s.sent if response.status_code >= 400}
    assert rules >= {"REQUEST-SCHEMA", "ROUTE-NOT-FOUND", "ROLE-FORBIDDEN"}
    # the operations routes and refused keys are logged too, without a client
    anonymous = api.client.get("/v1/alerts", headers={"X-Request-Id": "logs-anonymous"})
    assert anonymous.status_code == 401
    health = api.client.get("/healthz", headers={"X-Request-Id": "logs-health"})
    assert health.status_code == 200
    records = {r["request_id"]: r for r in log_trap.lines() if r.get("event") == "request"}
    assert records["logs-anonymous"]["route"] == "/v1/alerts"
    assert records["logs-anonymous"]["status"] == 401
    assert records["logs-anonymous"]["rule_id"] == "AUTH-REQUIRED"
    assert (records["logs-anonymous"]["client"], records["logs-anonymous"]["actor"]) == (None, None)
    assert (records["logs-health"]["route"], records["logs-health"]["status"]) == ("/healthz", 200)


def test_logs_hold_no_resident_id(log_trap: LogTrap) -> None:
    """The whole session's logs so far (the trap is session-scoped): no resident ID anywhere.

    Runs after the other tests of this module and of every module before it.
    """
    assert log_trap.resident_ids() == []
    assert resident_ids_in(log_trap.lines()) == []
