"""A store written by an earlier release opens, verifies and serves with today's code."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from structlog.testing import capture_logs

from disburse.access.client import ApiClient
from disburse.access.request import RecordedRequest
from disburse.audit.verify import verify
from disburse.bootstrap import System, open_system
from disburse.persistence.recorders.sql import LEDGER_SCHEMA
from disburse.settings import Settings
from tests.api_support import running_api

if TYPE_CHECKING:
    from collections.abc import Iterator

    from disburse.application.ledger import Ledger

FIXTURE = Path(__file__).parents[1] / "fixtures" / "store-2026-12"
PERSON = "1a8a1fc5-7497-5b06-828d-1d23c9a19694"


def restore_old_store(where: Path) -> Settings:
    """The fixture's SQLite store restored in ``where`` beside its key; its settings."""
    db = where / "ledger.db"
    with sqlite3.connect(db) as conn:
        conn.executescript((FIXTURE / "store.sql").read_text(encoding="utf-8"))
    conn.close()
    shutil.copy(FIXTURE / "ledger.db.key", where / "ledger.db.key")
    return Settings(env="test", database_url=f"sqlite:///{db}")


@pytest.fixture
def old_store(tmp_path: Path) -> Iterator[tuple[Ledger, Settings]]:
    """The fixture's SQLite store, opened by today's code."""
    settings = restore_old_store(tmp_path)
    with open_system(settings) as system:
        yield system.ledger, settings


def test_events_stored_under_moved_modules_are_read_as_the_classes_that_moved(
    old_store: tuple[Ledger, Settings],
) -> None:
    ledger, _ = old_store
    topics = {n.topic.partition(":")[0] for n in ledger.store.recorder.select_notifications(1, 100)}
    events = [
        ledger.store.mapper.to_domain_event(n)
        for n in ledger.store.recorder.select_notifications(1, 100)
    ]

    assert {"disburse.domain.client", "disburse.domain.request"} <= topics  # stored topic
    owners = {type(e).__qualname__.partition(".")[0]: type(e).__module__ for e in events}
    assert owners["ApiClient"] == ApiClient.__module__ == "disburse.access.client"
    assert owners["RecordedRequest"] == RecordedRequest.__module__


def test_an_old_store_verifies_and_serves_its_people_to_its_old_keys(
    old_store: tuple[Ledger, Settings],
) -> None:
    ledger, settings = old_store
    report = verify(ledger.store.chained)
    assert report.ok, report.as_dict()
    assert report.checked == 8

    with running_api(System(settings, ledger)) as api:
        key = (FIXTURE / "clerk.key").read_text(encoding="utf-8").strip()
        answer = api.client.get(f"/v1/people/{PERSON}", headers={"Authorization": f"Bearer {key}"})

    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "张三"


def test_a_client_created_before_gateways_is_upcast_to_version_2_as_no_gateway(
    old_store: tuple[Ledger, Settings],
) -> None:
    """ApiClient.Created v1 had no ``gateway``: upcast_v1_v2 reads it as False."""
    ledger, settings = old_store
    [created] = [
        event
        for notification in ledger.store.recorder.select_notifications(1, 100)
        if notification.topic.endswith(":ApiClient.Created")
        for event in [ledger.store.mapper.to_domain_event(notification)]
    ]
    [client] = System(settings, ledger).clients.list()

    assert isinstance(created, ApiClient.Created)
    assert ApiClient.Created.class_version == 2
    assert created.gateway is False
    assert (client.name, client.gateway) == ("county-clerk", False)


def test_an_old_store_gets_versioned_tables_and_its_changed_views_rebuilt(tmp_path: Path) -> None:
    """Written before versions: its tables become version 1, alerts and roster are rebuilt."""
    settings = restore_old_store(tmp_path)

    with open_system(settings) as system, capture_logs() as logs:
        chained = system.ledger.store.chained
        upgraded_from = chained.schema_upgraded_from  # type: ignore[attr-defined]
        recorded = chained.schema_version()  # type: ignore[attr-defined]
        projector = system.views.projector
        system.views.catch_up()
        versions = projector.versions()
        with system.views.db.read() as tx:
            site_tables = tx.all("SELECT COUNT(*) AS n FROM roster_sites")

    assert upgraded_from is None
    assert recorded == LEDGER_SCHEMA
    assert projector.upgraded == {"alerts": (1, 3), "roster": (1, 2)}
    assert versions == {
        "alerts": 3,
        "audit": 1,
        "balances": 1,
        "queue": 1,
        "roster": 2,
        "directory": 1,
        "entitlements": 1,
    }
    assert site_tables == [{"n": 0}]
    assert {e["view"] for e in logs if e["event"] == "view_upgraded"} == {"alerts", "roster"}
