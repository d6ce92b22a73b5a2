"""Separation of duties rests on principals the ledger authenticated, not on a header.

``X-Actor-Id`` is honoured only for gateway keys (outside systems that sign in their own
users); any other key acts as itself, and its events say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from disburse.domain.meta import Role
from tests import factories as f
from tests.api_support import DIRECT
from tests.e2e.test_api_lifecycle import County, expect, publish, refused

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from tests.api_support import Api
    from tests.e2e.test_cli_audit import Cli

FINANCE = Role.FINANCE


def test_a_key_that_is_not_a_gateway_may_not_name_an_actor(api: Api) -> None:
    named = api.get("/v1/payouts", FINANCE, region=DIRECT, actor="zhang.wei")
    problem = refused(named, 403, "ACTOR-NOT-GATEWAY")
    assert problem["field"] == "header.X-Actor-Id"
    assert expect(api.get("/v1/payouts", FINANCE, region=DIRECT), 200)["total"] == 0
    assert expect(api.get("/v1/payouts", FINANCE, actor="zhang.wei"), 200)["total"] == 0


def test_two_approvals_of_one_payout_need_two_principals_the_ledger_authenticated(
    api: Api,
) -> None:
    county = County(api)
    publish(api, f.regional_policy(payouts={"second_approval_above_fen": 100_000}))
    payout_id = county.stipend(county.open_fund()).payout_id
    approve = f"/v1/payouts/{payout_id}/approve"

    first = api.post(approve, FINANCE, region=DIRECT)
    assert expect(first, 200)["status"] == "first_approved"
    # the same key again, under a name of its own choosing: refused before any rule
    refused(api.post(approve, FINANCE, region=DIRECT, actor="zhang.wei"), 403, "ACTOR-NOT-GATEWAY")
    refused(api.post(approve, FINANCE, region=DIRECT), 422, "PAYOUT-SOD")
    # a gateway's signed-in user is a principal of its own
    final = api.post(approve, FINANCE, actor="zhang.wei")
    assert expect(final, 200)["status"] == "approved"

    approvals = [
        e.meta  # type: ignore[attr-defined]
        for e in api.ledger.store.events.get(UUID(payout_id))
        if type(e).__name__ == "Approved"
    ]
    assert [(meta.actor_id, meta.gateway) for meta in approvals] == [
        ("finance-direct", False),
        ("finance-county/zhang.wei", True),
    ]


def test_clients_create_gateway_registers_a_gateway_and_list_shows_it(
    ledger: Ledger, cli: Cli
) -> None:
    assert ledger is not None
    portal = cli.json(
        "clients", "create", "--name", "job-portal", "--role", "clerk", "--region", f.COUNTY,
        "--gateway", "--json",
    )  # fmt: skip
    plain = cli.json(
        "clients", "create", "--name", "desk", "--role", "clerk", "--region", f.COUNTY, "--json"
    )  # fmt: skip
    assert (portal["gateway"], plain["gateway"]) == (True, False)
    listed = {c["name"]: c["gateway"] for c in cli.json("clients", "list", "--json")}
    assert listed == {"job-portal": True, "desk": False}
