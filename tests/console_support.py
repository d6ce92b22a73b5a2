"""The console as its users meet it: accounts, a signed-in browser session, a live server."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import uvicorn

from disburse.access.users import context_of
from disburse.api.app import create_app
from disburse.cli.common import operator_context
from disburse.domain.meta import Role
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Iterator
    from uuid import UUID

    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from httpx2 import Response

    from disburse.bootstrap import System

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
#: Every console user of the tests ends up with this password (after the forced change).
PASSWORD = "correct horse battery staple"


def csrf_of(page: str) -> str:
    """The CSRF token of a console page's forms."""
    found = _CSRF.search(page)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def add_user(system: System, name: str, role: Role, region: str = f.COUNTY) -> str:
    """A console user whose initial password was already changed; returns the password."""
    users = system.users
    issued = users.create(operator_context(), username=name, role=role, region_code=region)
    signed = users.sign_in(name, issued.password, request_id="test-setup")
    users.change_password(signed.token, current=issued.password, new=PASSWORD)
    return PASSWORD


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> Response:
    """Sign in through the form, as a browser does (the form's CSRF token included)."""
    form = client.get("/console/login")
    assert form.status_code == 200
    return client.post(
        "/console/login",
        data={"username": name, "password": password, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )


@dataclass
class ConsoleWorld:
    """A county with payouts awaiting approval, an open alert, and a payout elsewhere."""

    system: System
    place: f.County
    pending: list[UUID]
    requested_by_user: UUID
    elsewhere: UUID
    alert_subject: str
    users: dict[str, Role] = field(default_factory=dict)


def console_world(system: System) -> ConsoleWorld:
    """The users and facts the console tests act on (one county, one other county)."""
    ledger = system.ledger
    place = f.county(ledger)
    pending = f.requested_stipends(ledger, place, 6)
    users = {
        "fin.wang": Role.FINANCE,
        "fin.chen": Role.FINANCE,
        "clerk.zhao": Role.CLERK,
        "insp.liu": Role.INSPECTOR,
    }
    for name, role in users.items():
        add_user(system, name, role)
    clerk = context_of(system.users.get("clerk.zhao"), "test-setup")
    post_id, _person = f.staffed_post(ledger, place)
    mine = ledger.posts.record_attendance(
        clerk, post_id, month=f.JAN, days_worked=22, days_required=22
    )
    assert mine is not None
    other = f.county(ledger, region=f.OTHER_COUNTY)
    [elsewhere] = f.requested_stipends(ledger, other, 1)
    shared = "6222020200000017"
    f.register(ledger, account=shared)
    f.register(ledger, account=shared)
    system.views.catch_up()
    [alert] = system.views.alerts.find(rule="FRAUD-SHARED-ACCOUNT")
    return ConsoleWorld(
        system=system,
        place=place,
        pending=pending,
        requested_by_user=mine,
        elsewhere=elsewhere,
        alert_subject=str(alert.alert_id),
        users=users,
    )


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free local port, in a thread; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-test-server", daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.02)
        assert thread.is_alive(), "the test server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def console_app(system: System) -> FastAPI:
    """The real app (API and console) over a system, its projector embedded."""
    return create_app(system, projector=True, digests=False)
