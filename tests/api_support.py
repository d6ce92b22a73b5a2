"""The real app over a real store, with one API key per role and region, for e2e tests."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog
from fastapi.testclient import TestClient

from disburse.access.clients import Clients
from disburse.api.app import create_app
from disburse.api.logs import scrub_resident_ids
from disburse.cli.common import operator_context
from disburse.domain.identity import check_digit
from disburse.domain.meta import Role
from tests.factories import COUNTY, OTHER_COUNTY

if TYPE_CHECKING:
    from collections.abc import Iterator

    from httpx2 import Response

    from disburse.application.ledger import Ledger
    from disburse.bootstrap import System
    from disburse.readside.views import Views

CITY = COUNTY[:4]  # 2202: the city the test county belongs to
PROVINCE = COUNTY[:2]
#: Regions keys are made for: the test county, another county, the city, the province.
REGIONS = {"county": COUNTY, "other": OTHER_COUNTY, "city": CITY, "province": PROVINCE}
#: The label of keys in the test county that are not gateways (they may not send X-Actor-Id).
DIRECT = "direct"
_RESIDENT_ID = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")


@dataclass
class Api:
    """A test client over the real app, with a key for every role in every test region."""

    client: TestClient
    ledger: Ledger
    views: Views
    keys: dict[tuple[Role, str], str] = field(default_factory=dict)

    def headers(
        self, role: Role, region: str = "county", *, actor: str | None = None, **extra: str
    ) -> dict[str, str]:
        """Authorization (and X-Actor-Id) for a role's key in a region (see ``REGIONS``)."""
        headers = {"Authorization": f"Bearer {self.keys[(role, region)]}"}
        if actor is not None:
            headers["X-Actor-Id"] = actor
        return headers | extra

    def call(
        self,
        method: str,
        path: str,
        role: Role,
        region: str = "county",
        *,
        json_body: Any = None,
        actor: str | None = None,
        **headers: str,
    ) -> Response:
        """One request as that role's key."""
        return self.client.request(
            method,
            path,
            json=json_body,
            headers=self.headers(role, region, actor=actor, **headers),
        )

    def post(self, path: str, role: Role, body: Any = None, **kwargs: Any) -> Response:
        """POST as that role."""
        return self.call("POST", path, role, json_body=body, **kwargs)

    def get(self, path: str, role: Role, **kwargs: Any) -> Response:
        """GET as that role."""
        return self.call("GET", path, role, **kwargs)

    def catch_up(self) -> None:
        """Bring the views up to the log (the background projector also runs)."""
        self.views.catch_up()


def make_keys(ledger: Ledger) -> dict[tuple[Role, str], str]:
    """One client per role and test region.

    They are gateways, so tests can name the actor (``X-Actor-Id``) behind each call;
    the ``DIRECT`` keys of the county are ordinary keys, each one actor.
    """
    clients = Clients(ledger.store, ledger.keys)
    keys = {}
    for role in (Role.CLERK, Role.FINANCE, Role.INSPECTOR, Role.CLAIMANT, Role.ADMIN):
        for label, region in (*REGIONS.items(), (DIRECT, COUNTY)):
            issued = clients.create(
                operator_context(),
                name=f"{role.value}-{label}",
                role=role,
                region_code=region,
                gateway=label != DIRECT,
            )
            keys[(role, label)] = issued.key
    return keys


@contextmanager
def running_api(system: System) -> Iterator[Api]:
    """The app with its background projector, started and stopped like ``disburse serve``."""
    keys = make_keys(system.ledger)
    app = create_app(system)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client=client, ledger=system.ledger, views=system.views, keys=keys)


class LogTrap:
    """Everything logged, rendered as JSON lines, as a deployment would write it."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def install(self) -> None:
        """Route structlog to this buffer (the service's processors, JSON renderer)."""
        structlog.configure(
            processors=[
                structlog.contextvars.merge_contextvars,
                structlog.processors.add_log_level,
                structlog.processors.format_exc_info,
                scrub_resident_ids,
                structlog.processors.JSONRenderer(),
            ],
            logger_factory=structlog.PrintLoggerFactory(self.buffer),
            cache_logger_on_first_use=False,
        )

    def lines(self) -> list[dict[str, Any]]:
        """The log records so far."""
        return [json.loads(line) for line in self.buffer.getvalue().splitlines() if line]

    def resident_ids(self) -> list[str]:
        """Valid resident IDs found anywhere in the logs (there must be none).

        Read in the raw text and in the decoded values (the JSON renderer escapes
        non-ASCII), folded as the ledger folds input (full-width digits, lower-case x).
        """
        texts = [self.buffer.getvalue()]
        texts += [unicodedata.normalize("NFKC", text).upper() for text in strings(self.lines())]
        found = [rid for text in texts for rid in _RESIDENT_ID.findall(text)]
        return sorted({rid for rid in found if check_digit(rid[:17]) == rid[17].upper()})


def strings(value: object) -> list[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []
