"""CLI options the ledger stores pass its text check: exit 2 with a message, nothing written."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from tests.e2e.test_cli_audit import Cli


def test_a_stored_option_with_a_control_character_exits_2_and_writes_nothing(
    cli: Cli, ledger: Ledger
) -> None:
    before = ledger.store.recorder.max_notification_id() or 0
    escape = "\x1b[31mred"

    sample = cli("audit", "sample", "--rate", "0.5", "--seed", "s1", "--reason", escape)
    revoke = cli("clients", "revoke", "someone", "--reason", "bell\x07")
    erase = cli(
        "audit", "erase", "00000000-0000-0000-0000-000000000001", "--yes",
        "--legal-basis", "第\x0b条", "--reason", "x",
    )  # fmt: skip

    for done in (sample, revoke, erase):
        assert done.returncode == 2, done.stderr
        assert "TEXT-INVALID" in done.stderr
        assert "control character" in done.stderr
    assert (ledger.store.recorder.max_notification_id() or 0) == before
