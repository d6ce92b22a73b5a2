"""Public notices (公示) on SQLite and PostgreSQL: what they list, print and open."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook

from disburse.application.payouts import BankResult
from disburse.domain.batch import Outcome
from disburse.domain.errors import ConflictError, InvalidInputError, RuleViolationError
from disburse.domain.payout import PayoutStatus
from tests import factories as f
from tests.conftest import TODAY
from tests.notice_support import (
    CONTACT,
    MASKED,
    NAMES,
    PERIOD,
    all_fonts_embedded,
    fonts,
    named_stipends,
    pdf_text,
)

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from disburse.application.notices import Issued
    from disburse.readside.views import Views


def _issue(ledger: Ledger, views: Views, **options: object) -> Issued:
    views.catch_up()
    candidates = views.queue.awaiting_notice(region=f.COUNTY, period=PERIOD)
    return ledger.notices.issue(
        f.finance(),
        region_code=f.COUNTY,
        period=PERIOD,
        candidates=candidates,
        contact=CONTACT,
        **options,  # type: ignore[arg-type]
    )


def test_a_notice_prints_masked_names_and_the_total_in_capitals_in_an_embedded_font(
    ledger: Ledger, views: Views
) -> None:
    named_stipends(ledger)
    issued = _issue(ledger, views, days=7, title="测试县乡村公益性岗位补贴发放公示")
    notice = issued.notice

    pdf = ledger.notices.print(notice, "pdf")
    text = pdf_text(pdf)
    assert "测试县乡村公益性岗位补贴发放公示" in text
    for masked, name in zip(MASKED, NAMES, strict=True):
        assert masked in text
        assert name not in text
    assert "2202**********" in text
    assert "4500.00" in text
    assert "肆仟伍佰元整" in text
    assert "2024年3月1日" in text
    assert "2024年3月7日" in text
    assert "".join(CONTACT.split()) in "".join(text.split())  # wrapped where a line ends
    assert all_fonts_embedded(pdf), "the Chinese font travels with the PDF"
    assert [name.split("+")[-1] for name in fonts(pdf)] == ["WenQuanYiMicroHei-0"]
    assert notice.sha256["pdf"] == hashlib.sha256(pdf).hexdigest()

    xlsx = ledger.notices.print(notice, "xlsx")
    assert notice.sha256["xlsx"] == hashlib.sha256(xlsx).hexdigest()
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert {*MASKED, "4500.00", "合计金额（大写）：人民币肆仟伍佰元整"} <= {str(c) for c in cells}


def test_payout_notice_issuing_opens_the_window_an_objection_holds_and_approval_waits(
    ledger: Ledger, views: Views
) -> None:
    """PAYOUT-NOTICE: the notice opens each window; approval before its end is refused."""
    payouts = named_stipends(ledger)
    issued = _issue(ledger, views, days=7)
    assert issued.notice.count == 3
    assert issued.notice.total_fen == 450_000
    for payout_id in payouts:
        payout = ledger.payouts.get(payout_id)
        assert payout.status is PayoutStatus.ON_NOTICE
        assert payout.notice_ends_on == TODAY + timedelta(days=6)
    started = f.stored_events(ledger, payouts[0])[-1]
    assert f.name_of(started) == "NoticeStarted"
    meta = f.meta_of(started)
    assert meta.actor_id == "finance-1"
    assert meta.reason == f"public notice {issued.notice.id}"
    assert "PAYOUT-NOTICE" in meta.rule_ids

    ledger.payouts.lodge_objection(f.clerk(), payouts[0], grounds="他不在岗")
    assert ledger.payouts.get(payouts[0]).status is PayoutStatus.HELD
    with pytest.raises(RuleViolationError) as refused:
        ledger.payouts.approve(f.finance("finance-2"), payouts[1])
    assert refused.value.rule_id == "PAYOUT-NOTICE"


def test_issuing_the_same_notice_again_opens_nothing_twice(ledger: Ledger, views: Views) -> None:
    payouts = named_stipends(ledger)
    first = _issue(ledger, views, days=7)
    versions = [ledger.payouts.get(p).version for p in payouts]
    with pytest.raises(ConflictError) as again:
        _issue(ledger, views, days=7)
    assert again.value.rule_id == "NOTICE-EMPTY"
    assert [ledger.payouts.get(p).version for p in payouts] == versions
    assert ledger.notices.get(first.notice.id).count == 3


def test_payouts_on_notice_or_past_it_are_reported_not_listed(ledger: Ledger, views: Views) -> None:
    payouts = named_stipends(ledger)
    views.catch_up()
    stale = views.queue.awaiting_notice(region=f.COUNTY, period=PERIOD)  # before approval
    ledger.payouts.approve(f.finance(), payouts[0])
    issued = ledger.notices.issue(
        f.finance(), region_code=f.COUNTY, period=PERIOD, candidates=stale, contact=CONTACT, days=5
    )
    assert [line["payout_id"] for line in issued.notice.lines] == [str(p) for p in payouts[1:]]
    assert [(s.payout_id, s.status, s.rule_id) for s in issued.skipped] == [
        (payouts[0], PayoutStatus.APPROVED, "PAYOUT-STATE")
    ]
    assert ledger.payouts.get(payouts[0]).status is PayoutStatus.APPROVED


def test_without_days_the_catalogue_must_set_them(ledger: Ledger, views: Views) -> None:
    named_stipends(ledger)
    with pytest.raises(InvalidInputError) as refused:
        _issue(ledger, views)
    assert refused.value.rule_id == "NOTICE-DAYS"
    with pytest.raises(InvalidInputError) as too_long:
        _issue(ledger, views, days=61)
    assert too_long.value.rule_id == "NOTICE-DAYS"


def test_only_finance_issues_notices(ledger: Ledger, views: Views) -> None:
    payouts: list[UUID] = named_stipends(ledger)
    views.catch_up()
    with pytest.raises(RuleViolationError) as refused:
        ledger.notices.issue(
            f.clerk(), region_code=f.COUNTY, period=PERIOD, candidates=payouts, contact=CONTACT,
            days=7,
        )  # fmt: skip
    assert refused.value.rule_id == "PAYOUT-ROLE"
    assert {ledger.payouts.get(p).status for p in payouts} == {PayoutStatus.REQUESTED}


def test_markup_in_a_title_or_contact_is_printed_as_typed(ledger: Ledger, views: Views) -> None:
    named_stipends(ledger)
    title = "<b>某县</b> & 公示 <font size=40>"
    issued = _issue(ledger, views, days=7, title=title)
    text = pdf_text(ledger.notices.print(issued.notice, "pdf"))
    assert title in text


def _batch(ledger: Ledger) -> tuple[list[UUID], UUID]:
    payouts = named_stipends(ledger)
    for payout_id in payouts:
        ledger.payouts.approve(f.finance(), payout_id)
    fund_id = ledger.payouts.get(payouts[0]).fund_id
    return payouts, ledger.payouts.release_batch(f.finance(), fund_id=fund_id, payout_ids=payouts)


def test_a_batch_notice_lists_what_the_batch_pays_and_opens_no_window(ledger: Ledger) -> None:
    payouts, batch_id = _batch(ledger)
    versions = [ledger.payouts.get(p).version for p in payouts]
    issued = ledger.notices.issue_for_batch(f.finance(), batch_id, contact=CONTACT, days=10)
    notice = issued.notice
    assert issued.created
    assert notice.kind == "payment"
    assert notice.batch_id == batch_id
    assert (notice.region_code, notice.period, notice.count) == (f.COUNTY, PERIOD, 3)
    assert [ledger.payouts.get(p).version for p in payouts] == versions
    assert {ledger.payouts.get(p).status for p in payouts} == {PayoutStatus.BATCHED}
    text = pdf_text(ledger.notices.print(notice, "pdf"))
    assert "补贴发放结果公示" in text
    assert all(masked in text for masked in MASKED)
    assert "肆仟伍佰元整" in text

    again = ledger.notices.issue_for_batch(f.finance(), batch_id, contact="另一个", days=3)
    assert not again.created
    assert again.notice.id == notice.id
    assert again.notice.contact == CONTACT


def test_a_batch_notice_reports_a_failed_payout_and_refuses_other_roles(ledger: Ledger) -> None:
    payouts, batch_id = _batch(ledger)
    with pytest.raises(RuleViolationError) as refused:
        ledger.notices.issue_for_batch(f.clerk(), batch_id, contact=CONTACT, days=7)
    assert refused.value.rule_id == "PAYOUT-ROLE"
    ledger.payouts.record_results(
        f.finance(),
        batch_id,
        results=[
            BankResult(payouts[0], Outcome.PAID, bank_reference="BOC-1"),
            BankResult(payouts[1], Outcome.PAID, bank_reference="BOC-2"),
            BankResult(payouts[2], Outcome.FAILED, reason="account closed"),
        ],
        control_count=3,
        control_total_fen=450_000,
    )
    issued = ledger.notices.issue_for_batch(f.finance(), batch_id, contact=CONTACT, days=7)
    assert [line["payout_id"] for line in issued.notice.lines] == [str(p) for p in payouts[:2]]
    assert [(s.payout_id, s.rule_id) for s in issued.skipped] == [(payouts[2], "PAYOUT-STATE")]


def test_a_payout_to_an_erased_person_is_reported_not_named(ledger: Ledger, views: Views) -> None:
    payouts = named_stipends(ledger)
    person = ledger.payouts.get(payouts[0]).beneficiary_id
    ledger.people.erase_identity(f.admin(), person, legal_basis="PIPL art. 47", reason="asked")
    issued = _issue(ledger, views, days=7)
    assert issued.notice.count == 2
    assert [(s.payout_id, s.rule_id) for s in issued.skipped] == [(payouts[0], "PERSON-ERASED")]
    assert ledger.payouts.get(payouts[0]).status is PayoutStatus.REQUESTED
