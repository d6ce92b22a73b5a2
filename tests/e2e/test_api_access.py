"""Who may call what, from one table: roles, region scope, keys, and the log of denials.

``ROUTES`` lists every ``/v1`` route with the roles its dependency admits and how a key of
another county is treated: refused (REGION-SCOPE) for a resource or region it names, or
served filtered for a list or feed. A route added to the app without a row fails
``test_the_table_lists_every_v1_route``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from fastapi import routing

from disburse.access.clients import Clients
from disburse.cli.common import operator_context
from disburse.domain.fund import FundSource
from disburse.domain.meta import Role
from disburse.domain.months import Month
from disburse.domain.organisation import OrganisationKind
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Iterator

    from httpx2 import Response

    from tests.api_support import Api, LogTrap

CLERK, FINANCE, INSPECTOR, CLAIMANT, ADMIN = (
    Role.CLERK,
    Role.FINANCE,
    Role.INSPECTOR,
    Role.CLAIMANT,
    Role.ADMIN,
)
ROLES = (CLERK, FINANCE, INSPECTOR, CLAIMANT, ADMIN)
SUBMITTER = frozenset({CLERK, CLAIMANT})
READER = frozenset({CLERK, FINANCE, INSPECTOR})
READER_OR_CLAIMANT = READER | {CLAIMANT}
OVERSEER = frozenset({FINANCE, INSPECTOR})
AUDITOR = frozenset({INSPECTOR, ADMIN})  # the chain is checked by inspectors and operators
OBJECTOR = frozenset({CLERK, INSPECTOR})
ANYONE = frozenset(ROLES)
ONLY = {role: frozenset({role}) for role in ROLES}

JILIN_GRANTS = {"amount_fen": 50_000, "tiers": [], "min_months_away": 3}
JILIN_PROGRAMMES = {"SVC-BROKER": {"amount": {"kind": "fixed", "amount_fen": 20_000}}}
SHARED_ACCOUNT = "6222020200000058"  # two households on one account: an alert in the county
_serial = itertools.count(1)
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")  # {name} or {name:convertor}


class Scope(Enum):
    """How a key of another county is answered."""

    RESOURCE = "resource"  # the path or body names something in the county: 403 REGION-SCOPE
    LIST = "list"  # a list or feed: 200, filtered to the key's region
    BULK = "bulk"  # 200, each item refused by itself with 403 REGION-SCOPE
    OPEN = "open"  # not scoped: the catalogue is public (any region may be asked about)


@dataclass
class World:
    """Resources in the test county, named by the path parameters that take them.

    ``params`` were made by clerks (or the ledger directly); ``own`` names the resources
    the county's claimant key registered or submitted, the only ones it may read.
    """

    params: dict[str, str]
    own: dict[str, str]
    others: dict[str, str] = field(default_factory=dict)

    def for_(self, role: Role, *, own: bool) -> dict[str, str]:
        """The path parameters a role's key uses on a route (claimants: their own)."""
        return self.params | self.own if own and role is CLAIMANT else self.params


Body = Callable[[World], Any]


@dataclass(frozen=True)
class Row:
    """One route: who may call it, how another county's key is answered, a request body."""

    method: str
    path: str
    roles: frozenset[Role]
    scope: Scope = Scope.RESOURCE
    body: Body | None = None
    #: List routes narrowed by ``?region=``: asking for the county with another county's
    #: key is refused (REGION-SCOPE).
    region_query: bool = False
    #: Claimant keys reach only what they registered or submitted (403 CLAIMANT-OWN).
    own: bool = False
    #: Items of a list or feed response, to check their regions.
    items: str = "items"
    #: A query string the route needs (``?name={param}`` takes the world's resources too).
    query: str = ""

    def url(self, world: World, role: Role = CLERK, params: dict[str, str] | None = None) -> str:
        """The path with the world's resources (a claimant's own ones for claimant keys)."""
        values = params if params is not None else world.for_(role, own=self.own)
        return _PARAM.sub(lambda m: values[m.group(1)], self.path + self.query)


