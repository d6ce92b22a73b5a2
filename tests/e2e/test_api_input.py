"""Nothing a client sends may stop the ledger: text, integers, dates and body sizes.

On SQLite and PostgreSQL, through the real app. Each refusal is a problem naming the
field and the rule, and the store's log head shows that nothing was written.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from disburse.domain.meta import Role
from tests import factories as f
from tests.e2e.test_api_lifecycle import County, expect, grant_body, head, person_body, refused

if TYPE_CHECKING:
    from collections.abc import Iterator

    from httpx2 import Response

    from tests.api_support import Api

MIB = 1024 * 1024


def send(api: Api, path: str, role: Role, body: Any, **headers: str) -> Response:
    """POST ``body`` as ASCII-escaped JSON (a lone surrogate travels escaped, as JSON allows)."""
    return api.client.post(
        path,
        content=json.dumps(body).encode(),
        headers=api.headers(role, **headers) | {"Content-Type": "application/json"},
    )


def text_refused(response: Response, field: str) -> None:
    """A 422 TEXT-INVALID problem naming ``field``."""
    problem = refused(response, 422, "TEXT-INVALID")
    assert problem["field"] == field, problem
    assert [e["rule_id"] for e in problem["errors"]] == ["TEXT-INVALID"], problem


def test_a_lone_surrogate_in_a_name_is_refused_with_text_invalid_and_nothing_is_written(
    api: Api,
) -> None:
    before = head(api)

    sent = send(api, "/v1/people", Role.CLERK, person_body() | {"name": "\ud800abc"})

    text_refused(sent, "body.name")
    assert head(api) == before
    api.catch_up()
    assert expect(api.client.get("/readyz"), 200)["status"] == "ready"


def test_nul_in_reasons_names_households_and_claim_ids_is_refused_and_nothing_written(
    api: Api,
) -> None:
    county = County(api)
    fund_id = county.open_fund("rural_revitalisation")
    person_id = county.person()
    organisation = {
        "credit_code": f.credit_code(),
        "kind": "broker",
        "name": "某\x00公司",
        "region_code": f.COUNTY,
        "bank_account": "6228480012345678",
    }
    site = {"region_code": f.COUNTY, "kind": "village", "name": "东\x00风村", "population": 10}
    cases = [
        ("/v1/funds/" + fund_id + "/top-ups", Role.FINANCE, {"amount_fen": 100, "reason": "a\x00"}),
        ("/v1/people", Role.CLERK, person_body() | {"name": "王\x00五"}),
        ("/v1/people", Role.CLERK, person_body() | {"household_id": "H-\x001"}),
        ("/v1/organisations", Role.CLERK, organisation),
        ("/v1/sites", Role.CLERK, site),
        (
            "/v1/transport-grants",
            Role.CLAIMANT,
            grant_body(person_id, external_claim_id="HR-\x00-1"),
        ),
    ]
    fields = ["body.reason", "body.name", "body.household_id", "body.name", "body.name"]
    fields.append("body.external_claim_id")
    before = head(api)

    for (path, role, body), field in zip(cases, fields, strict=True):
        text_refused(send(api, path, role, body), field)

    assert head(api) == before


def test_a_tab_and_a_newline_are_kept_in_a_reason_but_refused_in_a_name(api: Api) -> None:
    county = County(api)
    fund_id = county.open_fund()

    top_up = {"amount_fen": 100, "reason": "吉财社〔2024〕2号\n\t追加"}
    expect(api.post(f"/v1/funds/{fund_id}/top-ups", Role.FINANCE, top_up), 200)
    text_refused(
        api.post("/v1/people", Role.CLERK, person_body() | {"name": "王\t五"}), "body.name"
    )


def test_a_decomposed_name_is_stored_in_its_composed_nfc_form(api: Api) -> None:
    decomposed = "Zoe\u0308 Lo\u0301pez"  # e + combining diaeresis, o + combining acute

    created = expect(api.post("/v1/people", Role.CLERK, person_body() | {"name": decomposed}), 201)

    person = expect(api.get(f"/v1/people/{created['id']}", Role.CLERK), 200)
    assert person["name"] == "Zo\u00eb L\u00f3pez"


def test_text_in_a_query_string_is_checked_and_named(api: Api) -> None:
    text_refused(api.get("/v1/alerts?rule=FRAUD%00DUP", Role.INSPECTOR), "query.rule")


def test_money_and_counts_are_strict_integers(api: Api) -> None:
    county = County(api)
    fund_id = county.open_fund()
    post = f"/v1/funds/{fund_id}/top-ups"
    before = head(api)

    for amount in (True, "100", 100.0):
        problem = refused(
            api.post(post, Role.FINANCE, {"amount_fen": amount, "reason": "x"}),
            422,
            "REQUEST-SCHEMA",
        )
        assert problem["field"] == "body.amount_fen", amount
    site = {"region_code": f.COUNTY, "kind": "village", "name": "东风村", "population": "12"}
    assert refused(api.post("/v1/sites", Role.CLERK, site), 422, "REQUEST-SCHEMA")["field"] == (
        "body.population"
    )
    assert head(api) == before


def test_a_site_population_beyond_a_million_is_refused(api: Api) -> None:
    site = {"region_code": f.COUNTY, "kind": "village", "name": "东风村", "population": 10**30}
    before = head(api)

    problem = refused(api.post("/v1/sites", Role.CLERK, site), 422, "SITE-POPULATION")

    assert problem["field"] == "population"
    assert head(api) == before


def test_a_death_or_an_income_dated_beyond_the_horizon_is_refused(api: Api) -> None:
    person_id = County(api).person()
    facts = f"/v1/people/{person_id}/facts"
    death = {"kind": "death", "died_on": "9999-12-31", "evidence": "户籍注销证明"}
    income = {"kind": "income", "month": "9999-12", "amount_fen": 1000, "source": "farm"}
    before = head(api)

    refused(api.post(facts, Role.CLERK, {"fact": death}), 422, "DATE-HORIZON")
    refused(api.post(facts, Role.CLERK, {"fact": income}), 422, "DATE-HORIZON")

    assert head(api) == before
    past = {"kind": "income", "month": "2024-02", "amount_fen": 1000, "source": "farm"}
    expect(api.post(facts, Role.CLERK, {"fact": past}), 200)


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(api: Api) -> None:
    padded = person_body() | {"name": "x" * MIB}
    before = head(api)

    declared = api.post("/v1/people", Role.CLERK, padded)
    problem = refused(declared, 413, "BODY-TOO-LARGE")

    def chunks() -> Iterator[bytes]:
        body = json.dumps(padded).encode()
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    chunked = api.client.post(
        "/v1/people",
        content=chunks(),
        headers=api.headers(Role.CLERK) | {"Content-Type": "application/json"},
    )
    assert "content-length" not in chunked.request.headers
    refused(chunked, 413, "BODY-TOO-LARGE")
    assert problem["request_id"] == declared.headers["X-Request-Id"]
    assert head(api) == before


def test_the_bulk_route_reads_a_body_over_the_ordinary_limit(api: Api) -> None:
    """A full batch (10,000 items) is larger than 1 MiB: the bulk limit is its own."""
    items = [{"resident_id": "x" * 120}] * 10_000
    assert len(json.dumps({"items": items})) > MIB

    report = expect(api.post("/v1/bulk/people", Role.CLERK, {"items": items}), 200)

    assert (report["accepted"], report["refused"]) == (0, 10_000)


def test_invalid_utf8_and_json_nested_1000_deep_are_request_schema_problems(api: Api) -> None:
    headers = api.headers(Role.CLERK) | {"Content-Type": "application/json"}
    before = head(api)

    bad_utf8 = api.client.post("/v1/people", content=b'{"name": "\xff\xfe"}', headers=headers)
    deep = api.client.post("/v1/people", content=b"[" * 1000 + b"]" * 1000, headers=headers)

    refused(bad_utf8, 400, "REQUEST-SCHEMA")
    refused(deep, 400, "REQUEST-SCHEMA")
    assert head(api) == before


def test_a_catalogue_version_with_a_boolean_or_text_for_a_number_is_refused(api: Api) -> None:
    before = head(api)

    for value in (True, "12"):
        document = f.regional_policy().model_dump(mode="json")
        document["post"]["max_term_months"] = value
        sent = api.post(
            "/v1/policy/versions",
            Role.ADMIN,
            {"document": document, "reason": "吉林市补贴标准"},
            region="city",
        )
        problem = refused(sent, 422, "REQUEST-SCHEMA")
        assert problem["field"] == "body.document.post.max_term_months", problem

    assert head(api) == before


def test_a_bulk_item_with_text_the_ledger_cannot_store_is_refused_by_itself(api: Api) -> None:
    good, bad = person_body(), person_body() | {"name": "王\x00五"}
    before = head(api)

    report = expect(api.post("/v1/bulk/people", Role.CLERK, {"items": [bad, good]}), 200)

    refusal = report["items"][0]["problem"]
    assert (refusal["rule_id"], refusal["field"]) == ("TEXT-INVALID", "name"), refusal
    assert [item["accepted"] for item in report["items"]] == [False, True]
    assert head(api) > before
