"""``disburse notice`` as a real process, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING

from openpyxl import load_workbook

from disburse.domain.payout import PayoutStatus
from tests import factories as f
from tests.notice_support import (
    CONTACT,
    MASKED,
    PERIOD,
    all_fonts_embedded,
    named_stipends,
    pdf_text,
)

if TYPE_CHECKING:
    from pathlib import Path

    from disburse.application.ledger import Ledger
    from tests.e2e.test_cli_audit import Cli


def test_a_notice_is_written_as_pdf_opens_the_windows_and_is_not_issued_twice(
    ledger: Ledger, cli: Cli, tmp_path: Path
) -> None:
    payouts = named_stipends(ledger)
    out = tmp_path / "notice.pdf"
    args = ("notice", PERIOD, "--region", f.COUNTY, "--out", str(out), "--days", "7")
    summary = cli.json(*args, "--contact", CONTACT, "--title", "测试县补贴发放公示", "--json")

    assert summary["count"] == 3
    assert summary["total_fen"] == 450_000
    assert summary["total_capitals"] == "肆仟伍佰元整"
    data = out.read_bytes()
    assert summary["sha256"]["pdf"] == hashlib.sha256(data).hexdigest()
    text = pdf_text(data)
    assert all(masked in text for masked in MASKED)
    assert "肆仟伍佰元整" in text
    assert all_fonts_embedded(data)
    for payout_id in payouts:
        assert ledger.payouts.get(payout_id).status is PayoutStatus.ON_NOTICE

    again = cli(*args, "--contact", CONTACT)
    assert again.returncode == 1
    assert "NOTICE-EMPTY" in again.stderr


def test_a_notice_as_xlsx_takes_its_contact_from_the_settings(
    ledger: Ledger, cli: Cli, tmp_path: Path
) -> None:
    named_stipends(ledger)
    out = tmp_path / "notice.xlsx"
    done = cli(
        "notice", PERIOD, "--region", f.COUNTY, "--out", str(out), "--days", "5",
        DISBURSE_NOTICE_CONTACT="县人社局 0432-1234",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "3 payout(s), 4500.00 yuan (肆仟伍佰元整)" in done.stdout
    sheet = load_workbook(io.BytesIO(out.read_bytes())).active
    assert sheet is not None
    cells = {str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None}
    assert set(MASKED) <= cells
    assert "合计金额（大写）：人民币肆仟伍佰元整" in cells
    assert any("县人社局 0432-1234" in c for c in cells)


def test_bad_input_is_refused_before_anything_is_written(
    ledger: Ledger, cli: Cli, tmp_path: Path
) -> None:
    payouts = named_stipends(ledger)
    pdf = str(tmp_path / "n.pdf")
    cases = {
        "NOTICE-PERIOD": ("notice", "2024-13", "--region", f.COUNTY, "--out", pdf),
        "REGION-CODE": ("notice", PERIOD, "--region", "22x", "--out", pdf),
        "NOTICE-FORMAT": ("notice", PERIOD, "--region", f.COUNTY, "--out", str(tmp_path / "n.doc")),
        "NOTICE-CONTACT": ("notice", PERIOD, "--region", f.COUNTY, "--out", pdf, "--days", "7"),
        "NOTICE-DAYS": ("notice", PERIOD, "--region", f.COUNTY, "--out", pdf, "--contact", "x"),
    }
    for rule, args in cases.items():
        done = cli(*args)
        assert done.returncode == 1, rule
        assert rule in done.stderr, (rule, done.stderr)
    hostile = cli(
        "notice", PERIOD, "--region", f.COUNTY, "--out", pdf, "--days", "7",
        "--contact", "x", "--title", "公示\x1b[2J",
    )  # fmt: skip
    assert hostile.returncode == 2
    assert "TEXT-INVALID" in hostile.stderr
    assert not (tmp_path / "n.pdf").exists()
    assert {ledger.payouts.get(p).status for p in payouts} == {PayoutStatus.REQUESTED}


def test_a_batch_notice_lists_what_it_pays_and_a_second_run_writes_the_same_file(
    ledger: Ledger, cli: Cli, tmp_path: Path
) -> None:
    payouts = named_stipends(ledger)
    for payout_id in payouts:
        ledger.payouts.approve(f.finance(), payout_id)
    fund_id = ledger.payouts.get(payouts[0]).fund_id
    batch = ledger.payouts.release_batch(f.finance(), fund_id=fund_id, payout_ids=payouts)
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    args = ("notice", "--batch", str(batch), "--days", "7", "--contact", CONTACT, "--json")
    summary = cli.json(*args, "--out", str(first))
    assert (summary["count"], summary["created"]) == (3, True)
    again = cli.json(*args, "--out", str(second))
    assert (again["notice_id"], again["created"]) == (summary["notice_id"], False)
    assert first.read_bytes() == second.read_bytes()
    assert "补贴发放结果公示" in pdf_text(first.read_bytes())
    assert {ledger.payouts.get(p).status for p in payouts} == {PayoutStatus.BATCHED}

    both = cli("notice", PERIOD, "--region", f.COUNTY, "--batch", str(batch), "--out", "x.pdf")
    assert both.returncode == 2
    unknown = cli("notice", "--batch", "not-an-id", "--out", "x.pdf")
    assert unknown.returncode == 1
    assert "REQUEST-SCHEMA" in unknown.stderr
