"""Lists and searches over HTTP: people, posts, funds, batches and alerts, keyset-paged.

One store per backend for the whole module: two counties with people, posts, funds,
batches and alerts. Tests that add rows add them under names no other test searches.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from pydantic import SecretStr

from disburse.bootstrap import initialise, open_system
from disburse.domain.meta import Role
from disburse.persistence.keys import generate_secret
from disburse.settings import Settings
from tests import factories as f
from tests.api_support import running_api

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.api_support import Api, LogTrap

CLERK, FINANCE, INSPECTOR, CLAIMANT = Role.CLERK, Role.FINANCE, Role.INSPECTOR, Role.CLAIMANT
LISTS = ("/v1/people", "/v1/posts", "/v1/funds", "/v1/payment-batches")


def _person(name: str, region: str = f.COUNTY, account: str | None = None) -> dict[str, Any]:
    rid = f.resident_id(region)
    return {
        "resident_id": rid,
        "name": name,
        "home_region": region,
        "poverty_status": "lifted",
        "labour_capacity": "weak",
        "household_id": f"H-{rid[-6:]}",
        "bank_account": account or f"62220202{rid[-8:-1]}0",
    }


def _store_url(request: pytest.FixtureRequest, tmp: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp / 'ledger.db'}"
    database: str = request.getfixturevalue("pg_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{database}?schema={schema}"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, log_trap: LogTrap
) -> Iterator[Api]:
    """Two counties: money in every state and a shared account in ours, a batch in the other."""
    assert log_trap is not None
    url = _store_url(request, tmp_path_factory.mktemp("lists"))
    settings = Settings(env="test", database_url=url, secret_key=SecretStr(generate_secret()))
    with open_system(settings, today=lambda: date(2024, 3, 1)) as system:
        initialise(system.ledger)
        ledger = system.ledger
        f.money_story(ledger)
        other = f.county(ledger, region=f.OTHER_COUNTY)
        post_id, _ = f.staffed_post(ledger, other, f.register(ledger, region=f.OTHER_COUNTY))
        payout = ledger.posts.record_attendance(
            f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
        )
        assert payout is not None
        ledger.payouts.approve(f.finance(), payout)
        ledger.payouts.release_batch(f.finance(), fund_id=other.fund_id, payout_ids=[payout])
        with running_api(system) as running:
            for name, account in (
                ("王五", "6222020200000017"),
                ("王小明", "6222020200000017"),
                ("李四", "6222020200000025"),
                ("李小红", "6222020200000025"),
            ):
                assert running.post("/v1/people", CLERK, _person(name, account=account)).is_success
            assert running.post(
                "/v1/people", CLERK, _person("王六", f.OTHER_COUNTY), region="other"
            ).is_success
            running.catch_up()
            yield running


def _items(api: Api, path: str, role: Role = INSPECTOR, region: str = "county") -> list[Any]:
    response = api.get(path, role, region=region)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


def _region(item: dict[str, Any]) -> str:
    return str(item.get("region_code") or item["home_region"])


def test_a_county_key_lists_its_own_rows_and_none_of_another_countys(api: Api) -> None:
    """Each list answers a county key with that county's rows only, and the other's with its."""
    for path in LISTS:
        ours = _items(api, f"{path}?limit=1000", FINANCE)
        theirs = _items(api, f"{path}?limit=1000", FINANCE, region="other")
        assert ours, path
        assert theirs, path
        assert {_region(i) for i in ours} == {f.COUNTY}, path
        assert {_region(i) for i in theirs} == {f.OTHER_COUNTY}, path
        city = _items(api, f"{path}?limit=1000", FINANCE, region="city")
        assert {_region(i) for i in city} == {f.COUNTY, f.OTHER_COUNTY}, path
        refused = api.get(f"{path}?region={f.COUNTY}", FINANCE, region="other")
        assert refused.status_code == 403, path
        assert refused.json()["rule_id"] == "REGION-SCOPE"
        assert f.COUNTY not in refused.json()["detail"]  # only the key's own region is named


def test_people_are_found_by_name_prefix_and_resident_id_masked_as_get_masks_them(
    api: Api,
) -> None:
    """王 finds both 王 of the county, not the other county's; IDs are shown as GET shows them."""
    wang = _items(api, "/v1/people?name=王", CLERK)
    assert [p["name"] for p in wang] == ["王五", "王小明"]
    assert [p["name"] for p in _items(api, "/v1/people?name=王小", CLERK)] == ["王小明"]
    assert _items(api, "/v1/people?name=王六", CLERK) == []  # another county's
    assert [p["name"] for p in _items(api, "/v1/people?name=王六", CLERK, "other")] == ["王六"]

    for role in (CLERK, FINANCE, INSPECTOR):
        [found] = _items(api, "/v1/people?name=王小明", role)
        shown = api.get(f"/v1/people/{found['person_id']}", role).json()
        assert {k: shown[k] for k in found} == found  # the list shows what GET shows
        assert (found["resident_id"] is not None) == (role in {CLERK, INSPECTOR})
        assert found["resident_id_masked"].count("*") == 10

    rid = _items(api, "/v1/people?name=李小红", CLERK)[0]["resident_id"]
    [by_id] = _items(api, f"/v1/people?resident_id={rid}", FINANCE)
    assert by_id["name"] == "李小红"
    assert by_id["resident_id"] is None
    assert _items(api, f"/v1/people?resident_id={rid}", FINANCE, "other") == []


