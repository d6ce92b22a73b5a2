"""How the API runs commands: idempotent retries, races, If-Match, bulk files and problems.

On SQLite and PostgreSQL, through the real app; the store's log head shows what was written.
"""

from __future__ import annotations

import threading
import uuid
from functools import partial
from typing import TYPE_CHECKING, Any

import pytest

from disburse.domain.meta import Role
from tests import factories as f
from tests.e2e.test_api_lifecycle import (
    BROKER_AMOUNT,
    JILIN_GRANTS,
    STIPEND,
    County,
    expect,
    grant_body,
    head,
    person_body,
    publish,
    refused,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from httpx2 import Response

    from tests.api_support import Api

PROBLEM_FIELDS = ("type", "title", "status", "detail", "instance", "rule_id", "request_id")


def race(*calls: Callable[[], Response]) -> list[Response]:
    """Run the calls in threads released together; their responses, in call order."""
    barrier = threading.Barrier(len(calls))
    responses: list[Response | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Response]) -> None:
        try:
            barrier.wait(timeout=30)
            responses[index] = call()
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert all(r is not None for r in responses), "a racer did not finish"
    return [r for r in responses if r is not None]


# -- 5. idempotent retries -------------------------------------------------------------------


def test_a_retry_with_the_same_key_and_body_replays_the_answer_and_writes_nothing(
    api: Api,
) -> None:
    body = person_body()
    key = {"Idempotency-Key": "reg-2024-0001"}
    first = api.post("/v1/people", Role.CLERK, body, **key)
    created = expect(first, 201)
    assert created["created"] is True
    assert "Idempotent-Replayed" not in first.headers
    written = head(api)

    for _ in range(2):
        retry = api.post("/v1/people", Role.CLERK, body, **key)
        assert retry.status_code == 201
        assert retry.json() == created
        assert retry.headers["Idempotent-Replayed"] == "true"
        assert retry.headers["Location"] == first.headers["Location"]
    assert head(api) == written

    other_body = person_body()
    reused = refused(
        api.post("/v1/people", Role.CLERK, other_body, **key), 422, "IDEMPOTENCY-KEY-REUSED"
    )
    assert reused["field"] == "header.Idempotency-Key"
    assert head(api) == written

    # The same key from another client is that client's own: it runs, and is not a replay.
    elsewhere = api.post("/v1/people", Role.CLERK, other_body, region="city", **key)
    assert expect(elsewhere, 201)["created"] is True
    assert "Idempotent-Replayed" not in elsewhere.headers
    assert head(api) > written
    again = api.post("/v1/people", Role.CLERK, body, **key)
    assert (again.status_code, again.json()) == (201, created)
    assert again.headers["Idempotent-Replayed"] == "true"

    for bad in ("", "x" * 256, "has space"):
        refused(
            api.post("/v1/people", Role.CLERK, person_body(), **{"Idempotency-Key": bad}),
            400,
            "IDEMPOTENCY-KEY",
        )


def test_a_refused_command_is_not_recorded_so_its_retry_runs_again(api: Api) -> None:
    county = County(api)
    fund_id = county.open_fund(amount_fen=100_000)  # less than one stipend
    jan = county.stipend(fund_id)
    key = {"Idempotency-Key": "approve-jan"}
    written = head(api)

    for _ in range(2):
        short = county.approve(jan.payout_id, **key)
        refused(short, 422, "FUND-INSUFFICIENT")
        assert "Idempotent-Replayed" not in short.headers
    assert head(api) == written

    topped = api.post(
        f"/v1/funds/{fund_id}/top-ups",
        Role.FINANCE,
        {"amount_fen": 100_000, "reason": "supplementary budget"},
    )
    assert expect(topped, 200) == {"fund_id": fund_id, "added_fen": 100_000}
    approved = county.approve(jan.payout_id, **key)
    assert expect(approved, 200)["status"] == "approved"
    assert "Idempotent-Replayed" not in approved.headers
    written = head(api)
    replayed = county.approve(jan.payout_id, **key)
    assert (replayed.status_code, replayed.json()) == (200, approved.json())
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert head(api) == written
    # Without the key, approving again is a new command, refused by the payout's state.
    refused(county.approve(jan.payout_id), 409, "PAYOUT-STATE")
    fund = county.fund(fund_id)
    assert (fund["allocated_fen"], fund["committed_fen"]) == (200_000, STIPEND)


