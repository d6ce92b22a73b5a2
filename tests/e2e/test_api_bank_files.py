"""Bank files over HTTP on both stores: the payment file out, the bank's return file in."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from disburse.domain.meta import Role
from disburse.domain.payout import PayoutStatus
from tests import factories as f
from tests.bank_files_support import answered_rows, csv_rows, pain002, to_csv

if TYPE_CHECKING:
    from uuid import UUID

    from httpx2 import Response

    from tests.api_support import Api

FINANCE = Role.FINANCE
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _batch(api: Api, count: int = 3) -> tuple[list[UUID], UUID]:
    ledger = api.ledger
    place = f.county(ledger)
    payouts = f.requested_stipends(ledger, place, count)
    for payout in payouts:
        ledger.payouts.approve(f.finance(), payout)
    batch = ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=payouts)
    return payouts, batch


def _upload(
    api: Api, batch_id: UUID, data: bytes, region: str = "county", **query: str
) -> Response:
    path = f"/v1/payment-batches/{batch_id}/results-file"
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return api.client.post(
        path, content=data, headers=api.headers(FINANCE, region, **{"Content-Type": "text/csv"})
    )


def test_the_payment_file_is_served_with_its_digest_and_the_export_is_audited(api: Api) -> None:
    _payouts, batch_id = _batch(api)

    answer = api.get(f"/v1/payment-batches/{batch_id}/file?format=xlsx", FINANCE, actor="wang")

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX
    digest = hashlib.sha256(answer.content).digest()
    assert answer.headers["repr-digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert "attachment" in answer.headers["content-disposition"]
    api.views.wait_for(int(answer.headers["x-ledger-position"]), timeout=10)
    trail = api.views.audit.trail(batch_id, event_types=["PaymentBatch.Exported"])
    assert [(e.payload["sha256"], e.payload["file_format"]) for e in trail] == [
        (digest.hex(), "xlsx")
    ]
    assert trail[0].actor_id.endswith("/wang")


def test_a_pain001_file_is_served_as_xml(api: Api) -> None:
    _payouts, batch_id = _batch(api, count=1)

    answer = api.get(f"/v1/payment-batches/{batch_id}/file?format=pain.001", FINANCE)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    assert b"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03" in answer.content


def test_a_return_file_is_recorded_whole_and_the_batch_returned(api: Api) -> None:
    payouts, batch_id = _batch(api)
    sent = api.get(f"/v1/payment-batches/{batch_id}/file?format=csv", FINANCE)
    rows = answered_rows(csv_rows(sent.content), {payouts[0]: "账户冻结"})

    answer = _upload(api, batch_id, to_csv(rows))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["complete"] is True
    assert [line["outcome"] for line in body["lines"]] == ["failed", "paid", "paid"]
    assert api.ledger.payouts.get(payouts[0]).status is PayoutStatus.FAILED


def test_a_pain002_report_is_recorded(api: Api) -> None:
    payouts, batch_id = _batch(api, count=2)
    report = pain002(
        batch_id, {payouts[0]: (150_000, None), payouts[1]: (150_000, None)}, count=2, total="3000"
    )

    answer = _upload(api, batch_id, report, format="pain.002")

    assert answer.status_code == 200, answer.text
    assert {api.ledger.payouts.get(p).status for p in payouts} == {PayoutStatus.PAID}


def test_a_hostile_return_file_is_refused_naming_each_line_and_nothing_is_recorded(
    api: Api,
) -> None:
    payouts, batch_id = _batch(api)
    sent = api.get(f"/v1/payment-batches/{batch_id}/file?format=csv", FINANCE)
    rows = answered_rows(csv_rows(sent.content), {})
    rows[1][3] = "1500.001"
    rows[2][6] = "<script>"
    rows[3][5] = "0" * 32  # a reference no payout of the batch has
    rows[4][3] = "4499.99"

    answer = _upload(api, batch_id, to_csv(rows))

    assert answer.status_code == 422
    problem = answer.json()
    assert problem["rule_id"] == "BANKFILE-REFUSED"
    assert [(e["field"], e["rule_id"]) for e in problem["errors"]] == [
        ("file.line.2.金额（元）", "BANKFILE-AMOUNT"),
        ("file.line.3.处理结果", "BANKFILE-STATUS"),
        ("file.line.4", "BATCH-UNKNOWN-PAYOUT"),
        ("file.line.5", "BATCH-TOTALS"),
    ]
    assert {api.ledger.payouts.get(p).status for p in payouts} == {PayoutStatus.BATCHED}
    garbage = _upload(api, batch_id, b"\x00\xff" * 100)
    assert garbage.status_code == 422
    assert garbage.json()["errors"][0]["field"] == "file"


def test_another_countys_key_gets_region_scope_for_the_file_and_the_upload(api: Api) -> None:
    _payouts, batch_id = _batch(api)

    read = api.get(f"/v1/payment-batches/{batch_id}/file", FINANCE, region="other")
    upload = _upload(api, batch_id, b"anything", region="other")

    assert (read.status_code, read.json()["rule_id"]) == (403, "REGION-SCOPE")
    assert (upload.status_code, upload.json()["rule_id"]) == (403, "REGION-SCOPE")
    assert api.ledger.payouts.get_batch(batch_id).version == 1  # no export recorded


def test_an_unknown_format_or_template_is_a_422_naming_the_parameter(api: Api) -> None:
    _payouts, batch_id = _batch(api, count=1)

    odd = api.get(f"/v1/payment-batches/{batch_id}/file?format=pdf", FINANCE)
    nameless = api.get(f"/v1/payment-batches/{batch_id}/file?template=nobank", FINANCE)

    assert (odd.status_code, odd.json()["errors"][0]["field"]) == (422, "query.format")
    assert (nameless.status_code, nameless.json()["rule_id"]) == (422, "BANKFILE-TEMPLATE")
    assert nameless.json()["field"] == "template"
