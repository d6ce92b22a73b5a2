"""Catalogue versions are parsed once per process, and a new one is seen at once."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from disburse.domain.catalogue import PolicyCatalogue
from disburse.domain.rules import PolicyDocument
from disburse.policy.default import national
from tests import factories as f

if TYPE_CHECKING:
    import pytest

    from tests.conftest import LedgerFactory

ON = date(2024, 3, 1)


def test_a_version_published_through_another_store_is_in_force_at_once(
    open_ledger: LedgerFactory,
) -> None:
    """Two processes on one store: the one that already parsed the catalogue sees the new one."""
    reader, publisher = open_ledger(), open_ledger()
    f.publish(publisher, national())
    assert reader.policy.in_force(f.COUNTY, ON).version == national().version
    f.publish(publisher, f.regional_policy())
    assert reader.policy.in_force(f.COUNTY, ON).version == f.REGIONAL_VERSION
    assert [d.version for d in reader.policy.versions()] == [
        national().version,
        f.REGIONAL_VERSION,
    ]


def test_each_published_version_is_validated_once_however_often_it_is_read(
    open_ledger: LedgerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = open_ledger()
    f.publish(ledger, national())
    f.publish(ledger, f.regional_policy())
    parsed: list[str] = []

    def counting(document: dict[str, object]) -> PolicyDocument:
        parsed.append(str(document["version"]))
        return PolicyDocument.model_validate(document)

    monkeypatch.setattr(PolicyCatalogue, "parse", staticmethod(counting))
    first = ledger.policy.in_force(f.COUNTY, ON)
    for _ in range(5):
        assert ledger.policy.in_force(f.COUNTY, ON) is first
    assert sorted(parsed) == sorted([national().version, f.REGIONAL_VERSION])
