"""Public notices over HTTP, on SQLite and PostgreSQL: issue, read, fetch the files, object."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from disburse.domain.meta import Role
from tests import factories as f
from tests.conftest import TODAY
from tests.e2e.test_api_lifecycle import expect, refused
from tests.notice_support import (
    CONTACT,
    MASKED,
    NAMES,
    PERIOD,
    all_fonts_embedded,
    named_stipends,
    pdf_text,
)

if TYPE_CHECKING:
    from uuid import UUID

    from tests.api_support import Api

FINANCE, CLERK, INSPECTOR, CLAIMANT = Role.FINANCE, Role.CLERK, Role.INSPECTOR, Role.CLAIMANT


def _body(**fields: Any) -> dict[str, Any]:
    return {"region_code": f.COUNTY, "period": PERIOD, "days": 7, "contact": CONTACT} | fields


def _issued(api: Api) -> tuple[list[UUID], dict[str, Any]]:
    payouts = named_stipends(api.ledger)
    body = _body(title="测试县乡村公益性岗位补贴发放公示")
    return payouts, expect(api.post("/v1/notices", FINANCE, body, actor="fin-a"), 201)


def test_a_notice_is_issued_read_and_fetched_as_pdf_and_xlsx_as_recorded(api: Api) -> None:
    payouts, notice = _issued(api)
    assert notice["count"] == 3
    assert notice["total_fen"] == 450_000
    assert notice["total_capitals"] == "肆仟伍佰元整"
    assert notice["starts_on"] == TODAY.isoformat()
    assert notice["ends_on"] == (TODAY + timedelta(days=6)).isoformat()
    assert [line["name"] for line in notice["lines"]] == list(MASKED)
    assert all("**********" in line["resident_id_masked"] for line in notice["lines"])
    assert notice["issued_by"].endswith("fin-a")

    path = f"/v1/notices/{notice['notice_id']}"
    for role in (CLERK, FINANCE, INSPECTOR):  # a public document: the same for every reader
        read = expect(api.get(path, role), 200)
        assert read["lines"] == notice["lines"]
        assert read["sha256"] == notice["sha256"]
    pdf = api.get(f"{path}?format=pdf", INSPECTOR)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    digest = hashlib.sha256(pdf.content).hexdigest()
    assert digest == notice["sha256"]["pdf"] == pdf.headers["X-Notice-SHA256"]
    text = pdf_text(pdf.content)
    assert all(masked in text for masked in MASKED)
    assert not any(name in text for name in NAMES)
    assert "肆仟伍佰元整" in text
    assert all_fonts_embedded(pdf.content)
    xlsx = api.get(f"{path}?format=xlsx", FINANCE)
    assert xlsx.status_code == 200
    assert hashlib.sha256(xlsx.content).hexdigest() == notice["sha256"]["xlsx"]

    for payout_id in payouts:
        payout = expect(api.get(f"/v1/payouts/{payout_id}", FINANCE), 200)
        assert payout["status"] == "on_notice"
        assert payout["notice_ends_on"] == notice["ends_on"]


def test_an_objection_during_the_notice_holds_the_payout_and_approval_waits(api: Api) -> None:
    """PAYOUT-NOTICE: objections through the payout's own path; approval after the window."""
    payouts, _ = _issued(api)
    objection = api.post(
        f"/v1/payouts/{payouts[0]}/objections", CLERK, {"grounds": "本人已外出务工，未在岗"}
    )
    expect(objection, 201 if objection.status_code == 201 else 200)
    assert expect(api.get(f"/v1/payouts/{payouts[0]}", FINANCE), 200)["status"] == "held"
    refused(api.post(f"/v1/payouts/{payouts[1]}/approve", FINANCE), 422, "PAYOUT-NOTICE")


def test_issuing_again_is_a_conflict_and_opens_nothing_twice(api: Api) -> None:
    payouts, _ = _issued(api)
    versions = [api.ledger.payouts.get(p).version for p in payouts]
    refused(api.post("/v1/notices", FINANCE, _body()), 409, "NOTICE-EMPTY")
    assert [api.ledger.payouts.get(p).version for p in payouts] == versions


def test_a_retry_with_the_same_idempotency_key_answers_the_same_notice(api: Api) -> None:
    named_stipends(api.ledger)
    key = {"Idempotency-Key": "notice-2024-01"}
    first = expect(api.post("/v1/notices", FINANCE, _body(), **key), 201)
    again = api.post("/v1/notices", FINANCE, _body(), **key)
    assert expect(again, 201)["notice_id"] == first["notice_id"]
    assert again.headers["Idempotent-Replayed"] == "true"


