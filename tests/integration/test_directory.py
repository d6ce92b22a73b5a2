"""The directory view: people found by name and resident ID, their identity kept sealed."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from disburse.domain.person import LabourCapacity, PovertyStatus
from tests import factories as f

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from disburse.readside.views import Views


def _register(ledger: Ledger, name: str, rid: str) -> str:
    return str(
        ledger.people.register(
            f.clerk(),
            resident_id=rid,
            name=name,
            home_region=f.COUNTY,
            poverty_status=PovertyStatus.LIFTED,
            labour_capacity=LabourCapacity.WEAK,
            household_id="H-1",
            bank_account="6222020212345678",
            public_payroll=False,
        ).person_id
    )


def test_the_stored_rows_hold_neither_the_name_nor_the_resident_id(
    ledger: Ledger, views: Views
) -> None:
    """Only sealed and hashed forms reach the tables; the queries open them for the list."""
    rid = f.resident_id()
    person = _register(ledger, "欧阳娜娜", rid)
    views.catch_up()

    stored = repr(f.dump_views(views))
    assert "欧阳" not in stored
    assert rid not in stored
    [found] = views.directory.people(name="欧阳", full_ids=True).items
    assert (found["person_id"], found["name"], found["resident_id"]) == (person, "欧阳娜娜", rid)


def test_an_erased_identity_is_no_longer_found_or_shown(ledger: Ledger, views: Views) -> None:
    """After erasure the name finds nothing and the person reads as erased, live and rebuilt."""
    person = _register(ledger, "欧阳娜娜", f.resident_id())
    ledger.people.erase_identity(f.admin(), UUID(person), legal_basis="PIPL art. 47", reason="t")
    views.catch_up()
    live = f.dump_views(views)

    assert views.directory.people(name="欧阳").items == []
    [erased] = views.directory.people(full_ids=True).items
    assert erased["name"] == erased["resident_id"] == erased["resident_id_masked"] == "[erased]"
    with views.db.read() as tx:
        assert tx.all("SELECT * FROM directory_names") == []

    views.projector.rebuild()
    assert f.dump_views(views) == live
