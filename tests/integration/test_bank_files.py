"""Bank files on both stores: a batch exported, answered by the bank, ends as JSON results would."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from disburse.application.payouts import BankResult
from disburse.bankfiles.returns import ReturnFileError
from disburse.bankfiles.service import export_batch, read_return_file, record_return_file
from disburse.domain.batch import Outcome
from disburse.domain.payout import PayoutStatus
from tests import factories as f
from tests.bank_files_support import answered_rows, csv_rows, pain002, to_csv, to_xlsx, xlsx_rows

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from disburse.bootstrap import System

TWIN = "220203"  # another county of the same city, driven by JSON results


def _batch(ledger: Ledger, region: str, count: int = 4) -> tuple[f.County, list[UUID], UUID]:
    place = f.county(ledger, region=region)
    payouts = f.requested_stipends(ledger, place, count)
    for payout in payouts:
        ledger.payouts.approve(f.finance(), payout)
    batch = ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=payouts)
    return place, payouts, batch


def _state(system: System, place: f.County, payouts: list[UUID]) -> tuple[object, ...]:
    ledger = system.ledger
    fund = ledger.funds.get(place.fund_id)
    system.views.catch_up()
    balance = system.views.balances.fund(str(place.fund_id))
    assert balance is not None
    return (
        [ledger.payouts.get(p).status for p in payouts],
        (fund.allocated_fen, fund.committed_fen, fund.paid_fen),
        balance.totals,
    )


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "pain.002"])
def test_an_exported_batch_answered_by_the_bank_ends_where_json_results_would(
    system: System, file_format: str
) -> None:
    ledger = system.ledger
    place, payouts, batch_id = _batch(ledger, f.COUNTY)
    twin, twin_payouts, twin_batch = _batch(ledger, TWIN)
    failed = {payouts[1]: "账户已销户", payouts[3]: "户名不符"}

    if file_format == "pain.002":
        sent = export_batch(ledger.payouts, f.finance(), batch_id, file_format="pain.001")
        lines = {p: (150_000, failed.get(p)) for p in payouts}
        answer = pain002(batch_id, lines, count=4, total="6000.00")
    else:
        sent = export_batch(ledger.payouts, f.finance(), batch_id, file_format=file_format)
        rows = (csv_rows if file_format == "csv" else xlsx_rows)(sent.content)
        answered = answered_rows(rows, failed)
        answer = to_csv(answered) if file_format == "csv" else to_xlsx(answered, title="代发结果")
    read = read_return_file(answer, file_format=file_format)
    assert read.problems == []
    record_return_file(ledger.payouts, f.finance(), read)  # the batch found from the lines
    ledger.payouts.record_results(
        f.finance(),
        twin_batch,
        results=[
            BankResult(p, Outcome.FAILED, reason="closed")
            if i in (1, 3)
            else BankResult(p, Outcome.PAID, bank_reference=f"BOC{i}")
            for i, p in enumerate(twin_payouts)
        ],
        control_count=4,
        control_total_fen=600_000,
    )

    assert _state(system, place, payouts) == _state(system, twin, twin_payouts)
    statuses = [ledger.payouts.get(p).status for p in payouts]
    assert statuses == [PayoutStatus.PAID, PayoutStatus.FAILED] * 2
    assert (ledger.payouts.get(payouts[1]).failure or "").endswith(
        "账户已销户"
    )  # pain.002: code too
    assert ledger.payouts.get_batch(batch_id).is_reconciled
    assert len(sent.sha256) == 64


def test_a_tampered_return_file_is_refused_whole_listing_every_bad_line(system: System) -> None:
    ledger = system.ledger
    _place, payouts, batch_id = _batch(ledger, f.COUNTY)
    _other, strangers, _other_batch = _batch(ledger, TWIN, count=1)
    sent = export_batch(ledger.payouts, f.finance(), batch_id, file_format="csv")
    rows = answered_rows(csv_rows(sent.content), {})
    rows[2][3] = "1600.00"  # a line's amount changed
    rows[3][5] = strangers[0].hex  # a line of another batch
    rows[-1][3] = "6000.01"  # a wrong total

    with pytest.raises(ReturnFileError) as refused:
        record_return_file(
            ledger.payouts, f.finance(), read_return_file(to_csv(rows)), batch_id=batch_id
        )

    found = {(p.line, p.rule_id) for p in refused.value.problems}
    assert found == {(3, "BANKFILE-MISMATCH"), (4, "BATCH-UNKNOWN-PAYOUT"), (6, "BATCH-TOTALS")}
    assert refused.value.rule_id == "BANKFILE-REFUSED"
    assert all(ledger.payouts.get(p).status is PayoutStatus.BATCHED for p in payouts)
    assert ledger.payouts.get_batch(batch_id).results == {}


def test_an_export_is_an_audited_event_with_the_files_digest(system: System) -> None:
    ledger = system.ledger
    _place, _payouts, batch_id = _batch(ledger, f.COUNTY, count=1)

    sent = export_batch(ledger.payouts, f.finance("fin-zhao"), batch_id, file_format="xlsx")

    events = f.stored_events(ledger, batch_id)
    assert f.name_of(events[-1]) == "Exported"
    exported = events[-1]
    assert (exported.sha256, exported.file_format, exported.template) == (  # type: ignore[attr-defined]
        sent.sha256,
        "xlsx",
        "generic",
    )
    assert f.meta_of(exported).actor_id == "fin-zhao"
    system.views.catch_up()
    shown = system.views.audit.trail(batch_id, event_types=["PaymentBatch.Exported"])
    assert [entry.payload["sha256"] for entry in shown] == [sent.sha256]
    assert shown[0].region_code == f.COUNTY


def test_results_still_come_back_for_a_payee_erased_since_the_export(system: System) -> None:
    ledger = system.ledger
    _place, payouts, batch_id = _batch(ledger, f.COUNTY, count=2)
    sent = export_batch(ledger.payouts, f.finance(), batch_id, file_format="csv")
    erased = ledger.payouts.get(payouts[0]).beneficiary_id
    ledger.people.erase_identity(
        f.admin(), erased, legal_basis="个人信息保护法第四十七条", reason="the person asked"
    )

    read = read_return_file(to_csv(answered_rows(csv_rows(sent.content), {})))
    record_return_file(ledger.payouts, f.finance(), read, batch_id=batch_id)

    assert {ledger.payouts.get(p).status for p in payouts} == {PayoutStatus.PAID}