def test_another_countys_key_and_other_roles_are_refused(api: Api) -> None:
    _, notice = _issued(api)
    path = f"/v1/notices/{notice['notice_id']}"
    refused(api.post("/v1/notices", FINANCE, _body(), region="other"), 403, "REGION-SCOPE")
    refused(api.get(path, FINANCE, region="other"), 403, "REGION-SCOPE")
    refused(api.get(f"{path}?format=pdf", INSPECTOR, region="other"), 403, "REGION-SCOPE")
    refused(api.post("/v1/notices", CLERK, _body()), 403, "ROLE-FORBIDDEN")
    refused(api.get(path, CLAIMANT), 403, "ROLE-FORBIDDEN")
    expect(api.get(path, FINANCE, region="city"), 200)


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"period": "2024-13"}, "period", "REQUEST-SCHEMA"),
        ({"period": "2024-01'; DROP TABLE x;--"}, "period", "REQUEST-SCHEMA"),
        ({"region_code": "22022"}, "region_code", "REQUEST-SCHEMA"),
        ({"days": 0}, "days", "REQUEST-SCHEMA"),
        ({"days": 61}, "days", "REQUEST-SCHEMA"),
        ({"days": "7"}, "days", "REQUEST-SCHEMA"),
        ({"extra": 1}, "extra", "REQUEST-SCHEMA"),
        ({"contact": "电话\x00123"}, "contact", "TEXT-INVALID"),
        ({"title": "公示\x1b[2J"}, "title", "TEXT-INVALID"),
        ({"title": "x" * 201}, "title", "TEXT-INVALID"),
    ],
)
def test_hostile_input_is_refused_naming_the_field(
    api: Api, fields: dict[str, Any], field: str, rule: str
) -> None:
    problem = refused(api.post("/v1/notices", FINANCE, _body(**fields)), 422, rule)
    assert field in problem["field"]


def test_a_notice_without_days_or_contact_says_which(api: Api) -> None:
    named_stipends(api.ledger)
    body = _body()
    del body["days"]
    problem = refused(api.post("/v1/notices", FINANCE, body), 422, "NOTICE-DAYS")
    assert problem["field"] == "days"
    body = _body()
    del body["contact"]
    problem = refused(api.post("/v1/notices", FINANCE, body), 422, "NOTICE-CONTACT")
    assert problem["field"] == "contact"


def test_an_unknown_notice_or_format_is_refused(api: Api) -> None:
    _, notice = _issued(api)
    a_payout = notice["lines"][0]["payout_id"]  # an id, but no notice's
    refused(api.get(f"/v1/notices/{a_payout}", FINANCE), 404, "NOTICE-NOT-FOUND")
    docx = api.get(f"/v1/notices/{notice['notice_id']}?format=docx", FINANCE)
    problem = refused(docx, 422, "REQUEST-SCHEMA")
    assert "format" in problem["field"]


def test_a_batch_notice_is_issued_once_and_fetched_as_posted(api: Api) -> None:
    payouts = named_stipends(api.ledger)
    for payout_id in payouts:
        api.ledger.payouts.approve(f.finance(), payout_id)
    fund_id = api.ledger.payouts.get(payouts[0]).fund_id
    batch = api.ledger.payouts.release_batch(f.finance(), fund_id=fund_id, payout_ids=payouts)
    path = f"/v1/payment-batches/{batch}/notices"
    body = {"days": 7, "contact": CONTACT}

    refused(api.post(path, FINANCE, body, region="other"), 403, "REGION-SCOPE")
    refused(api.post(path, CLERK, body), 403, "ROLE-FORBIDDEN")
    refused(api.post(path, FINANCE, {"days": 7}), 422, "NOTICE-CONTACT")
    refused(api.post(path, FINANCE, {"days": 7, "contact": "x\x07"}), 422, "TEXT-INVALID")
    refused(api.post(f"/v1/payment-batches/{payouts[0]}/notices", FINANCE, body), 404,
            "BATCH-NOT-FOUND")  # fmt: skip

    refused(api.post(path, FINANCE, body, **{"If-Match": '"99"'}), 412, "IF-MATCH")
    created = api.post(path, FINANCE, body, **{"If-Match": '"1"'})
    notice = expect(created, 201)
    assert (notice["kind"], notice["batch_id"], notice["count"]) == ("payment", str(batch), 3)
    assert created.headers["Location"] == f"/v1/notices/{notice['notice_id']}"
    assert expect(api.post(path, FINANCE, body | {"days": 3}), 200) == notice
    pdf = api.get(f"/v1/notices/{notice['notice_id']}?format=pdf", INSPECTOR)
    assert hashlib.sha256(pdf.content).hexdigest() == notice["sha256"]["pdf"]
    assert "补贴发放结果公示" in pdf_text(pdf.content)
    for payout_id in payouts:
        assert expect(api.get(f"/v1/payouts/{payout_id}", FINANCE), 200)["status"] == "batched"
