"""Bank result files uploaded in the console: CSV with a TOTAL line, or the API's JSON.

A file is read whole before anything is recorded; any unreadable line refuses the file
(422 RESULTS-FILE) naming the line, so a result file is recorded all or nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from uuid import UUID

from disburse.api.console.web import refuse
from disburse.application.payouts import BankResult
from disburse.domain.batch import Outcome

#: The most lines a bank result file may have.
MAX_RESULT_LINES = 20_000


def results_from(data: bytes, name: str) -> tuple[list[BankResult], int | None, int | None]:
    """Bank results from an uploaded file: the API's JSON body, or CSV with a header row.

    CSV columns: ``payout_id, outcome, bank_reference, reason, paid_on``; a last row whose
    ``payout_id`` is ``TOTAL`` states the control count (``outcome`` column) and the
    control total in fen (``bank_reference`` column), as the bank's file does.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        refuse(422, "RESULTS-FILE", "the file is not UTF-8 text", field="file")
    if name.lower().endswith(".json") or text.lstrip().startswith("{"):
        try:
            body = json.loads(text)
            lines = body["results"]
            parsed = [
                BankResult(
                    payout_id=UUID(str(line["payout_id"])),
                    outcome=Outcome(line["outcome"]),
                    bank_reference=str(line.get("bank_reference") or ""),
                    reason=str(line.get("reason") or ""),
                    paid_on=date.fromisoformat(line["paid_on"]) if line.get("paid_on") else None,
                )
                for line in lines
            ]
            return (
                parsed,
                whole(body.get("control_count")),
                whole(body.get("control_total_fen")),
            )
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as error:
            refuse(
                422, "RESULTS-FILE", f"the JSON file is not a result file: {error}", field="file"
            )
    results: list[BankResult] = []
    count = total = None
    reader = csv.DictReader(io.StringIO(text))
    try:
        for number, line in enumerate(reader, start=2):
            if number > MAX_RESULT_LINES:
                refuse(422, "RESULTS-FILE", f"more than {MAX_RESULT_LINES} lines", field="file")
            payout_id = (line.get("payout_id") or "").strip()
            if payout_id.upper() == "TOTAL":
                count = whole((line.get("outcome") or "").strip())
                total = whole((line.get("bank_reference") or "").strip())
                continue
            try:
                results.append(
                    BankResult(
                        payout_id=UUID(payout_id),
                        outcome=Outcome((line.get("outcome") or "").strip()),
                        bank_reference=(line.get("bank_reference") or "").strip(),
                        reason=(line.get("reason") or "").strip(),
                        paid_on=date.fromisoformat(line["paid_on"].strip())
                        if (line.get("paid_on") or "").strip()
                        else None,
                    )
                )
            except ValueError as error:
                refuse(422, "RESULTS-FILE", f"line {number}: {error}", field="file")
    except csv.Error as error:
        refuse(422, "RESULTS-FILE", f"the CSV file cannot be read: {error}", field="file")
    return results, count, total


def whole(value: object) -> int | None:
    """Control figures are whole numbers (fen, lines): no fractions, no floats."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError("control figures are whole numbers")
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,18}", value):
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)