def person_body(_: World | None = None) -> dict[str, Any]:
    rid = f.resident_id()
    return {
        "resident_id": rid,
        "name": "王五",
        "home_region": f.COUNTY,
        "poverty_status": "lifted",
        "labour_capacity": "weak",
        "household_id": f"H-{rid[-6:]}",
        "bank_account": f"62220202{rid[-8:-1]}0",
    }


def grant_body(world: World) -> dict[str, Any]:
    return {
        "person_id": world.params["person_id"],
        "work_province": "44",
        "employer": "深圳某电子厂",
        "started_on": "2024-01-15",
        "months_worked": 4,
        "evidence_ref": "contract-2024-001",
        "external_claim_id": f"EXT-{next(_serial)}",
    }


def application_body(world: World) -> dict[str, Any]:
    return {
        "programme": "SVC-BROKER",
        "applicant_id": world.params["organisation_id"],
        "beneficiary_ids": [world.others["worker"]],
        "period_start": "2024-01-01",
        "evidence": ["contracts 2024-01"],
        "external_claim_id": f"APP-{next(_serial)}",
    }


def policy_body(_: World) -> dict[str, Any]:
    version = f"CN-22-{f.COUNTY}-T{next(_serial)}"
    document = f.regional_policy(version=version, region_prefix=f.COUNTY)
    return {"document": document.model_dump(mode="json"), "reason": "access test"}