# -- 6. concurrent approvals -----------------------------------------------------------------


@pytest.mark.parametrize("same_officer", [True, False], ids=["one-officer", "two-officers"])
def test_two_simultaneous_final_approvals_commit_the_money_once(
    api: Api, same_officer: bool
) -> None:
    county = County(api)
    fund_id = county.open_fund()
    payouts = [county.stipend(fund_id).payout_id for _ in range(5)]
    actors = ("alice", "alice") if same_officer else ("alice", "bob")

    for payout_id in payouts:
        responses = race(*(partial(county.approve, payout_id, actor) for actor in actors))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 409], [r.text for r in responses]
        [won] = [r for r in responses if r.status_code == 200]
        [lost] = [r for r in responses if r.status_code == 409]
        assert won.json()["status"] == "approved"
        assert lost.headers["content-type"] == "application/problem+json"
        # Which conflict the loser meets depends on timing: the payout already approved,
        # the fund already committed to it, or a write race lost twice.
        assert lost.json()["rule_id"] in {"PAYOUT-STATE", "FUND-COMMIT", "CONCURRENT-CHANGE"}
        payout = county.payout(payout_id)
        assert (payout["status"], len(payout["approvers"])) == ("approved", 1)

    fund = county.fund(fund_id)
    assert (fund["committed_fen"], fund["version"]) == (5 * STIPEND, 1 + 5)
    assert fund["available_fen"] == 100_000_000 - 5 * STIPEND


