"""The app answers through its real stack: keys, problems, logs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from disburse.domain.meta import Role
from tests import factories as f

if TYPE_CHECKING:
    from tests.api_support import Api


def person_body(rid: str | None = None) -> dict[str, object]:
    rid = rid or f.resident_id()
    return {
        "resident_id": rid,
        "name": "王五",
        "home_region": f.COUNTY,
        "poverty_status": "lifted",
        "labour_capacity": "weak",
        "household_id": f"H-{rid[-6:]}",
        "bank_account": f"62220202{rid[-8:-1]}0",
    }


def test_a_clerk_registers_a_person_and_reads_them_back(api: Api) -> None:
    rid = f.resident_id()
    created = api.post("/v1/people", Role.CLERK, person_body(rid))
    assert created.status_code == 201, created.text
    person_id = created.json()["id"]
    assert created.headers["Location"] == f"/v1/people/{person_id}"
    again = api.post("/v1/people", Role.CLERK, person_body(rid))
    assert again.status_code == 200
    assert again.json() == {"id": person_id, "created": False}

    as_clerk = api.get(f"/v1/people/{person_id}", Role.CLERK)
    assert as_clerk.json()["resident_id"] == rid
    assert as_clerk.headers["ETag"] == '"1"'
    as_finance = api.get(f"/v1/people/{person_id}", Role.FINANCE)
    assert as_finance.json()["resident_id"] is None
    assert as_finance.json()["resident_id_masked"] != rid


def test_no_key_is_401_and_a_foreign_county_is_403(api: Api) -> None:
    anonymous = api.client.post("/v1/people", json=person_body())
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.json()["rule_id"] == "AUTH-REQUIRED"
    foreign = api.post("/v1/people", Role.CLERK, person_body(), region="other")
    assert foreign.status_code == 403
    assert foreign.json()["rule_id"] == "REGION-SCOPE"


def test_a_bad_resident_id_names_its_field_and_rule(api: Api) -> None:
    rid = f.resident_id()
    wrong = rid[:17] + ("0" if rid[17] != "0" else "1")
    refused = api.post("/v1/people", Role.CLERK, person_body(wrong))
    assert refused.status_code == 422
    body = refused.json()
    assert body["field"] == "resident_id"
    assert body["rule_id"] == "ID-RESIDENT"


def test_a_claimant_reads_the_people_it_registered_whoever_records_facts_later(api: Api) -> None:
    created = api.post("/v1/people", Role.CLAIMANT, person_body())
    assert created.status_code == 201, created.text
    person_id = created.json()["id"]
    fact = {"fact": {"kind": "status", "effective_on": "2024-02-01", "poverty_status": "monitored"}}
    recorded = api.post(f"/v1/people/{person_id}/facts", Role.CLERK, fact)
    assert recorded.status_code == 200, recorded.text
    mine = api.get(f"/v1/people/{person_id}", Role.CLAIMANT)
    assert mine.status_code == 200
    assert mine.json()["poverty_status"] == "monitored"
    other_claimant = api.get(f"/v1/people/{person_id}", Role.CLAIMANT, region="city")
    assert (other_claimant.status_code, other_claimant.json()["rule_id"]) == (403, "CLAIMANT-OWN")


def test_unknown_fields_are_refused_not_ignored(api: Api) -> None:
    refused = api.post("/v1/people", Role.CLERK, person_body() | {"renewal": True})
    assert refused.status_code == 422
    assert refused.json()["field"] == "body.renewal"
