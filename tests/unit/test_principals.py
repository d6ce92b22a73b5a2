"""Who the ledger holds responsible: a gateway's user, or else the key itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from disburse.access.client import ApiClient
from disburse.access.clients import Clients
from disburse.cli.common import operator_context
from disburse.domain.errors import RuleViolationError
from disburse.domain.meta import Meta, Role
from tests import factories as f

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger


def test_a_principal_is_the_whole_actor_id_only_when_a_gateway_vouched_for_it() -> None:
    plain = Meta(actor_id="fin/zhang.wei", role=Role.FINANCE, client_id="c", request_id="r")
    assert plain.principal == "fin"
    assert Meta.from_dict(plain.as_dict() | {"gateway": True}).principal == "fin/zhang.wei"
    stored_before_gateways = {k: v for k, v in plain.as_dict().items() if k != "gateway"}
    assert Meta.from_dict(stored_before_gateways).gateway is False


def test_an_x_actor_id_stored_from_a_plain_key_counts_as_that_key(memory_ledger: Ledger) -> None:
    """Events stored before gateways existed: ``fin/zhang.wei`` and ``fin`` are one principal."""
    place = f.county(memory_ledger)
    post_id, _ = f.staffed_post(memory_ledger, place)
    f.publish(memory_ledger, f.regional_policy(payouts={"second_approval_above_fen": 100_000}))
    payout = memory_ledger.posts.record_attendance(
        f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
    )
    assert payout is not None
    memory_ledger.payouts.approve(f.finance("yongji-fin1/zhang.wei"), payout)
    with pytest.raises(RuleViolationError) as refusal:
        memory_ledger.payouts.approve(f.finance("yongji-fin1"), payout)
    assert refusal.value.rule_id == "PAYOUT-SOD"
    memory_ledger.payouts.approve(f.finance("yongji-fin2"), payout)


def test_a_client_created_before_gateways_reads_as_no_gateway(memory_ledger: Ledger) -> None:
    issued = Clients(memory_ledger.store, memory_ledger.keys).create(
        operator_context(), name="old-portal", role=Role.FINANCE, region_code=f.COUNTY, gateway=True
    )
    [created] = memory_ledger.store.events.get(issued.client.id)
    assert created.gateway is True  # type: ignore[attr-defined]
    del created.__dict__["gateway"]  # as stored before the flag existed
    old = created.mutate(None)  # type: ignore[attr-defined]
    assert isinstance(old, ApiClient)
    assert (old.name, old.gateway) == ("old-portal", False)
