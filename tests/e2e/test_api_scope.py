"""Nothing is said about another region: refusals come first and name none of its things.

A key of another county learns nothing from a refusal: not the region of a payout,
person or fund it named, not whether one of its ids exists there beyond the refusal
itself, and never its id. Races end in the same answers as calls one after the other.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from disburse.domain.fund import FundSource
from disburse.domain.meta import Role
from disburse.domain.organisation import OrganisationKind
from tests import factories as f
from tests.e2e.test_api_access import (
    ROLES,
    ROUTES,
    Scope,
    World,
    build_world,
    person_body,
)
from tests.integration.test_alerts import force, grant

if TYPE_CHECKING:
    from collections.abc import Callable

    from httpx2 import Response

    from tests.api_support import Api

FINANCE, CLERK, INSPECTOR = Role.FINANCE, Role.CLERK, Role.INSPECTOR


def refused_in_scope(response: Response, *unsaid: str) -> dict[str, Any]:
    """A 403 REGION-SCOPE problem whose detail, field and errors hold none of ``unsaid``."""
    assert response.status_code == 403, response.text
    problem: dict[str, Any] = response.json()
    assert problem["rule_id"] == "REGION-SCOPE", problem
    said = json.dumps([problem["detail"], problem.get("field"), problem.get("errors")])
    leaked = [text for text in unsaid if text in said]
    assert leaked == [], f"the refusal names {leaked}: {said}"
    return problem


def _other_county_batch(api: Api) -> tuple[str, str]:
    """A fund of the other county, and a batch of one of its stipends: (fund, batch)."""
    ledger = api.ledger
    place = f.county(ledger, region=f.OTHER_COUNTY)
    post_id, _ = f.staffed_post(ledger, place, f.register(ledger, region=f.OTHER_COUNTY))
    payout = ledger.posts.record_attendance(
        f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
    )
    assert payout is not None
    ledger.payouts.approve(f.finance(), payout)
    batch = ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=[payout])
    return str(place.fund_id), str(batch)


# -- 1. foreign ids in a command's body -------------------------------------------------------


def test_a_batch_naming_a_payout_of_another_county_is_refused_region_scope_before_its_rules(
    api: Api,
) -> None:
    """Not BATCH-FUND ("paid from another fund"): that would say the payout exists there."""
    story = f.money_story(api.ledger)
    foreign = str(story.pending)
    fund, batch = _other_county_batch(api)

    batched = api.call(
        "POST",
        "/v1/payment-batches",
        FINANCE,
        "other",
        json_body={"fund_id": fund, "payout_ids": [foreign]},
    )
    refused_in_scope(batched, foreign, f.COUNTY)

    results = api.call(
        "POST",
        f"/v1/payment-batches/{batch}/results",
        FINANCE,
        "other",
        json_body={
            "control_count": 1,
            "control_total_fen": 1,
            "results": [{"payout_id": foreign, "outcome": "paid", "bank_reference": "B-1"}],
        },
    )
    refused_in_scope(results, foreign, f.COUNTY)


def test_posts_and_applications_naming_a_person_or_fund_of_another_county_are_refused(
    api: Api,
) -> None:
    ledger = api.ledger
    place = f.county(ledger)
    post_id = f.post(ledger, place)
    stranger = str(f.register(ledger, region=f.OTHER_COUNTY))
    foreign_fund = ledger.funds.allocate(
        f.finance(),
        source=FundSource.EMPLOYMENT_SUBSIDY,
        region_code=f.OTHER_COUNTY,
        year=2024,
        amount_fen=1_000_000,
    )
    broker = str(f.organisation(ledger, OrganisationKind.BROKER))

    appointed = api.post(
        f"/v1/posts/{post_id}/appointments",
        CLERK,
        {"person_id": stranger, "term_start": "2024-01-01", "term_end": "2024-12-31"},
    )
    refused_in_scope(appointed, stranger, f.OTHER_COUNTY)
    created = api.post(
        "/v1/posts",
        CLERK,
        {
            "site_id": str(place.village_id),
            "title": "护林员",
            "stipend_fen": 150_000,
            "fund_id": str(foreign_fund),
            "part_time": False,
        },
    )
    refused_in_scope(created, str(foreign_fund), f.OTHER_COUNTY)
    submitted = api.post(
        "/v1/applications",
        CLERK,
        {
            "programme": "SVC-BROKER",
            "applicant_id": broker,
            "beneficiary_ids": [stranger],
            "period_start": "2024-01-01",
            "evidence": ["contracts"],
        },
    )
    refused_in_scope(submitted, stranger, f.OTHER_COUNTY)


# -- 2 and 3. registering a person of another county -------------------------------------------


def test_registering_a_resident_id_of_another_county_names_neither_the_county_nor_the_person(
    api: Api,
) -> None:
    body = person_body()
    first = api.post("/v1/people", CLERK, body)
    assert first.status_code == 201, first.text
    person_id = first.json()["id"]
    theirs = body | {"home_region": f.OTHER_COUNTY}

    for role in (CLERK, Role.CLAIMANT):
        refused = api.call("POST", "/v1/people", role, "other", json_body=theirs)
        problem = refused_in_scope(refused, f.COUNTY, person_id, body["resident_id"])
        assert problem["field"] == "resident_id"
        assert "id" not in problem
    bulk = api.call("POST", "/v1/bulk/people", CLERK, "other", json_body={"items": [theirs]})
    [item] = bulk.json()["items"]
    assert (item["accepted"], item["problem"]["rule_id"]) == (False, "REGION-SCOPE")
    assert f.COUNTY not in json.dumps(item)
    assert person_id not in json.dumps(item)
    # the county itself is answered as before: the same person
    again = api.post("/v1/people", CLERK, body)
    assert (again.status_code, again.json()) == (200, {"id": person_id, "created": False})


def _organisation_body() -> dict[str, Any]:
    return {
        "credit_code": f.credit_code(),
        "kind": "broker",
        "name": "某劳务公司",
        "region_code": f.COUNTY,
        "bank_account": "6228480012345670",
    }


@pytest.mark.parametrize(
    ("path", "body", "region_field"),
    [
        ("/v1/people", person_body, "home_region"),
        ("/v1/organisations", _organisation_body, "region_code"),
    ],
    ids=["person", "organisation"],
)
def test_concurrent_registrations_from_two_counties_answer_by_one_rule(
    api: Api, path: str, body: Callable[[], dict[str, Any]], region_field: str
) -> None:
    """The county that registered it first gets its id; the other only a refusal, every time."""
    sent = body()
    callers = [("county", sent), ("other", sent | {region_field: f.OTHER_COUNTY})] * 10
    start = threading.Barrier(len(callers))
    answers: list[tuple[str, Response]] = []
    lock = threading.Lock()

    def register(label: str, payload: dict[str, Any]) -> None:
        start.wait()
        response = api.call("POST", path, CLERK, label, json_body=payload)
        with lock:
            answers.append((label, response))

    threads = [threading.Thread(target=register, args=caller) for caller in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    [winner] = [label for label, r in answers if r.status_code == 201]
    created_id = next(r.json()["id"] for label, r in answers if r.status_code == 201)
    home = f.COUNTY if winner == "county" else f.OTHER_COUNTY
    seen = Counter((label, r.status_code) for label, r in answers)
    loser = "other" if winner == "county" else "county"
    assert seen == Counter({(winner, 201): 1, (winner, 200): 9, (loser, 403): 10}), seen
    for label, response in answers:
        if label == winner:
            assert response.json()["id"] == created_id
        else:
            refused_in_scope(response, created_id, home)


# -- 4. no denial of the authorization matrix names the county or its resources ---------------


def _unsaid(world: World) -> list[str]:
    ids = {*world.params.values(), *world.own.values(), *world.others.values()}
    return sorted({f.COUNTY, *(i for i in ids if len(i) == 36)})


def test_no_refusal_of_another_countys_key_names_the_county_or_its_resources(api: Api) -> None:
    world = build_world(api)
    unsaid = _unsaid(world)
    checked = 0
    for row in ROUTES:
        if row.scope not in {Scope.RESOURCE, Scope.BULK} and not row.region_query:
            continue
        for role in ROLES:
            if role not in row.roles:
                continue
            query = f"?region={f.COUNTY}" if row.scope is Scope.LIST else ""
            body = row.body(world) if row.body is not None else None
            response = api.call(
                row.method, row.url(world, role) + query, role, "other", json_body=body
            )
            where = f"{row.method} {row.path} as {role.value}/other"
            if row.scope is Scope.BULK:
                problems = [i["problem"] for i in response.json()["items"]]
                said = json.dumps([[p["detail"], p["field"], p["errors"]] for p in problems])
                assert [p["rule_id"] for p in problems] == ["REGION-SCOPE"], where
                assert [u for u in unsaid if u in said] == [], f"{where}: {said}"
            else:
                try:
                    refused_in_scope(response, *unsaid)
                except AssertionError as error:
                    raise AssertionError(f"{where}: {error}") from None
            checked += 1
    assert checked > 40


# -- 6. an alert belongs to every region it concerns ------------------------------------------


def test_a_dup_grant_raised_in_another_county_is_listed_and_resolved_by_the_home_inspector(
    api: Api,
) -> None:
    person = f.register(api.ledger)  # home: the county
    force(api.ledger, grant(person), grant(person, region=f.OTHER_COUNTY))
    api.catch_up()

    listed = {}
    for label in ("county", "other"):
        page = api.get("/v1/alerts?rule=FRAUD-DUP-GRANT", INSPECTOR, region=label)
        assert page.status_code == 200, page.text
        [alert] = page.json()["items"]
        assert alert["person_id"] == str(person)
        assert alert["regions"] == sorted([f.COUNTY, f.OTHER_COUNTY])
        listed[label] = alert
    own = api.get(f"/v1/alerts?rule=FRAUD-DUP-GRANT&region={f.COUNTY}", INSPECTOR)
    assert [a["alert_id"] for a in own.json()["items"]] == [listed["county"]["alert_id"]]
    elsewhere = api.get("/v1/alerts?rule=FRAUD-DUP-GRANT&region=220223", INSPECTOR, region="city")
    assert elsewhere.json()["items"] == []

    alert_id = listed["county"]["alert_id"]
    resolved = api.post(
        f"/v1/alerts/{alert_id}/resolve",
        INSPECTOR,
        {"outcome": "confirmed", "reason": "two counties paid one trip"},
    )
    assert resolved.status_code == 200, resolved.text
    again = api.call(
        "POST",
        f"/v1/alerts/{alert_id}/resolve",
        INSPECTOR,
        "other",
        json_body={"outcome": "dismissed", "reason": "seen"},
    )
    assert (again.status_code, again.json()["rule_id"]) == (409, "ALERT-RESOLVED")


def test_an_alert_of_one_county_only_stays_out_of_the_others_reach(api: Api) -> None:
    person = f.register(api.ledger)
    force(api.ledger, grant(person, period="2023"), grant(person, period="2023"))
    api.catch_up()
    [alert] = api.views.alerts.find(rule="FRAUD-DUP-GRANT")
    assert alert.regions == (f.COUNTY,)
    outside = api.get("/v1/alerts?rule=FRAUD-DUP-GRANT", INSPECTOR, region="other")
    assert outside.json()["items"] == []
    refused = api.call(
        "POST",
        f"/v1/alerts/{alert.alert_id}/resolve",
        INSPECTOR,
        "other",
        json_body={"outcome": "dismissed", "reason": "not ours"},
    )
    refused_in_scope(refused, f.COUNTY, str(person))
