"""The private eventsourcing methods our recorders override still exist and are still called.

Each recorder chains events by overriding one private method of its library base class
(``persistence/recorders/``). A library upgrade that renames one, changes its arguments or
stops calling it would leave events unchained without an error; these tests fail first.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import pytest
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from disburse.persistence.recorders import (
    ChainedPOPORecorder,
    ChainedPostgresRecorder,
    ChainedSQLiteRecorder,
)
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Callable

    from disburse.application.ledger import Ledger

#: (our recorder, its library base, the private method it overrides, that method's parameters)
OVERRIDES = [
    (ChainedSQLiteRecorder, SQLiteApplicationRecorder, "_insert_events", ["c", "stored_events"]),
    (
        ChainedPostgresRecorder,
        PostgresApplicationRecorder,
        "_fetch_ids_after_insert_events",
        ["curs", "stored_events"],
    ),
    (ChainedPOPORecorder, POPOApplicationRecorder, "_update_table", ["stored_events"]),
]
IDS = [recorder.__name__ for recorder, *_ in OVERRIDES]


def test_the_overrides_were_checked_against_the_pinned_eventsourcing() -> None:
    """Upgrading eventsourcing means reading the overridden methods again, then this pin."""
    assert version("eventsourcing") == "9.5.6"


@pytest.mark.parametrize(("ours", "base", "method", "parameters"), OVERRIDES, ids=IDS)
def test_each_overridden_private_method_exists_with_the_arguments_we_pass(
    ours: type, base: type, method: str, parameters: list[str]
) -> None:
    library = getattr(base, method, None)
    assert library is not None, f"{base.__name__}.{method} is gone"
    found = inspect.signature(library).parameters
    positional = [p for p in found if p != "self" and found[p].kind is not found[p].VAR_KEYWORD]

    assert positional == parameters
    assert any(p.kind is p.VAR_KEYWORD for p in found.values())
    assert method in vars(ours), f"{ours.__name__} no longer overrides {method}"


def _spy(monkeypatch: pytest.MonkeyPatch, cls: type, method: str) -> list[int]:
    """Count the events each call of ``cls.method`` (our override) was given."""
    calls: list[int] = []
    original: Callable[..., Any] = getattr(cls, method)

    def counting(self: object, *args: Any, **kwargs: Any) -> Any:
        stored = kwargs.get("stored_events", args[-1] if args else ())
        calls.append(len(stored))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, method, counting)
    return calls


def _save_a_person_and_head(ledger: Ledger) -> tuple[int, int]:
    """Register one person through the ordinary service; the log's and the chain's heads."""
    f.register(ledger)
    head = ledger.store.chained.chain_head()
    assert head is not None
    return ledger.store.recorder.max_notification_id() or 0, head.position


def test_the_library_calls_our_override_for_every_save_on_each_database(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = type(ledger.store.recorder)
    [(_, _, method, _)] = [o for o in OVERRIDES if o[0] is recorder]
    calls = _spy(monkeypatch, recorder, method)

    log_head, chain_head = _save_a_person_and_head(ledger)

    assert calls, f"{recorder.__name__}.{method} was not called by a save"
    assert chain_head == log_head


def test_the_library_calls_our_override_for_every_save_in_memory(
    memory_ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _spy(monkeypatch, ChainedPOPORecorder, "_update_table")

    log_head, chain_head = _save_a_person_and_head(memory_ledger)

    assert calls
    assert chain_head == log_head