def test_a_claimant_lists_only_the_people_it_registered(api: Api) -> None:
    """A claimant key's list holds only its own registrations."""
    assert _items(api, "/v1/people", CLAIMANT) == []
    registered = api.post("/v1/people", CLAIMANT, _person("孙七"))
    assert registered.status_code == 201
    api.catch_up()
    [own] = _items(api, "/v1/people", CLAIMANT)
    assert own["person_id"] == registered.json()["id"]
    assert own["resident_id"] is None


def test_keyset_pages_list_every_row_once_while_rows_are_added(api: Api) -> None:
    """Paging by next_after: rows registered between pages come later, none twice or lost."""
    for name in ("赵一", "赵二", "赵三"):
        assert api.post("/v1/people", CLERK, _person(name)).is_success
    api.catch_up()
    seen: list[str] = []
    after = None
    added = False
    while True:
        query = "/v1/people?name=赵&limit=2" + ("" if after is None else f"&after={after}")
        page = api.get(query, CLERK).json()
        seen += [p["name"] for p in page["items"]]
        if not added:  # a new person between the first and second page
            assert api.post("/v1/people", CLERK, _person("赵四")).is_success
            api.catch_up()
            added = True
        after = page["next_after"]
        if after is None:
            break
    assert seen == ["赵一", "赵二", "赵三", "赵四"]


def test_posts_funds_and_batches_filter_by_what_a_console_user_asks(api: Api) -> None:
    """Status and holder of posts, source and year of funds, fund, state and day of batches."""
    posts = _items(api, "/v1/posts?limit=1000")
    assert {p["status"] for p in posts} == {"held"}
    assert _items(api, "/v1/posts?status=vacant") == []
    holder = posts[0]["holder_id"]
    assert [p["post_id"] for p in _items(api, f"/v1/posts?holder_id={holder}")] == [
        posts[0]["post_id"]
    ]
    [fund] = _items(api, "/v1/funds?source=employment_subsidy&year=2024")
    assert _items(api, "/v1/funds?year=2023") == []
    assert _items(api, "/v1/funds?source=east_west") == []
    assert len(_items(api, f"/v1/posts?fund_id={fund['fund_id']}")) == len(posts)

    batches = _items(api, f"/v1/payment-batches?fund_id={fund['fund_id']}")
    assert len(batches) == 2
    assert {b["state"] for b in batches} == {"complete"}
    assert _items(api, "/v1/payment-batches?status=open") == []
    [open_batch] = _items(api, "/v1/payment-batches?status=open", region="other")
    assert open_batch["results"] == 0
    today = batches[0]["released_at"][:10]
    assert len(_items(api, f"/v1/payment-batches?released_from={today}&released_to={today}")) == 2
    assert _items(api, "/v1/payment-batches?released_to=2000-01-01") == []


def test_alerts_page_by_keyset_and_offset_still_works(api: Api) -> None:
    """next_after of the alerts walks the same alerts as one page, in the same order."""
    everything = [a["alert_id"] for a in _items(api, "/v1/alerts?limit=1000")]
    assert len(everything) >= 2
    walked, after = [], None
    while True:
        query = "/v1/alerts?limit=1" + ("" if after is None else f"&after={after}")
        page = api.get(query, INSPECTOR).json()
        walked += [a["alert_id"] for a in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert walked == everything
    by_offset = _items(api, "/v1/alerts?limit=1&offset=1")
    assert [a["alert_id"] for a in by_offset] == everything[1:2]
    assert _items(api, "/v1/alerts?limit=1000", region="other") == []


@pytest.mark.parametrize(
    ("query", "rule", "field"),
    [
        ("/v1/people?limit=0", "REQUEST-SCHEMA", "query.limit"),
        ("/v1/people?limit=1001", "REQUEST-SCHEMA", "query.limit"),
        ("/v1/posts?limit=ten", "REQUEST-SCHEMA", "query.limit"),
        ("/v1/funds?after=-1", "REQUEST-SCHEMA", "query.after"),
        ("/v1/payment-batches?after=99999999999999999999", "REQUEST-SCHEMA", "query.after"),
        ("/v1/people?name=" + "王" * 17, "LIST-FILTER", "name"),
        ("/v1/people?name=%E7%8E%8B%00", "TEXT-INVALID", "query.name"),
        ("/v1/people?resident_id=220221198005170019", "ID-RESIDENT", "resident_id"),
        ("/v1/people?poverty_status=rich", "REQUEST-SCHEMA", "query.poverty_status"),
        ("/v1/posts?status=taken", "REQUEST-SCHEMA", "query.status"),
        ("/v1/posts?holder_id=1%20OR%201=1", "REQUEST-SCHEMA", "query.holder_id"),
        ("/v1/funds?year=1999", "REQUEST-SCHEMA", "query.year"),
        ("/v1/funds?source=cash", "REQUEST-SCHEMA", "query.source"),
        ("/v1/funds?region=22%25", "REGION-CODE", "region"),
        ("/v1/payment-batches?released_from=yesterday", "REQUEST-SCHEMA", "query.released_from"),
        (
            "/v1/payment-batches?released_from=2024-02-01&released_to=2024-01-01",
            "LIST-FILTER",
            "released_from",
        ),
        ("/v1/alerts?after=not-an-id", "REQUEST-SCHEMA", "query.after"),
        (f"/v1/alerts?after={uuid.UUID(int=7)}", "LIST-FILTER", "after"),
    ],
)
def test_hostile_query_parameters_are_422_problems_naming_the_field(
    api: Api, query: str, rule: str, field: str
) -> None:
    """Nothing a client sends makes a list fail: each refusal names its rule and field."""
    response = api.get(query, INSPECTOR)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["rule_id"], problem["field"]) == (rule, field)
