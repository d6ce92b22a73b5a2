"""An alert's resolution: an inspector's decision, with a reason, on the alert's own id."""

from __future__ import annotations

import uuid

import pytest

from disburse.domain.alert import AlertCase, AlertOutcome
from disburse.domain.errors import InvalidInputError, RuleViolationError
from disburse.domain.meta import Role
from tests import factories as f


def test_an_inspector_dismisses_an_alert_with_a_reason_citing_its_rule() -> None:
    alert_id = uuid.uuid4()
    meta = f.meta("inspector-1", Role.INSPECTOR).because(reason="a married couple")

    case = AlertCase.resolve(
        alert_id=alert_id, rule_id="FRAUD-SHARED-ACCOUNT", outcome=AlertOutcome.DISMISSED, meta=meta
    )

    assert (case.id, case.outcome, case.resolved_by) == (alert_id, "dismissed", "inspector-1")
    [event] = case.collect_events()
    assert "FRAUD-SHARED-ACCOUNT" in event.meta.rule_ids  # type: ignore[attr-defined]


@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 2001])
def test_a_resolution_without_a_reason_or_with_an_endless_one_is_refused(
    reason: str | None,
) -> None:
    meta = f.meta("inspector-1", Role.INSPECTOR).because(reason=reason)

    with pytest.raises(InvalidInputError) as refused:
        AlertCase.resolve(
            alert_id=uuid.uuid4(),
            rule_id="FRAUD-DECEASED",
            outcome=AlertOutcome.CONFIRMED,
            meta=meta,
        )

    assert (refused.value.rule_id, refused.value.field) == ("ALERT-REASON", "reason")


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.INSPECTOR])
def test_only_an_inspector_resolves_alerts(role: Role) -> None:
    with pytest.raises(RuleViolationError) as refused:
        AlertCase.resolve(
            alert_id=uuid.uuid4(),
            rule_id="FRAUD-DECEASED",
            outcome=AlertOutcome.CONFIRMED,
            meta=f.meta("someone", role).because(reason="looks fine"),
        )

    assert refused.value.rule_id == "ALERT-RESOLVER"
