"""The store itself: restart, concurrency, encryption at rest, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from pydantic import SecretStr

from disburse.bootstrap import build_ledger, initialise
from disburse.domain.errors import RuleViolationError
from disburse.persistence.keys import generate_secret
from disburse.persistence.recorders.sql import LEDGER_SCHEMA
from disburse.settings import ConfigurationError, Settings
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Callable

    from disburse.application.ledger import Ledger
    from tests.conftest import LedgerFactory


def _force_race(ledgers: list[Ledger]) -> None:
    """Make every ledger's first save wait until all have decided on the same state."""
    barrier = threading.Barrier(len(ledgers))
    for each in ledgers:
        original = each.store.save
        calls = {"n": 0}

        def save(
            *args: Any, _original: Callable[..., Any] = original, _calls: dict[str, int] = calls
        ) -> Any:
            _calls["n"] += 1
            if _calls["n"] == 1:
                barrier.wait(timeout=20)
            return _original(*args)

        each.store.save = save  # type: ignore[method-assign,assignment]


def test_two_concurrent_appointments_of_one_person_exactly_one_succeeds(
    open_ledger: LedgerFactory,
) -> None:
    setup = open_ledger()
    initialise(setup)
    place = f.county(setup)
    person = f.register(setup)
    posts = [f.post(setup, place), f.post(setup, place)]
    racers = [open_ledger(), open_ledger()]
    _force_race(racers)
    outcomes: list[str] = []

    def appoint(racer: Ledger, post_id: Any) -> None:
        try:
            racer.posts.appoint(
                f.clerk(),
                post_id,
                person_id=person,
                term_start=date(2024, 1, 1),
                term_end=date(2024, 12, 31),
            )
            outcomes.append("appointed")
        except RuleViolationError as error:
            outcomes.append(error.rule_id)

    threads = [
        threading.Thread(target=appoint, args=(r, p)) for r, p in zip(racers, posts, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["POST-ONE-PERSON-ONE-POST", "appointed"]
    holders = [open_ledger().posts.get(p).holder_id for p in posts]
    assert holders.count(person) == 1


def test_reopening_the_store_gives_the_same_state(
    ledger: Ledger, open_ledger: LedgerFactory
) -> None:
    place = f.county(ledger)
    post_id, person = f.staffed_post(ledger, place)
    payout = ledger.posts.record_attendance(
        f.clerk(), post_id, month=f.JAN, days_worked=20, days_required=22
    )
    assert payout is not None
    before = (ledger.posts.get(post_id), ledger.people.get(person), ledger.funds.get(place.fund_id))
    versions = [d.version for d in ledger.policy.versions()]
    ledger.close()
    reopened = open_ledger()
    after = (
        reopened.posts.get(post_id),
        reopened.people.get(person),
        reopened.funds.get(place.fund_id),
    )
    assert after == before
    assert reopened.payouts.get(payout).amount_fen == 136_364
    assert [d.version for d in reopened.policy.versions()] == versions


def _stored_bytes(settings: Settings) -> bytes:
    store = settings.store
    if store.kind == "sqlite":
        assert store.path is not None
        return store.path.read_bytes()
    with psycopg.connect(
        host=store.host, port=store.port, user=store.user, dbname=store.dbname
    ) as conn:
        rows = conn.execute(f'SELECT state FROM "{store.schema}".ledger_events').fetchall()  # noqa: S608 - test schema name
    return b"".join(bytes(row[0]) for row in rows)


def test_the_stored_events_contain_no_plaintext_resident_id_or_name(
    ledger: Ledger, settings: Settings
) -> None:
    rid = f.resident_id()
    person = f.register(ledger, rid=rid)
    ledger.people.change_bank_account(
        f.clerk(), person, bank_account="6217000099998888", reason="card replaced"
    )
    ledger.close()
    stored = _stored_bytes(settings)
    assert len(stored) > 1000
    for secret in (rid.encode(), rid[:17].encode(), "测试人".encode(), b"6217000099998888"):
        assert secret not in stored


def test_a_store_opened_with_another_key_is_refused(ledger: Ledger, settings: Settings) -> None:
    f.register(ledger)
    wrong_key = settings.model_copy(update={"secret_key": SecretStr(generate_secret())})
    with pytest.raises(ConfigurationError, match="does not decrypt"):
        build_ledger(wrong_key)


def test_registering_the_same_person_twice_from_two_systems_gives_one_person(
    ledger: Ledger,
) -> None:
    rid = f.resident_id()
    first = f.register(ledger, rid=rid)
    second = ledger.people.register(
        f.clerk("another-system"),
        resident_id=rid.lower(),
        name="测试人",
        home_region=f.COUNTY,
        poverty_status=ledger.people.get(first).poverty_status,
        labour_capacity=ledger.people.get(first).labour_capacity,
        household_id="H-other",
        bank_account="6222020200001111",
    )
    assert second.person_id == first
    assert not second.created


def test_a_new_store_records_the_version_of_its_own_tables(ledger: Ledger) -> None:
    assert ledger.store.chained.schema_version() == LEDGER_SCHEMA  # type: ignore[attr-defined]


def test_a_store_written_by_a_newer_release_is_refused_not_downgraded(
    ledger: Ledger, settings: Settings
) -> None:
    """Its tables may mean something this release does not know: never open it."""
    chained = ledger.store.chained
    chained._write(  # type: ignore[attr-defined]  # noqa: SLF001 - planting a newer store
        chained._sql(  # type: ignore[attr-defined]  # noqa: SLF001
            f"UPDATE {chained.schema_table} SET version = %s"  # type: ignore[attr-defined]  # noqa: S608
        ),
        (LEDGER_SCHEMA + 1,),
    )

    with pytest.raises(ConfigurationError, match="newer disburse"):
        build_ledger(settings)
