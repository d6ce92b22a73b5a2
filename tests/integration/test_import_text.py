"""Imported cells pass the ledger's text check: a bad cell rejects its row, with line and field.

On SQLite and PostgreSQL: the row is reported (line, field, TEXT-INVALID) and nothing is
written for it; the other rows are written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from disburse.importing.people import PEOPLE
from tests import factories as f
from tests.integration.test_import import PEOPLE_HEADER, counts, head, run, write_csv, write_xlsx

if TYPE_CHECKING:
    from pathlib import Path

    from disburse.application.ledger import Ledger


def roster(names: list[str], households: list[str]) -> list[list[object]]:
    rows: list[list[object]] = [PEOPLE_HEADER[:-1]]
    for n, (name, household) in enumerate(zip(names, households, strict=True), start=1):
        rid = f.resident_id()
        rows.append(
            [n, rid, name, f.COUNTY, "脱贫人口", "弱劳力", household, f"62220202{rid[-8:-1]}0"]
        )
    return rows


def test_a_csv_row_with_a_nul_in_a_name_or_household_is_rejected_and_not_written(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "roster.csv",
        roster(["王五", "王\x00六", "赵七"], ["H-1", "H-2", "H-\x003"]),
    )
    before = head(ledger)

    summary, report = run(ledger, PEOPLE, path)

    assert counts(summary) == (3, 1, 0, 2)
    assert [(line, field, rule) for line, field, rule, _ in report] == [
        ("3", "姓名", "TEXT-INVALID"),
        ("4", "户编号", "TEXT-INVALID"),
    ]
    assert "U+0000" in report[0][3]
    assert head(ledger) == before + 1


def test_an_xlsx_cell_with_a_private_use_character_rejects_its_row(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "roster.xlsx", roster(["王\ue000五", "赵七"], ["H-1", "H-2"]))
    before = head(ledger)

    summary, report = run(ledger, PEOPLE, path)

    assert counts(summary) == (2, 1, 0, 1)
    assert [(line, field, rule) for line, field, rule, _ in report] == [
        ("2", "姓名", "TEXT-INVALID")
    ]
    assert head(ledger) == before + 1
