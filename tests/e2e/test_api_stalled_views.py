"""Through the real app: events the write side stored never wedge the read side (issue 14)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from disburse.domain.meta import Role
from tests import factories as f
from tests.e2e.test_cli_audit import SHANGHAI
from tests.planting import poison, unreadable_registration

if TYPE_CHECKING:
    from tests.api_support import Api

REPLACEMENT = "\ufffd"


def test_views_answer_on_a_store_holding_a_lone_surrogate_name_and_a_nul_reason(
    api: Api,
) -> None:
    person, fund = poison(api.ledger)
    position = str(api.ledger.store.last_written())
    api.catch_up()

    ready = api.client.get("/readyz")
    trail = api.get(f"/v1/audit/trail/{fund}", Role.INSPECTOR, **{"X-Min-Position": position})
    registered = api.get(f"/v1/audit/trail/{person}", Role.INSPECTOR)

    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert trail.status_code == 200, trail.text
    reasons = [e["reason"] for e in trail.json()["items"] if e["event_type"] == "Fund.ToppedUp"]
    assert reasons == [f"supplement{REPLACEMENT}approved"]
    assert registered.status_code == 200, registered.text
    assert registered.json()["items"][0]["payload"]["name"].startswith(REPLACEMENT)


def test_a_stalled_view_is_named_in_readyz_and_holds_up_only_its_own_queries(
    api: Api,
) -> None:
    fund = f.county(api.ledger).fund_id
    poisoned = unreadable_registration(api.ledger)
    f.register(api.ledger)
    head = str(api.ledger.store.last_written())
    api.catch_up()

    ready = api.client.get("/readyz")
    balances = api.get(f"/v1/balances/funds/{fund}", Role.FINANCE, **{"X-Min-Position": head})
    trail = api.get(f"/v1/audit/trail/{fund}", Role.INSPECTOR, **{"X-Min-Position": head})
    alerts = api.get("/v1/alerts", Role.INSPECTOR, **{"X-Min-Position": head})
    metrics = api.client.get("/metrics").text

    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "degraded"
    assert [(s["name"], s["position"], s["event_type"]) for s in body["stalled"]] == [
        ("alerts", poisoned, "Person.Registered")
    ]
    assert "household_id" not in ready.text, "the error stays with operators"
    assert balances.status_code == 200, balances.text
    assert trail.status_code == 200, trail.text
    assert alerts.status_code == 503
    assert alerts.json()["rule_id"] == "VIEW-LAG"
    assert f"position {poisoned} (Person.Registered)" in alerts.json()["detail"]
    assert 'disburse_view_stalled{view="alerts"} 1.0' in metrics
    assert 'disburse_view_stalled{view="audit"} 0.0' in metrics


def test_reads_that_rebuild_an_entity_from_its_events_send_a_lone_surrogate_as_u_fffd(
    api: Api,
) -> None:
    """GET of a person and as-of read the events, not the views: they answer too (no 500)."""
    person, fund = poison(api.ledger)
    api.catch_up()

    today = datetime.now(SHANGHAI).date()  # the ledger's day (Asia/Shanghai), not UTC's
    read = api.get(f"/v1/people/{person}", Role.CLERK)
    then = api.get(f"/v1/audit/as-of?date={today}&entity_id={person}", Role.INSPECTOR)
    pack = api.get(f"/v1/audit/export?region={f.COUNTY}&from=2024-01-01&to={today}", Role.INSPECTOR)

    assert read.status_code == 200, read.text
    assert read.json()["name"] == f"{REPLACEMENT}abc"
    assert then.status_code == 200, then.text
    assert REPLACEMENT in then.text
    assert pack.status_code == 200, pack.text[:500]
    assert fund