REASON = {"reason": "access test"}
ROUTES: tuple[Row, ...] = (
    # registry
    Row("POST", "/v1/people", SUBMITTER, body=person_body),
    Row("GET", "/v1/people", READER_OR_CLAIMANT, Scope.LIST, region_query=True),
    Row("GET", "/v1/people/{person_id}", READER_OR_CLAIMANT, own=True),
    Row(
        "POST",
        "/v1/people/{person_id}/facts",
        SUBMITTER,
        own=True,
        body=lambda _: {
            "fact": {"kind": "income", "month": "2024-02", "amount_fen": 1000, "source": "farm"}
        },
    ),
    Row(
        "POST",
        "/v1/organisations",
        SUBMITTER,
        body=lambda _: {
            "credit_code": f.credit_code(),
            "kind": "employer",
            "name": "某制衣厂",
            "region_code": f.COUNTY,
            "bank_account": "6228480012345678",
        },
    ),
    Row("GET", "/v1/organisations/{organisation_id}", READER_OR_CLAIMANT, own=True),
    # funds
    Row(
        "POST",
        "/v1/funds",
        ONLY[FINANCE],
        body=lambda _: {
            "source": "east_west",
            "region_code": f.COUNTY,
            "year": 2000 + next(_serial) % 100,
            "amount_fen": 100_000,
        },
    ),
    Row(
        "POST",
        "/v1/funds/{fund_id}/top-ups",
        ONLY[FINANCE],
        body=lambda _: {"amount_fen": 1000, "reason": "supplement"},
    ),
    Row("GET", "/v1/funds", READER, Scope.LIST, region_query=True),
    Row("GET", "/v1/funds/{fund_id}", READER),
    # sites and posts
    Row(
        "POST",
        "/v1/sites",
        ONLY[CLERK],
        body=lambda _: {
            "region_code": f.COUNTY,
            "kind": "village",
            "name": "西山村",
            "population": 500,
        },
    ),
    Row("GET", "/v1/sites/{site_id}", READER),
    Row(
        "POST",
        "/v1/posts",
        ONLY[CLERK],
        body=lambda w: {
            "site_id": w.params["site_id"],
            "title": "护林员",
            "stipend_fen": 150_000,
            "fund_id": w.params["fund_id"],
            "part_time": False,
        },
    ),
    Row("GET", "/v1/posts", READER, Scope.LIST, region_query=True),
    Row("GET", "/v1/posts/{post_id}", READER),
    Row(
        "POST",
        "/v1/posts/{post_id}/appointments",
        ONLY[CLERK],
        body=lambda w: {
            "person_id": w.others["holder"],
            "term_start": "2024-01-01",
            "term_end": "2024-12-31",
        },
    ),
    Row(
        "POST",
        "/v1/posts/{post_id}/renewals",
        ONLY[CLERK],
        body=lambda _: {"term_start": "2025-01-01", "term_end": "2025-12-31"},
    ),
    Row(
        "POST",
        "/v1/posts/{post_id}/insurance",
        ONLY[CLERK],
        body=lambda _: {
            "kind": "accident",
            "policy_number": "PICC-2024-002",
            "insurer": "PICC",
            "valid_from": "2024-01-01",
            "valid_to": "2024-12-31",
        },
    ),
    Row(
        "POST",
        "/v1/posts/{post_id}/attendance",
        ONLY[CLERK],
        body=lambda _: {"month": "2024-02", "days_worked": 20, "days_required": 22},
    ),
    Row(
        "POST",
        "/v1/posts/{post_id}/exit",
        ONLY[CLERK],
        body=lambda _: {"reason": "voluntary", "effective_on": "2024-11-30"},
    ),
    # claims
    Row("POST", "/v1/transport-grants", SUBMITTER, body=grant_body),
    Row("GET", "/v1/transport-grants/{grant_id}", READER_OR_CLAIMANT, own=True),
    Row("POST", "/v1/applications", SUBMITTER, body=application_body),
    Row("GET", "/v1/applications/{application_id}", READER_OR_CLAIMANT, own=True),
    # payouts and batches
    Row("GET", "/v1/payouts", READER, Scope.LIST, region_query=True),
    Row("GET", "/v1/payouts/{payout_id}", READER_OR_CLAIMANT, own=True),
    Row("POST", "/v1/payouts/{payout_id}/approve", ONLY[FINANCE]),
    Row("POST", "/v1/payouts/{payout_id}/reject", ONLY[FINANCE], body=lambda _: REASON),
    Row("POST", "/v1/payouts/{payout_id}/cancel", ONLY[FINANCE], body=lambda _: REASON),
    Row(
        "POST",
        "/v1/payouts/{payout_id}/objections",
        OBJECTOR,
        body=lambda _: {"grounds": "works elsewhere"},
    ),
    Row(
        "POST",
        "/v1/payouts/{payout_id}/objections/{objection_id}/resolve",
        ONLY[FINANCE],
        body=lambda _: {"upheld": False, "reason": "checked"},
    ),
    Row(
        "POST",
        "/v1/payouts/{payout_id}/reissue",
        ONLY[FINANCE],
        body=lambda _: {"account": "6222020299999990", "reason": "new account"},
    ),
    Row(
        "POST",
        "/v1/payouts/{payout_id}/recoveries",
        ONLY[FINANCE],
        body=lambda _: {"amount_fen": 100, "case_reference": "CASE-9", "reason": "overpaid"},
    ),
    Row(
        "POST",
        "/v1/payouts/{payout_id}/recoveries/receipts",
        ONLY[FINANCE],
        body=lambda _: {"amount_fen": 100, "received_on": "2024-03-01"},
    ),
    Row(
        "POST",
        "/v1/payment-batches",
        ONLY[FINANCE],
        body=lambda w: {"fund_id": w.params["fund_id"], "payout_ids": [w.others["pending"]]},
    ),
    Row("GET", "/v1/payment-batches", OVERSEER, Scope.LIST, region_query=True),
    Row("GET", "/v1/payment-batches/{batch_id}", OVERSEER),
    Row(
        "POST",
        "/v1/payment-batches/{batch_id}/results",
        ONLY[FINANCE],
        body=lambda _: {"control_count": 1, "control_total_fen": 1, "results": []},
    ),
    # public notices
    Row(
        "POST",
        "/v1/notices",
        ONLY[FINANCE],
        body=lambda _: {
            "region_code": f.COUNTY,
            "period": "2024-03",
            "days": 7,
            "contact": "县人社局",
        },
    ),
    Row("GET", "/v1/notices/{notice_id}", READER),
    Row(
        "POST",
        "/v1/payment-batches/{batch_id}/notices",
        ONLY[FINANCE],
        body=lambda _: {"days": 7, "contact": "县人社局"},
    ),
    Row("GET", "/v1/payment-batches/{batch_id}/file", ONLY[FINANCE], query="?format=csv"),
    Row(
        "POST",
        "/v1/payment-batches/{batch_id}/results-file",
        ONLY[FINANCE],
        body=lambda _: {"not": "a bank file"},
    ),
    # oversight
    Row("GET", "/v1/alerts", OVERSEER, Scope.LIST, region_query=True),
    Row(
        "POST",
        "/v1/alerts/{alert_id}/resolve",
        ONLY[INSPECTOR],
        body=lambda _: {"outcome": "dismissed", "reason": "one family"},
    ),
    Row("GET", "/v1/balances/funds/{fund_id}", OVERSEER),
    Row("GET", "/v1/balances/regions/{code}", OVERSEER),
    Row("GET", "/v1/balances/people/{person_id}", READER),
    Row("GET", "/v1/audit/trail/{entity_id}", ONLY[INSPECTOR]),
    Row("GET", "/v1/audit/actors/{actor_id:path}", ONLY[INSPECTOR], Scope.LIST),
    Row("GET", "/v1/events", READER, Scope.LIST),
    # tamper evidence
    Row("GET", "/v1/audit/digest", AUDITOR, Scope.OPEN),
    Row("GET", "/v1/audit/verify", AUDITOR, Scope.OPEN),
    Row("GET", "/v1/audit/as-of", OVERSEER, query="?date=2099-12-31&entity_id={fund_id}"),
    Row("GET", "/v1/audit/export", ONLY[INSPECTOR], query="?entity_id={fund_id}"),
    Row(
        "POST",
        "/v1/audit/samples",
        ONLY[INSPECTOR],
        body=lambda _: {"rate": 0.5, "seed": "s", "region": f.COUNTY, "reason": "access test"},
    ),
    # policy
    Row("GET", "/v1/policy", ANYONE, Scope.OPEN),
    Row("POST", "/v1/policy/versions", ONLY[ADMIN], body=policy_body),
    # bulk
    Row(
        "POST", "/v1/bulk/people", SUBMITTER, Scope.BULK, body=lambda _: {"items": [person_body()]}
    ),
    Row(
        "POST",
        "/v1/bulk/claims",
        SUBMITTER,
        Scope.BULK,
        body=lambda w: {"items": [grant_body(w) | {"type": "transport_grant"}]},
    ),
    Row(
        "POST",
        "/v1/payouts/approvals",
        ONLY[FINANCE],
        Scope.BULK,
        body=lambda w: {"approvals": [{"payout_id": w.params["payout_id"]}]},
    ),
    # runs
    Row(
        "POST",
        "/v1/runs/grants",
        ONLY[FINANCE],
        body=lambda _: {"year": 2023, "region": f.COUNTY, "dry_run": True},
    ),
    # last: it erases the county's person for good
    Row(
        "POST",
        "/v1/people/{person_id}/erasure",
        ONLY[ADMIN],
        body=lambda _: {"legal_basis": "PIPL art. 47", "reason": "access test"},
    ),
)


