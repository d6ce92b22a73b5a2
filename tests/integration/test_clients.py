"""API clients: keys shown once, kept as keyed hashes, checked, revoked; all of it audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from disburse.access.client import ApiClient
from disburse.access.clients import Clients
from disburse.domain.errors import ConflictError, InvalidInputError, RuleViolationError
from disburse.domain.meta import Role
from tests import factories as f

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger


@pytest.fixture
def clients(ledger: Ledger) -> Clients:
    return Clients(ledger.store, ledger.keys)


def test_a_key_authenticates_its_client_and_only_its_hash_is_stored(
    ledger: Ledger, clients: Clients
) -> None:
    issued = clients.create(f.admin(), name="county-clerk", role=Role.CLERK, region_code="220221")
    found = clients.authenticate(issued.key)
    assert found is not None
    assert (found.id, found.role, found.region_code) == (issued.client.id, Role.CLERK, "220221")
    secret = issued.key.split("_", 2)[2]
    stored = ledger.store.recorder.select_notifications(start=1, limit=10_000)
    for notification in stored:  # encrypted, and the key is not in the plaintext either
        event = ledger.store.mapper.to_domain_event(notification)
        assert secret not in repr(vars(event))
    assert found.key_hash == ledger.keys.api_key_hash(secret)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # wrong secret
        lambda key: key.replace("dsb_", "xyz_"),  # wrong prefix
        lambda key: "dsb_" + "0" * 32 + "_" + key.split("_", 2)[2],  # unknown client
        lambda key: "dsb_nothex_" + key[-4:],  # malformed client id
        lambda key: key[:0],  # empty
    ],
)
def test_a_wrong_key_authenticates_nobody(clients: Clients, mangle: object) -> None:
    issued = clients.create(f.admin(), name="c", role=Role.FINANCE, region_code="22")
    assert callable(mangle)
    assert clients.authenticate(mangle(issued.key)) is None


def test_a_revoked_key_stops_working_and_the_client_stays_listed(clients: Clients) -> None:
    issued = clients.create(f.admin(), name="leaver", role=Role.INSPECTOR, region_code="2202")
    with pytest.raises(InvalidInputError, match="CLIENT-REASON"):
        clients.revoke(f.admin(), issued.client.id, reason=" ")
    clients.revoke(f.admin(), issued.client.id, reason="left the bureau")
    assert clients.authenticate(issued.key) is None
    with pytest.raises(ConflictError, match="CLIENT-REVOKED"):
        clients.revoke(f.admin(), issued.client.id, reason="again")
    assert [(c.name, c.revoked) for c in clients.list()] == [("leaver", True)]


def test_only_an_admin_manages_clients(clients: Clients) -> None:
    with pytest.raises(RuleViolationError, match="CLIENT-ADMIN"):
        clients.create(f.clerk(), name="self-made", role=Role.ADMIN, region_code="22")
    issued = clients.create(f.admin(), name="ok", role=Role.CLERK, region_code="22")
    with pytest.raises(RuleViolationError, match="CLIENT-ADMIN"):
        clients.revoke(f.finance(), issued.client.id, reason="not mine to revoke")


@pytest.mark.parametrize(
    ("name", "role", "region", "rule"),
    [
        ("a b", Role.CLERK, "22", "CLIENT-NAME"),
        ("", Role.CLERK, "22", "CLIENT-NAME"),
        ("ok", Role.SYSTEM, "22", "CLIENT-ROLE"),
        ("ok", Role.CLERK, "", "REGION-CODE"),
        ("ok", Role.CLERK, "2202211", "REGION-CODE"),
        ("ok", Role.CLERK, "99", "REGION-CODE"),
    ],
)
def test_a_client_needs_a_name_a_role_and_a_region(
    clients: Clients, name: str, role: Role, region: str, rule: str
) -> None:
    with pytest.raises(InvalidInputError, match=rule):
        clients.create(f.admin(), name=name, role=role, region_code=region)
    assert clients.list() == []


def test_names_are_unique_and_creation_is_audited(ledger: Ledger, clients: Clients) -> None:
    clients.create(f.admin("admin-7"), name="dup", role=Role.CLERK, region_code="22")
    with pytest.raises(ConflictError, match="CLIENT-NAME"):
        clients.create(f.admin(), name="dup", role=Role.FINANCE, region_code="22")
    [client] = clients.list()
    assert clients.find_by_name("dup") == client
    assert clients.find_by_name("nobody") is None
    assert client.created_by == "admin-7"
    stored = ledger.store.recorder.select_notifications(start=1, limit=10_000)
    topics = [n.topic for n in stored]
    assert sum(t.endswith("ApiClient.Created") for t in topics) == 1
    assert isinstance(ledger.store.find(ApiClient, client.id), ApiClient)
