"""``POST /v1/runs/grants`` over HTTP: finance of the region runs it, others are refused."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from disburse.domain.meta import Role
from tests import factories as f
from tests.e2e.test_api_lifecycle import expect, refused
from tests.integration.test_proactive import YEAR, _budget, worked

if TYPE_CHECKING:
    from tests.api_support import Api

PATH = "/v1/runs/grants"


def _body(**extra: Any) -> dict[str, Any]:
    return {"year": YEAR, "region": f.COUNTY} | extra


def test_finance_opens_the_grants_once_and_sees_who_was_not_found(api: Api) -> None:
    _budget(api.ledger)
    away, home = f.register(api.ledger), f.register(api.ledger)
    worked(api.ledger, away)
    worked(api.ledger, home, province="22")

    dry = expect(api.post(PATH, Role.FINANCE, _body(dry_run=True)), 200)
    first = expect(api.post(PATH, Role.FINANCE, _body()), 200)
    head = api.ledger.store.recorder.max_notification_id()
    second = expect(api.post(PATH, Role.FINANCE, _body()), 200)

    assert (dry["opened"], dry["dry_run"]) == (1, True)
    assert (first["opened"], first["opened_fen"], first["candidates"]) == (1, 50_000, 2)
    assert [n["rule_id"] for n in first["not_found"]] == ["GRANT-ELIG"]
    assert first["not_found"][0]["person_id"] == str(home)
    [found] = first["found"]
    assert found["person_id"] == str(away)
    payout = expect(api.get(f"/v1/payouts/{found['payout_id']}", Role.FINANCE), 200)
    assert payout["status"] in {"requested", "on_notice"}
    assert (second["opened"], second["already_opened"]) == (0, 1)
    assert api.ledger.store.recorder.max_notification_id() == head


def test_another_countys_key_is_refused_and_names_nothing(api: Api) -> None:
    response = api.post(PATH, Role.FINANCE, _body(), region="other")
    problem = refused(response, 403, "REGION-SCOPE")
    assert f.COUNTY not in problem["detail"]


def test_only_finance_runs_it(api: Api) -> None:
    refused(api.post(PATH, Role.CLERK, _body()), 403, "ROLE-FORBIDDEN")


@pytest.mark.parametrize(
    "body",
    [
        _body(year="2023"),
        _body(year=True),
        _body(year=1899),
        _body(region="22'; DROP TABLE alerts;--"),
        _body(region="2x"),
        _body(unknown=1),
        {"region": f.COUNTY},
    ],
)
def test_hostile_input_is_refused_422(api: Api, body: dict[str, Any]) -> None:
    response = api.post(PATH, Role.FINANCE, body)
    assert response.status_code == 422, response.text