def v1_routes(api: Api) -> set[tuple[str, str]]:
    """(method, path template) of every /v1 route the app serves."""
    found = set()
    for route in routing.iter_route_contexts(api.client.app.routes):  # type: ignore[attr-defined]
        path = route.path
        if path is None or not path.startswith("/v1/"):
            continue
        if not getattr(route, "include_in_schema", True):
            continue  # an undocumented 405 (e.g. GET /v1/payouts/approvals), not a route
        found |= {(method, path) for method in route.methods or () if method != "HEAD"}
    return found


# -- the county's resources -------------------------------------------------------------------


def _created(response: Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _claims(api: Api, role: Role, person: str, broker: str, worker: str) -> dict[str, str]:
    """A grant and an application submitted over HTTP with the county key of ``role``."""
    grant = _created(
        api.post(
            "/v1/transport-grants",
            role,
            {
                "person_id": person,
                "work_province": "44",
                "employer": "深圳某电子厂",
                "started_on": "2024-01-15",
                "months_worked": 4,
                "evidence_ref": "contract",
            },
            actor="desk7",
        )
    )
    application = _created(
        api.post(
            "/v1/applications",
            role,
            {
                "programme": "SVC-BROKER",
                "applicant_id": broker,
                "beneficiary_ids": [worker],
                "period_start": "2024-01-01",
                "evidence": ["contracts"],
            },
        )
    )
    return {
        "grant_id": grant["id"],
        "payout_id": grant["payout_id"],
        "application_id": application["id"],
    }


def build_world(api: Api) -> World:
    """A county with people, money in every state, a claimant's own claims and an alert."""
    ledger = api.ledger
    f.publish(ledger, f.regional_policy(grant=JILIN_GRANTS, programmes=JILIN_PROGRAMMES))
    story = f.money_story(ledger)
    ledger.funds.allocate(
        f.finance(),
        source=FundSource.RURAL_REVITALISATION,
        region_code=f.COUNTY,
        year=2024,
        amount_fen=10**7,
    )
    post_id, holder = f.staffed_post(ledger, story.place)
    noticed = ledger.posts.record_attendance(
        f.clerk(), post_id, month=Month(2024, 2), days_worked=20, days_required=20
    )
    assert noticed is not None
    notice = ledger.notices.issue(
        f.finance(), region_code=f.COUNTY, period="2024-02", candidates=[noticed],
        contact="县人社局", days=7,
    ).notice  # fmt: skip
    for _ in range(2):
        f.register(ledger, account=SHARED_ACCOUNT)
    # the clerks' resources
    broker, worker = f.organisation(ledger, OrganisationKind.BROKER), f.register(ledger)
    clerks = _claims(api, CLERK, str(f.register(ledger)), str(broker), str(f.register(ledger)))
    # the claimant's own: registered and submitted with the county's claimant key
    person = _created(api.post("/v1/people", CLAIMANT, person_body()))["id"]
    organisation = _created(
        api.post(
            "/v1/organisations",
            CLAIMANT,
            {
                "credit_code": f.credit_code(),
                "kind": "broker",
                "name": "某劳务公司",
                "region_code": f.COUNTY,
                "bank_account": "6228480012345679",
            },
        )
    )["id"]
    own = _claims(api, CLAIMANT, person, organisation, str(f.register(ledger)))
    batch = ledger.payouts.get(story.paid).batch_id
    assert batch is not None
    api.catch_up()
    [alert] = api.views.alerts.find(rule="FRAUD-SHARED-ACCOUNT")
    assert alert.region_code == f.COUNTY
    params = {
        "person_id": str(story.person),
        "organisation_id": str(broker),
        "fund_id": str(story.place.fund_id),
        "site_id": str(story.place.village_id),
        "post_id": str(post_id),
        **clerks,
        # stipends and grants here go without public notice: no objection to name
        "objection_id": "OBJ-1",
        "batch_id": str(batch),
        "notice_id": str(notice.id),
        "alert_id": str(alert.alert_id),
        "code": f.COUNTY,
        "entity_id": str(story.person),
        "actor_id": "clerk-county/desk7",  # actor ids hold a slash: client/actor
    }
    return World(
        params=params,
        own={"person_id": person, "organisation_id": organisation, **own},
        others={"worker": str(worker), "holder": str(holder), "pending": str(story.pending)},
    )


# -- calling a route ------------------------------------------------------------------------

_actor = itertools.count(1)


@dataclass
class Caller:
    """Calls routes with a fresh X-Actor-Id each time, remembering each expected denial."""

    api: Api
    world: World
    denials: list[tuple[str, str]] = field(default_factory=list)  # (actor, rule)

    def call(
        self,
        row: Row,
        role: Role,
        region: str,
        *,
        query: str = "",
        deny: str | None = None,
        params: dict[str, str] | None = None,
    ) -> Response:
        actor = f"t{next(_actor)}"
        body = row.body(self.world) if row.body is not None else None
        url = row.url(self.world, role, params) + query
        response = self.api.call(row.method, url, role, region, json_body=body, actor=actor)
        where = f"{row.method} {row.path}{query} as {role.value}/{region}"
        assert response.status_code < 500, f"{where}: {response.status_code} {response.text}"
        if deny is not None:
            assert response.status_code == 403, f"{where}: {response.status_code} {response.text}"
            problem = response.json()
            assert problem["rule_id"] == deny, f"{where}: {problem}"
            assert response.headers["content-type"] == "application/problem+json"
            self.denials.append((f"{role.value}-{region}/{actor}", deny))
        return response


def _in_county(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        item
        for item in items
        if str(item.get("region_code", item.get("home_region", ""))).startswith(f.COUNTY)
    ]


def _check_allowed(caller: Caller, row: Row, role: Role) -> None:
    """An allowed role: refused out of its region (or filtered), served inside it."""
    where = f"{row.method} {row.path} as {role.value}"
    if row.scope is Scope.RESOURCE:
        caller.call(row, role, "other", deny="REGION-SCOPE")
    elif row.scope is Scope.LIST:
        outside = caller.call(row, role, "other")
        assert outside.status_code == 200, f"{where}/other: {outside.text}"
        assert _in_county(outside.json()[row.items]) == [], f"{where}/other: {outside.text}"
        if row.region_query:
            caller.call(row, role, "other", query=f"?region={f.COUNTY}", deny="REGION-SCOPE")
    elif row.scope is Scope.BULK:
        outside = caller.call(row, role, "other")
        assert outside.status_code == 200, f"{where}/other: {outside.text}"
        report = outside.json()
        assert report["accepted"] == 0, f"{where}/other: {report}"
        assert [(i["problem"]["status"], i["problem"]["rule_id"]) for i in report["items"]] == [
            (403, "REGION-SCOPE")
        ], f"{where}/other: {report}"
    else:
        outside = caller.call(row, role, "other")
        assert outside.status_code == 200, f"{where}/other: {outside.text}"
    inside = caller.call(row, role, "county")
    assert inside.status_code not in {401, 403}, f"{where}/county: {inside.text}"
    if row.scope is Scope.LIST:
        assert inside.status_code == 200, f"{where}/county: {inside.text}"
        assert _in_county(inside.json()[row.items]), f"{where}/county: nothing of the county"
    if row.scope is Scope.BULK:
        assert inside.status_code == 200, f"{where}/county: {inside.text}"
        refusals = [i["problem"] for i in inside.json()["items"] if i["problem"] is not None]
        assert all(p["status"] not in {401, 403} for p in refusals), f"{where}: {refusals}"


def matrix(rows: tuple[Row, ...]) -> Iterator[tuple[Row, Role]]:
    for row in rows:
        for role in ROLES:
            yield row, role


# -- the tests --------------------------------------------------------------------------------


def test_the_table_lists_every_v1_route(api: Api) -> None:
    table = [(row.method, row.path) for row in ROUTES]
    assert len(table) == len(set(table)), "a route is listed twice"
    served = v1_routes(api)
    assert set(table) - served == set(), "rows for routes the app does not serve"
    assert served - set(table) == set(), "routes without a row: add them to ROUTES"
    for row in ROUTES:
        assert row.roles, f"{row.path}: nobody may call it?"
        assert ADMIN not in row.roles or row.roles in {ONLY[ADMIN], ANYONE, AUDITOR}


def test_each_role_is_refused_or_served_in_and_out_of_its_region(
    api: Api, log_trap: LogTrap
) -> None:
    caller = Caller(api, build_world(api))
    for row, role in matrix(ROUTES):
        if role in row.roles:
            _check_allowed(caller, row, role)
        else:
            caller.call(row, role, "county", deny="ROLE-FORBIDDEN")

    logged = {
        (line["actor"], line["rule_id"])
        for line in log_trap.lines()
        if line.get("event") == "access_denied"
    }
    missing = [denial for denial in caller.denials if denial not in logged]
    assert missing == [], "denials not logged with their actor"
    assert len(caller.denials) > 150


def test_keys_of_a_covering_region_read_the_county(api: Api) -> None:
    caller = Caller(api, build_world(api))
    reads = [row for row in ROUTES if row.method == "GET"]
    for row, role in matrix(tuple(reads)):
        if role not in row.roles or role is CLAIMANT:
            continue
        for region in ("city", "province"):
            response = caller.call(row, role, region)
            assert response.status_code == 200, f"{row.path} {role}/{region}: {response.text}"
            if row.scope is Scope.LIST:
                assert _in_county(response.json()[row.items]), f"{row.path} {role}/{region}"


def test_claimant_keys_reach_only_what_they_registered_or_submitted(api: Api) -> None:
    world = build_world(api)
    caller = Caller(api, world)
    own_rows = [row for row in ROUTES if row.own]
    assert {row.path for row in own_rows} >= {
        "/v1/people/{person_id}",
        "/v1/transport-grants/{grant_id}",
        "/v1/applications/{application_id}",
        "/v1/payouts/{payout_id}",
    }
    for row in own_rows:
        assert CLAIMANT in row.roles
        mine = caller.call(row, CLAIMANT, "county")
        assert mine.status_code not in {401, 403}, f"{row.path}: {mine.text}"
        # the clerks' resource of the same county
        caller.call(row, CLAIMANT, "county", params=world.params, deny="CLAIMANT-OWN")
        # claimant keys whose region covers the county, but which did not submit it
        caller.call(row, CLAIMANT, "city", deny="CLAIMANT-OWN")
        caller.call(row, CLAIMANT, "province", deny="CLAIMANT-OWN")
        # readers see both
        for params in (world.params, world.params | world.own):
            if row.method == "GET":
                read = caller.call(row, INSPECTOR, "county", params=params)
                assert read.status_code == 200, f"{row.path}: {read.text}"
    # the payout a claimant reads is that of its own grant
    grant = api.get(f"/v1/transport-grants/{world.own['grant_id']}", CLAIMANT).json()
    assert grant["payout_id"] == world.own["payout_id"]


def test_no_key_is_401_auth_required_on_every_v1_route(api: Api) -> None:
    world = build_world(api)
    for row in ROUTES:
        body = row.body(world) if row.body is not None else None
        for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}):
            response = api.client.request(row.method, row.url(world), json=body, headers=headers)
            where = f"{row.method} {row.path} {headers}"
            assert response.status_code == 401, f"{where}: {response.text}"
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert response.json()["rule_id"] == "AUTH-REQUIRED", where