def test_two_simultaneous_retries_with_one_key_both_get_the_one_answer(api: Api) -> None:
    county = County(api)
    fund_id = county.open_fund()
    for number, payout_id in enumerate(county.stipend(fund_id).payout_id for _ in range(3)):
        key = {"Idempotency-Key": f"approve-{number}"}
        responses = race(*(partial(county.approve, payout_id, **key) for _ in range(2)))
        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        assert responses[0].json() == responses[1].json()
        assert sorted(r.headers.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
    assert county.fund(fund_id)["committed_fen"] == 3 * STIPEND


# -- 7. If-Match -----------------------------------------------------------------------------


def test_if_match_refuses_a_decision_taken_on_a_stale_version(api: Api) -> None:
    county = County(api)
    publish(api, f.regional_policy(payouts={"second_approval_above_fen": 100_000}))
    fund_id = county.open_fund()
    jan = county.stipend(fund_id)
    read = api.get(f"/v1/payouts/{jan.payout_id}", Role.FINANCE)
    seen = read.headers["ETag"]
    assert (seen, read.json()["version"]) == ('"1"', 1)

    first = county.approve(jan.payout_id, "alice", **{"If-Match": seen})
    assert expect(first, 200)["status"] == "first_approved"
    current = api.get(f"/v1/payouts/{jan.payout_id}", Role.FINANCE).headers["ETag"]
    assert current == '"2"'
    written = head(api)

    stale = refused(county.approve(jan.payout_id, "bob", **{"If-Match": seen}), 412, "IF-MATCH")
    assert stale["field"] == "header.If-Match"
    for malformed in ("2", '"two"', '"1", "2"'):
        bad = refused(
            county.approve(jan.payout_id, "bob", **{"If-Match": malformed}), 400, "IF-MATCH"
        )
        assert bad["field"] == "header.If-Match"
    refused(
        api.post(
            "/v1/funds",
            Role.FINANCE,
            {"source": "east_west", "region_code": f.COUNTY, "year": 2024, "amount_fen": 1},
            **{"If-Match": '"1"'},
        ),
        400,
        "IF-MATCH",
    )
    assert head(api) == written
    assert county.fund(fund_id)["committed_fen"] == 0

    final = county.approve(jan.payout_id, "bob", **{"If-Match": current})
    assert expect(final, 200)["status"] == "approved"
    assert county.fund(fund_id)["committed_fen"] == STIPEND
    feb = expect(county.attendance(jan.post_id, "2024-02"), 200)["payout_id"]
    anything = county.approve(feb, "alice", **{"If-Match": "*"})
    assert expect(anything, 200)["status"] == "first_approved"
    weak = county.approve(feb, "bob", **{"If-Match": 'W/"2"'})
    assert expect(weak, 200)["status"] == "approved"


# -- 8. bulk files ---------------------------------------------------------------------------


def test_a_bulk_file_of_people_is_reported_item_by_item_and_resent_without_effect(
    api: Api,
) -> None:
    good, other = person_body(), person_body()
    rid = f.resident_id()
    bad_check = person_body(rid[:17] + ("0" if rid[17] != "0" else "1"))
    nowhere = person_body() | {"home_region": "990101"}
    nameless = {k: v for k, v in person_body().items() if k != "name"}
    foreign = person_body(f.resident_id(f.OTHER_COUNTY)) | {"home_region": f.OTHER_COUNTY}
    items = [good, bad_check, other, nowhere, nameless, foreign, good]

    sent = api.post("/v1/bulk/people", Role.CLERK, {"items": items})
    report = expect(sent, 200)
    assert (report["accepted"], report["refused"]) == (3, 4)
    assert [r["index"] for r in report["items"]] == list(range(7))
    assert [r["accepted"] for r in report["items"]] == [
        True,
        False,
        True,
        False,
        False,
        False,
        True,
    ]
    problems = {
        r["index"]: (r["problem"]["status"], r["problem"]["rule_id"], r["problem"]["field"])
        for r in report["items"]
        if not r["accepted"]
    }
    assert problems == {
        1: (422, "ID-RESIDENT", "resident_id"),
        3: (422, "REGION-CODE", "home_region"),
        4: (422, "REQUEST-SCHEMA", "name"),
        5: (403, "REGION-SCOPE", None),
    }
    assert [e["field"] for e in report["items"][4]["problem"]["errors"]] == ["name"]
    first, second, again = (report["items"][i] for i in (0, 2, 6))
    assert (first["created"], second["created"], again["created"]) == (True, True, False)
    assert again["id"] == first["id"]
    person = expect(api.get(f"/v1/people/{first['id']}", Role.CLERK), 200)
    assert person["resident_id"] == good["resident_id"]
    assert rid not in sent.text

    written = head(api)
    resent = expect(api.post("/v1/bulk/people", Role.CLERK, {"items": items}), 200)
    assert head(api) == written
    assert [(r["accepted"], r["id"]) for r in resent["items"]] == [
        (r["accepted"], r["id"]) for r in report["items"]
    ]
    assert [r["created"] for r in resent["items"] if r["accepted"]] == [False, False, False]

    key = {"Idempotency-Key": "people-file-7"}
    keyed = api.post("/v1/bulk/people", Role.CLERK, {"items": items}, **key)
    assert expect(keyed, 200) == resent
    recorded = head(api)
    replay = api.post("/v1/bulk/people", Role.CLERK, {"items": items}, **key)
    assert (replay.status_code, replay.json()) == (200, resent)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert head(api) == recorded
    refused(
        api.post("/v1/bulk/people", Role.CLERK, {"items": items[:2]}, **key),
        422,
        "IDEMPOTENCY-KEY-REUSED",
    )
    refused(api.post("/v1/bulk/people", Role.FINANCE, {"items": items}), 403, "ROLE-FORBIDDEN")


def test_a_bulk_file_of_claims_needs_external_ids_and_is_resent_without_effect(
    api: Api,
) -> None:
    county = County(api)
    publish(api, f.regional_policy(grant=JILIN_GRANTS, programmes=BROKER_AMOUNT))
    county.open_fund("rural_revitalisation")
    county.open_fund("employment_subsidy")
    first, second, worker = county.person(), county.person(), county.person()
    outsider = expect(
        api.post("/v1/people", Role.CLERK, person_body() | {"poverty_status": "none"}), 201
    )["id"]
    broker = county.organisation()

    def grant(person_id: str, external: str | None, **changes: Any) -> dict[str, Any]:
        body = grant_body(person_id, external_claim_id=external, **changes)
        if external is None:
            del body["external_claim_id"]
        return {"type": "transport_grant"} | body

    items = [
        grant(first, "HR-1"),
        grant(second, None),
        grant(second, "HR-2", months_worked=2),
        grant(outsider, "HR-3"),
        grant(first, "HR-4", work_province="32"),
        grant(str(uuid.uuid4()), "HR-5"),
        {"type": "pension", "external_claim_id": "HR-6"},
        {
            "type": "application",
            "programme": "SVC-BROKER",
            "applicant_id": broker,
            "beneficiary_ids": [worker],
            "period_start": "2024-01-01",
            "evidence": ["contracts 2024-01"],
            "external_claim_id": "HR-7",
        },
        grant(second, "HR-8", work_province="21"),
    ]
    report = expect(api.post("/v1/bulk/claims", Role.CLAIMANT, {"items": items}), 200)
    assert (report["accepted"], report["refused"]) == (3, 6)
    problems = {
        r["index"]: (r["problem"]["status"], r["problem"]["rule_id"], r["problem"]["field"])
        for r in report["items"]
        if not r["accepted"]
    }
    assert problems == {
        1: (422, "REQUEST-SCHEMA", "transport_grant.external_claim_id"),
        2: (422, "GRANT-ELIG", "months_worked"),
        3: (422, "GRANT-ELIG", "person_id"),
        4: (422, "FRAUD-DUP-GRANT", "person_id"),
        5: (404, "PERSON-NOT-FOUND", "person_id"),
    } | {6: problems[6]}
    assert problems[6][:2] == (422, "REQUEST-SCHEMA")  # its field: see the test below
    accepted = {r["index"]: r for r in report["items"] if r["accepted"]}
    assert sorted(accepted) == [0, 7, 8]
    assert all(r["created"] is True and r["payout_id"] for r in accepted.values())
    grant_read = expect(api.get(f"/v1/transport-grants/{accepted[0]['id']}", Role.CLAIMANT), 200)
    assert (grant_read["external_claim_id"], grant_read["amount_fen"]) == ("HR-1", 50_000)
    liaoning = expect(api.get(f"/v1/transport-grants/{accepted[8]['id']}", Role.CLAIMANT), 200)
    assert liaoning["amount_fen"] == 30_000
    application = expect(api.get(f"/v1/applications/{accepted[7]['id']}", Role.CLAIMANT), 200)
    assert (application["external_claim_id"], application["amount_fen"]) == ("HR-7", 20_000)

    written = head(api)
    resent = expect(api.post("/v1/bulk/claims", Role.CLAIMANT, {"items": items}), 200)
    assert head(api) == written
    assert (resent["accepted"], resent["refused"]) == (3, 6)
    for before, after in zip(report["items"], resent["items"], strict=True):
        assert (after["accepted"], after["id"], after["payout_id"]) == (
            before["accepted"],
            before["id"],
            before["payout_id"],
        )
        assert after["created"] is (False if before["accepted"] else None)
    # The same external id for other facts is a conflict, item by item.
    changed = [grant(first, "HR-1", months_worked=9)]
    conflict = expect(api.post("/v1/bulk/claims", Role.CLAIMANT, {"items": changed}), 200)
    [item] = conflict["items"]
    assert (item["accepted"], item["problem"]["status"], item["problem"]["rule_id"]) == (
        False,
        409,
        "CLAIM-EXTERNAL-ID",
    )
    assert head(api) == written


def test_a_bulk_claim_of_an_unknown_type_names_the_type_field(api: Api) -> None:
    """An item whose ``type`` is neither claim type is refused naming ``type``, not ''."""
    sent = api.post(
        "/v1/bulk/claims",
        Role.CLAIMANT,
        {"items": [{"type": "pension", "external_claim_id": "HR-6"}, {"external_claim_id": "x"}]},
    )
    report = expect(sent, 200)
    assert [(r["problem"]["rule_id"], r["problem"]["field"]) for r in report["items"]] == [
        ("REQUEST-SCHEMA", "type"),
        ("REQUEST-SCHEMA", "type"),
    ]


# -- 9. problems -----------------------------------------------------------------------------


def test_every_refusal_is_a_problem_document_naming_its_rule_and_request(api: Api) -> None:
    county = County(api)
    fund_id = county.open_fund()
    jan = county.stipend(fund_id)
    clerk = api.headers(Role.CLERK)
    fund = {"source": "employment_subsidy", "region_code": f.COUNTY, "year": 2024}
    unreadable = api.client.post(
        "/v1/people",
        content=b'{"resident_id": ',
        headers=clerk | {"Content-Type": "application/json"},
    )
    missing = api.post("/v1/funds", Role.FINANCE, fund)
    cases: list[tuple[Response, int, str]] = [
        (api.client.get("/v1/payouts"), 401, "AUTH-REQUIRED"),
        (
            api.client.get("/v1/payouts", headers={"Authorization": "Bearer not-a-key"}),
            401,
            "AUTH-INVALID",
        ),
        (api.get("/v1/payouts", Role.CLAIMANT), 403, "ROLE-FORBIDDEN"),
        (
            api.get(f"/v1/payouts/{jan.payout_id}", Role.FINANCE, region="other"),
            403,
            "REGION-SCOPE",
        ),
        (api.get(f"/v1/payouts/{uuid.uuid4()}", Role.FINANCE), 404, "PAYOUT-NOT-FOUND"),
        (api.get("/v1/nothing-here", Role.FINANCE), 404, "ROUTE-NOT-FOUND"),
        (api.call("DELETE", f"/v1/funds/{fund_id}", Role.FINANCE), 405, "METHOD-NOT-ALLOWED"),
        (api.post("/v1/funds", Role.FINANCE, fund | {"amount_fen": 1}), 409, "FUND-EXISTS"),
        (county.approve(jan.payout_id, **{"If-Match": '"7"'}), 412, "IF-MATCH"),
        (county.approve(jan.payout_id, **{"If-Match": "7"}), 400, "IF-MATCH"),
        (
            api.post("/v1/people", Role.CLERK, person_body(), **{"Idempotency-Key": " "}),
            400,
            "IDEMPOTENCY-KEY",
        ),
        (missing, 422, "REQUEST-SCHEMA"),
        (
            api.post("/v1/funds", Role.FINANCE, fund | {"year": 2025, "amount_fen": -5}),
            422,
            "MONEY-FEN",
        ),
        (unreadable, 400, "REQUEST-SCHEMA"),
        (
            api.get("/v1/payouts", Role.FINANCE, **{"X-Min-Position": str(head(api) + 100)}),
            422,
            "MIN-POSITION",
        ),
    ]
    for response, status, rule_id in cases:
        assert response.status_code == status, (rule_id, response.text)
        assert response.headers["content-type"] == "application/problem+json", rule_id
        body = response.json()
        assert all(isinstance(body[key], str | int) and body[key] != "" for key in PROBLEM_FIELDS)
        assert body["rule_id"] == rule_id
        assert body["type"] == f"urn:disburse:problem:{rule_id}"
        assert body["status"] == status
        assert body["instance"] == response.request.url.path
        assert body["request_id"] == response.headers["X-Request-Id"]
    assert unreadable.json()["detail"] == "the request body is not valid JSON"
    assert (missing.json()["field"], [e["field"] for e in missing.json()["errors"]]) == (
        "body.amount_fen",
        ["body.amount_fen"],
    )
    assert "WWW-Authenticate" in cases[0][0].headers

    # A caller's own request id is kept, in the header and in the problem.
    mine = api.post("/v1/people", Role.CLERK, person_body(), **{"X-Request-Id": "mine-42"})
    assert (mine.status_code, mine.headers["X-Request-Id"]) == (201, "mine-42")
    echoed = refused(
        api.post("/v1/funds", Role.FINANCE, fund, **{"X-Request-Id": "mine-43"}),
        422,
        "REQUEST-SCHEMA",
    )
    assert echoed["request_id"] == "mine-43"
