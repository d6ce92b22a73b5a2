"""``disburse batch export`` and ``disburse batch results`` as real processes, on both stores."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING
from uuid import UUID

from disburse.domain.payout import PayoutStatus
from tests import factories as f
from tests.bank_files_support import answered_rows, to_csv, to_xlsx, xlsx_rows

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from tests.e2e.test_cli_audit import Cli


def _batch(ledger: Ledger, count: int = 3) -> tuple[list[UUID], UUID]:
    place = f.county(ledger)
    payouts = f.requested_stipends(ledger, place, count)
    for payout in payouts:
        ledger.payouts.approve(f.finance(), payout)
    batch = ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=payouts)
    return payouts, batch


def test_a_batch_goes_out_as_xlsx_and_its_return_file_is_recorded(ledger: Ledger, cli: Cli) -> None:
    payouts, batch_id = _batch(ledger)
    out = cli.cwd / "batch.xlsx"

    sent = cli("batch", "export", str(batch_id), "--format", "xlsx", "--out", str(out))

    assert sent.returncode == 0, sent.stderr
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert f"sha256 {digest}" in sent.stdout
    exported = f.stored_events(ledger, batch_id)[-1]
    assert exported.sha256 == digest  # type: ignore[attr-defined]
    answer = cli.cwd / "return.xlsx"
    rows = answered_rows(xlsx_rows(out.read_bytes()), {payouts[2]: "账号不存在"})
    answer.write_bytes(to_xlsx(rows))

    done = cli.json("batch", "results", str(answer), "--json")

    assert done == {
        "batch_id": str(batch_id),
        "recorded": 3,
        "paid": 2,
        "failed": 1,
        "complete": True,
    }
    statuses = [ledger.payouts.get(p).status for p in payouts]
    assert statuses == [PayoutStatus.PAID, PayoutStatus.PAID, PayoutStatus.FAILED]


def test_a_tampered_return_file_is_refused_whole_naming_each_line(ledger: Ledger, cli: Cli) -> None:
    payouts, batch_id = _batch(ledger)
    out = cli.cwd / "batch.csv"
    assert (
        cli("batch", "export", str(batch_id), "--format", "csv", "--out", str(out)).returncode == 0
    )
    rows = answered_rows(
        [line.split(",") for line in out.read_bytes().decode("utf-8-sig").splitlines()], {}
    )
    rows[1][3] = "1500.001"  # three decimals
    rows[-1][3] = "4400.00"  # a wrong total
    answer = cli.cwd / "return.csv"
    answer.write_bytes(to_csv(rows))

    refused = cli("batch", "results", str(answer), "--batch", str(batch_id), "--json")

    assert refused.returncode == 1
    outcome = json.loads(refused.stdout)
    assert outcome["rule_id"] == "BANKFILE-REFUSED"
    assert [(p["line"], p["rule_id"]) for p in outcome["problems"]] == [
        (2, "BANKFILE-AMOUNT"),
        (5, "BATCH-TOTALS"),
    ]
    assert "line 2 (金额（元）): BANKFILE-AMOUNT" in refused.stderr
    assert {ledger.payouts.get(p).status for p in payouts} == {PayoutStatus.BATCHED}


def test_an_unknown_format_or_batch_is_refused(cli: Cli) -> None:
    out = cli.cwd / "x.csv"
    bad = cli("batch", "export", "not-an-id", "--out", str(out))
    assert bad.returncode == 1
    assert "REQUEST-SCHEMA" in bad.stderr
    odd = cli("batch", "export", str(UUID(int=1)), "--format", "pdf", "--out", str(out))
    assert odd.returncode == 1
    assert "BANKFILE-FORMAT" in odd.stderr
    missing = cli("batch", "export", str(UUID(int=1)), "--out", str(out))
    assert missing.returncode == 1
    assert "BATCH-NOT-FOUND" in missing.stderr
    assert not out.exists()
