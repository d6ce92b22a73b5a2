"""Bank files in memory: the pain.001 against the official XSD, amounts, templates, readers."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import xmlschema
from hypothesis import given
from hypothesis import strategies as st

from disburse.bankfiles.amounts import fen_of, yuan
from disburse.bankfiles.service import export_batch, read_return_file
from disburse.bankfiles.template import load_template, template_names
from disburse.domain.batch import PaymentBatch
from disburse.domain.errors import InvalidInputError, RuleViolationError
from disburse.domain.meta import Role
from tests import factories as f
from tests.bank_files_support import answered_rows, csv_rows, pain002, to_csv

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger

XSD = Path(__file__).parents[1] / "data" / "iso20022" / "pain.001.001.03.xsd"


def _batch(ledger: Ledger, count: int = 3) -> uuid.UUID:
    place = f.county(ledger)
    payouts = f.requested_stipends(ledger, place, count)
    for payout in payouts:
        ledger.payouts.approve(f.finance(), payout)
    return ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=payouts)


def test_an_exported_pain001_is_valid_against_the_official_iso20022_schema(
    memory_ledger: Ledger,
) -> None:
    batch_id = _batch(memory_ledger)

    sent = export_batch(memory_ledger.payouts, f.finance(), batch_id, file_format="pain.001")

    schema = xmlschema.XMLSchema(XSD)
    schema.validate(sent.content.decode())
    document = schema.to_dict(sent.content.decode())
    assert isinstance(document, dict)
    header = document["CstmrCdtTrfInitn"]["GrpHdr"]
    assert (header["NbOfTxs"], header["CtrlSum"]) == ("3", Decimal("4500.00"))
    assert header["MsgId"] == batch_id.hex
    transfers = document["CstmrCdtTrfInitn"]["PmtInf"][0]["CdtTrfTxInf"]
    assert [t["Amt"]["InstdAmt"]["$"] for t in transfers] == [Decimal("1500.00")] * 3


def test_a_csv_payment_file_follows_the_default_template_with_a_totals_row(
    memory_ledger: Ledger,
) -> None:
    batch_id = _batch(memory_ledger, count=2)

    sent = export_batch(memory_ledger.payouts, f.finance(), batch_id, file_format="csv")

    rows = csv_rows(sent.content)
    assert rows[0] == ["序号", "收款人账号", "收款人户名", "金额（元）", "摘要", "业务参考号"]
    assert [r[3] for r in rows[1:]] == ["1500.00", "1500.00", "3000.00"]
    assert rows[-1][:2] == ["合计", "2"]
    batch = memory_ledger.payouts.get_batch(batch_id)
    assert {r[5] for r in rows[1:-1]} == {uuid.UUID(k).hex for k in batch.lines}


@given(st.integers(min_value=0, max_value=10**15))
def test_yuan_text_reads_back_to_the_same_fen(amount_fen: int) -> None:
    assert fen_of(yuan(amount_fen)) == amount_fen


@pytest.mark.parametrize(
    ("cell", "fen"),
    [("1500", 150_000), ("1500.5", 150_050), (" 0.07 ", 7), (1500.25, 150_025), (12, 1200)],
)
def test_amounts_in_yuan_are_read_without_floats(cell: object, fen: int) -> None:
    assert fen_of(cell) == fen


@pytest.mark.parametrize(
    "cell", ["1500.001", "-5.00", "1,500.00", "1e3", "", None, True, float("nan"), "１５"]
)
def test_amounts_with_more_than_two_decimals_or_not_plain_yuan_are_refused(cell: object) -> None:
    with pytest.raises(ValueError, match=r"decimals|amount|yuan"):
        fen_of(cell)


def test_every_shipped_template_loads_and_an_unknown_one_is_refused() -> None:
    assert "generic" in template_names()
    for name in template_names():
        assert load_template(name).name == name
    with pytest.raises(InvalidInputError) as refused:
        load_template("../../etc/passwd")
    assert refused.value.rule_id == "BANKFILE-TEMPLATE"


def test_a_return_file_lists_every_bad_line_with_its_number_and_rule(
    memory_ledger: Ledger,
) -> None:
    batch_id = _batch(memory_ledger)
    sent = export_batch(memory_ledger.payouts, f.finance(), batch_id, file_format="csv")
    rows = answered_rows(csv_rows(sent.content), {})
    rows[1][3] = "1500.005"
    rows[2][6] = "也许"
    rows[3][5] = "not-a-reference"

    read = read_return_file(to_csv(rows))

    assert [(p.line, p.rule_id, p.column) for p in read.problems] == [
        (2, "BANKFILE-AMOUNT", "金额（元）"),
        (3, "BANKFILE-STATUS", "处理结果"),
        (4, "BANKFILE-REFERENCE", "业务参考号"),
    ]
    assert read.problems[0].where == "file.line.2.金额（元）"


def test_a_failed_line_without_a_reason_is_refused(memory_ledger: Ledger) -> None:
    batch_id = _batch(memory_ledger, count=1)
    sent = export_batch(memory_ledger.payouts, f.finance(), batch_id, file_format="csv")
    payout_id = next(iter(memory_ledger.payouts.get_batch(batch_id).lines))
    rows = answered_rows(csv_rows(sent.content), {uuid.UUID(payout_id): ""})

    read = read_return_file(to_csv(rows))

    assert [(p.line, p.rule_id) for p in read.problems] == [(2, "BANKFILE-REASON")]


def test_xml_with_a_document_type_declaration_is_refused_unread() -> None:
    hostile = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document>&a;</Document>'

    read = read_return_file(hostile)

    assert [p.rule_id for p in read.problems] == ["BANKFILE-FORMAT"]


def test_a_pain002_line_that_is_not_final_is_refused_at_its_line() -> None:
    payout_id = uuid.uuid4()
    report = pain002(uuid.uuid4(), {payout_id: (100, None)}, count=1, total="1.00")
    report = report.replace(b"ACSC", b"ACSP")

    read = read_return_file(report)

    assert [(p.line, p.rule_id) for p in read.problems] == [(6, "BANKFILE-STATUS")]


def test_only_finance_may_export_and_the_digest_must_be_sha256() -> None:
    batch = PaymentBatch.release(
        fund_id=uuid.uuid4(), lines={uuid.uuid4(): 100}, meta=f.meta("fin", Role.FINANCE)
    )
    with pytest.raises(RuleViolationError) as clerk:
        batch.record_export(
            file_format="csv", template="generic", sha256="0" * 64, meta=f.meta("clerk-1")
        )
    assert clerk.value.rule_id == "PAYOUT-ROLE"
    with pytest.raises(InvalidInputError) as short:
        batch.record_export(
            file_format="csv", template="generic", sha256="abc", meta=f.meta("fin", Role.FINANCE)
        )
    assert short.value.rule_id == "BANKFILE-DIGEST"
    batch.record_export(
        file_format="pain.001",
        template="generic",
        sha256="a" * 64,
        meta=f.meta("fin", Role.FINANCE),
    )
    assert f.names_of(batch.collect_events())[-1] == "Exported"


def test_a_return_file_in_gb18030_as_many_banks_send_is_read(memory_ledger: Ledger) -> None:
    batch_id = _batch(memory_ledger, count=2)
    sent = export_batch(memory_ledger.payouts, f.finance(), batch_id, file_format="csv")
    rows = answered_rows(csv_rows(sent.content), {})
    text = to_csv(rows).decode("utf-8-sig")

    read = read_return_file(text.encode("gb18030"))

    assert read.problems == []
    assert (read.count, read.total_fen, len(read.lines)) == (2, 300_000, 2)


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04 not a workbook", b"\xff\xfe\x00\x00\x81", b"<Document><unclosed></Document>"],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(data: bytes) -> None:
    read = read_return_file(data)

    assert [(p.line, p.rule_id) for p in read.problems] == [(0, "BANKFILE-FORMAT")]