def test_a_revoked_or_unknown_key_is_401_auth_invalid_on_every_v1_route(api: Api) -> None:
    world = build_world(api)
    clients = Clients(api.ledger.store, api.ledger.keys)
    issued = clients.create(
        operator_context(), name="clerk-to-revoke", role=CLERK, region_code=f.COUNTY
    )
    live = {"Authorization": f"Bearer {issued.key}"}
    person = world.params["person_id"]
    assert api.client.get(f"/v1/people/{person}", headers=live).status_code == 200
    clients.revoke(operator_context(), issued.client.id, reason="laptop stolen")
    forged = issued.key[:-4] + ("aaaa" if not issued.key.endswith("aaaa") else "bbbb")
    keys = {
        "revoked": issued.key,
        "forged secret": forged,
        "malformed": "not-a-disburse-key",
    }
    for row in ROUTES:
        body = row.body(world) if row.body is not None else None
        for name, key in keys.items():
            response = api.client.request(
                row.method,
                row.url(world),
                json=body,
                headers={"Authorization": f"Bearer {key}"},
            )
            where = f"{row.method} {row.path} with a {name} key"
            assert response.status_code == 401, f"{where}: {response.text}"
            assert response.json()["rule_id"] == "AUTH-INVALID", where


def test_operations_routes_need_no_key(api: Api) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        response = api.client.get(path)
        assert response.status_code in {200, 503}, f"{path}: {response.text}"
        assert response.status_code != 503 or path == "/readyz"


def test_a_denial_is_logged_with_the_client_and_actor_but_no_key(
    api: Api, log_trap: LogTrap
) -> None:
    before = len(log_trap.lines())
    refused = api.post("/v1/funds/00000000-0000-4000-8000-000000000000/top-ups", CLERK, {})
    assert refused.status_code == 403
    refused = api.get(f"/v1/people/{f.register(api.ledger)}", CLERK, region="other", actor="zhao")
    assert refused.status_code == 403
    denials = [line for line in log_trap.lines()[before:] if line.get("event") == "access_denied"]
    assert [(d["rule_id"], d["client"], d["actor"], d["role"]) for d in denials] == [
        ("ROLE-FORBIDDEN", "clerk-county", "clerk-county", "clerk"),
        ("REGION-SCOPE", "clerk-other", "clerk-other/zhao", "clerk"),
    ]
    text = repr(log_trap.lines()[before:])
    assert not any(key in text for key in api.keys.values())
    assert "dsb_" not in text
