"""The life of money through the HTTP API, step by step, each step by the role that takes it.

Every test drives the real app over a real store (SQLite and PostgreSQL) with the API keys
of clerks, finance officers, inspectors, claimant systems and administrators, and checks
what each role then reads: the payout queue, funds, balances, alerts and the audit trail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from disburse.domain.meta import Role
from tests import factories as f

if TYPE_CHECKING:
    from httpx2 import Response

    from disburse.domain.rules import PolicyDocument
    from tests.api_support import Api

STIPEND = 150_000  # 1500.00 yuan a month
JILIN_GRANTS = {
    "amount_fen": 50_000,
    "tiers": [{"provinces": ["21", "15", "23"], "amount_fen": 30_000}],
    "min_months_away": 3,
}
BROKER_AMOUNT = {"SVC-BROKER": {"amount": {"kind": "fixed", "amount_fen": 20_000}}}


# -- helpers shared with test_api_commands ------------------------------------------------------


def expect(response: Response, status: int) -> dict[str, Any]:
    """The JSON body of a response that must have ``status``."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body: dict[str, Any] = response.json()
    return body


def refused(response: Response, status: int, rule_id: str) -> dict[str, Any]:
    """The problem body of a response refused with ``status`` under ``rule_id``."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["rule_id"] == rule_id, body
    assert body["status"] == status
    return body


def head(api: Api) -> int:
    """The position of the last event in the store."""
    return api.ledger.store.recorder.max_notification_id() or 0


def person_body(rid: str | None = None, *, account: str | None = None) -> dict[str, Any]:
    """A lifted, weak-labour resident of the test county, in their own household."""
    rid = rid or f.resident_id()
    return {
        "resident_id": rid,
        "name": "王五",
        "home_region": f.COUNTY,
        "poverty_status": "lifted",
        "labour_capacity": "weak",
        "household_id": f"H-{rid[-6:]}",
        "bank_account": account or f"62220202{rid[-8:-1]}0",
    }


def publish(api: Api, document: PolicyDocument, reason: str = "吉林市补贴标准") -> None:
    """The city's administrator publishes a catalogue version for the city."""
    published = api.post(
        "/v1/policy/versions",
        Role.ADMIN,
        {"document": document.model_dump(mode="json"), "reason": reason},
        region="city",
    )
    assert expect(published, 201) == {"version": document.version}


@dataclass
class Stipend:
    """A staffed, insured post in a village, and what its attendance requested."""

    fund_id: str
    post_id: str
    person_id: str
    payout_id: str
    requested: Response  # the attendance response that requested the payout


class County:
    """The test county, driven through the API by the role that takes each step."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.village_id: str | None = None
        self.created: dict[str, Response] = {}  # the response that created each resource

    def open_fund(
        self, source: str = "employment_subsidy", amount_fen: int = 100_000_000, year: int = 2024
    ) -> str:
        """Finance opens a fund of the county for 2024."""
        opened = self.api.post(
            "/v1/funds",
            Role.FINANCE,
            {
                "source": source,
                "region_code": f.COUNTY,
                "year": year,
                "amount_fen": amount_fen,
                "reason": "吉财社〔2024〕1号",
            },
        )
        body = expect(opened, 201)
        assert body["allocated_fen"] == amount_fen
        assert opened.headers["Location"] == f"/v1/funds/{body['fund_id']}"
        fund_id: str = body["fund_id"]
        self.created[fund_id] = opened
        return fund_id

    def village(self) -> str:
        """The clerk registers a village (once)."""
        if self.village_id is None:
            site = self.api.post(
                "/v1/sites",
                Role.CLERK,
                {"region_code": f.COUNTY, "kind": "village", "name": "东风村", "population": 1200},
            )
            self.village_id = str(expect(site, 201)["id"])
        return self.village_id

    def person(self, *, account: str | None = None, rid: str | None = None) -> str:
        """The clerk registers a person."""
        created = self.api.post("/v1/people", Role.CLERK, person_body(rid, account=account))
        person_id: str = expect(created, 201)["id"]
        return person_id

    def organisation(self, kind: str = "broker", name: str = "某人力资源公司") -> str:
        """The clerk registers an organisation of the county."""
        created = self.api.post(
            "/v1/organisations",
            Role.CLERK,
            {
                "credit_code": f.credit_code(),
                "kind": kind,
                "name": name,
                "region_code": f.COUNTY,
                "bank_account": "6228480012345678",
            },
        )
        organisation_id: str = expect(created, 201)["id"]
        return organisation_id

    def staffed_post(self, fund_id: str, person_id: str | None = None) -> tuple[str, str]:
        """The clerk sets up a post, appoints a person for 2024 and records their insurance."""
        post = self.api.post(
            "/v1/posts",
            Role.CLERK,
            {
                "site_id": self.village(),
                "title": "保洁员",
                "stipend_fen": STIPEND,
                "fund_id": fund_id,
                "part_time": False,
            },
        )
        post_id: str = expect(post, 201)["id"]
        person_id = person_id or self.person()
        appointed = self.api.post(
            f"/v1/posts/{post_id}/appointments",
            Role.CLERK,
            {"person_id": person_id, "term_start": "2024-01-01", "term_end": "2024-12-31"},
        )
        assert expect(appointed, 200) == {"id": post_id, "recorded": True}
        insured = self.api.post(
            f"/v1/posts/{post_id}/insurance",
            Role.CLERK,
            {
                "kind": "accident",
                "policy_number": "PICC-2024-001",
                "insurer": "PICC",
                "valid_from": "2024-01-01",
                "valid_to": "2024-12-31",
            },
        )
        assert expect(insured, 200) == {"id": post_id, "recorded": True}
        return post_id, person_id

    def attendance(self, post_id: str, month: str = "2024-01") -> Response:
        """The clerk records a full month's attendance, which requests the stipend."""
        return self.api.post(
            f"/v1/posts/{post_id}/attendance",
            Role.CLERK,
            {"month": month, "days_worked": 22, "days_required": 22},
        )

    def stipend(self, fund_id: str, month: str = "2024-01") -> Stipend:
        """A new staffed post and the stipend its month's attendance requested."""
        post_id, person_id = self.staffed_post(fund_id)
        requested = self.attendance(post_id, month)
        body = expect(requested, 200)
        assert (body["post_id"], body["month"]) == (post_id, month)
        assert body["payout_id"] is not None
        return Stipend(fund_id, post_id, person_id, body["payout_id"], requested)

    def approve(self, payout_id: str, actor: str | None = None, **headers: str) -> Response:
        """A finance officer approves a payout."""
        return self.api.post(
            f"/v1/payouts/{payout_id}/approve", Role.FINANCE, actor=actor, **headers
        )

    def release(self, fund_id: str, *payout_ids: str) -> Response:
        """Finance sends approved payouts to the bank."""
        return self.api.post(
            "/v1/payment-batches",
            Role.FINANCE,
            {"fund_id": fund_id, "payout_ids": list(payout_ids)},
        )

    def results(self, batch_id: str, total_fen: int, *lines: dict[str, Any]) -> Response:
        """Finance records the bank's result file of a batch."""
        return self.api.post(
            f"/v1/payment-batches/{batch_id}/results",
            Role.FINANCE,
            {"control_count": len(lines), "control_total_fen": total_fen, "results": list(lines)},
        )

    def pay(
        self, fund_id: str, payout_id: str, amount_fen: int, reference: str
    ) -> tuple[Response, Response]:
        """Finance releases one approved payout and records the bank paid it."""
        released = self.release(fund_id, payout_id)
        paid = self.results(
            expect(released, 201)["batch_id"],
            amount_fen,
            {"payout_id": payout_id, "outcome": "paid", "bank_reference": reference},
        )
        return released, paid

    def payout(self, payout_id: str, role: Role = Role.FINANCE) -> dict[str, Any]:
        """The payout as a role reads it."""
        return expect(self.api.get(f"/v1/payouts/{payout_id}", role), 200)

    def fund(self, fund_id: str) -> dict[str, Any]:
        """The fund as finance reads it (from its events)."""
        return expect(self.api.get(f"/v1/funds/{fund_id}", Role.FINANCE), 200)


def own_trail(api: Api, entity_id: str, position: int) -> list[tuple[str, str, str, str]]:
    """(event type, actor, role, request id) of the entity's own events, as an inspector reads."""
    trail = expect(
        api.get(
            f"/v1/audit/trail/{entity_id}", Role.INSPECTOR, **{"X-Min-Position": str(position)}
        ),
        200,
    )
    return [
        (e["event_type"], e["actor_id"], e["role"], e["request_id"])
        for e in trail["items"]
        if e["entity_id"] == entity_id
    ]


def step(event_type: str, actor: str, role: str, response: Response) -> tuple[str, str, str, str]:
    """An expected trail entry: caused by the request that got ``response``."""
    return (event_type, actor, role, response.headers["X-Request-Id"])


# -- 1. a stipend ------------------------------------------------------------------------------


def test_a_stipend_lives_from_attendance_to_payment_through_the_roles_that_act(
    api: Api,
) -> None:
    """Clerk requests, two finance officers approve, finance pays; every step is audited."""
    county = County(api)
    publish(api, f.regional_policy(payouts={"second_approval_above_fen": 100_000}))
    fund_id = county.open_fund()
    jan = county.stipend(fund_id)

    api.catch_up()
    queue = expect(api.get(f"/v1/payouts?fund_id={fund_id}", Role.FINANCE), 200)
    assert queue["total"] == 1
    [queued] = queue["items"]
    assert (queued["payout_id"], queued["status"], queued["amount_fen"]) == (
        jan.payout_id,
        "requested",
        STIPEND,
    )
    assert (queued["kind"], queued["programme"], queued["period"]) == (
        "stipend",
        "POST-STIPEND",
        "2024-01",
    )
    assert queued["explanation"]["inputs"]["days_worked"] == 22
    assert queued["evidence"] is not None

    # Above 1000.00 yuan, two different finance officers approve; the clerk cannot.
    refused(api.post(f"/v1/payouts/{jan.payout_id}/approve", Role.CLERK), 403, "ROLE-FORBIDDEN")
    first = county.approve(jan.payout_id, "alice")
    assert expect(first, 200) == {
        "payout_id": jan.payout_id,
        "status": "first_approved",
        "objection_id": None,
    }
    assert county.fund(fund_id)["committed_fen"] == 0
    refused(county.approve(jan.payout_id, "alice"), 422, "PAYOUT-SOD")
    final = county.approve(jan.payout_id, "bob")
    assert expect(final, 200)["status"] == "approved"
    assert county.payout(jan.payout_id)["approvers"] == [
        "finance-county/alice",
        "finance-county/bob",
    ]
    assert county.fund(fund_id)["committed_fen"] == STIPEND

    released = county.release(fund_id, jan.payout_id)
    batch = expect(released, 201)
    assert released.headers["Location"] == f"/v1/payment-batches/{batch['batch_id']}"
    assert (batch["count"], batch["total_fen"], batch["complete"]) == (1, STIPEND, False)
    assert county.payout(jan.payout_id)["status"] == "batched"
    refused(
        county.results(
            batch["batch_id"],
            STIPEND + 1,
            {"payout_id": jan.payout_id, "outcome": "paid", "bank_reference": "BOC-1"},
        ),
        422,
        "BATCH-TOTALS",
    )
    paid = county.results(
        batch["batch_id"],
        STIPEND,
        {"payout_id": jan.payout_id, "outcome": "paid", "bank_reference": "BOC-1"},
    )
    reconciled = expect(paid, 200)
    assert reconciled["complete"] is True
    assert reconciled["lines"] == [
        {"payout_id": jan.payout_id, "amount_fen": STIPEND, "outcome": "paid"}
    ]
    as_inspector = expect(api.get(f"/v1/payment-batches/{batch['batch_id']}", Role.INSPECTOR), 200)
    assert as_inspector == reconciled
    payout = county.payout(jan.payout_id)
    assert (payout["status"], payout["bank_reference"], payout["batch_id"]) == (
        "paid",
        "BOC-1",
        batch["batch_id"],
    )

    fund = county.fund(fund_id)
    assert (fund["committed_fen"], fund["paid_fen"], fund["available_fen"]) == (
        0,
        STIPEND,
        100_000_000 - STIPEND,
    )
    position = paid.headers["X-Ledger-Position"]
    balance = expect(
        api.get(f"/v1/balances/funds/{fund_id}", Role.FINANCE, **{"X-Min-Position": position}),
        200,
    )
    assert balance["totals"] == {
        "allocated_fen": 100_000_000,
        "available_fen": 100_000_000 - STIPEND,
        "committed_fen": 0,
        "paid_fen": STIPEND,
        "recovered_fen": 0,
        "recovery_outstanding_fen": 0,
    }
    receipts = expect(
        api.get(
            f"/v1/balances/people/{jan.person_id}", Role.FINANCE, **{"X-Min-Position": position}
        ),
        200,
    )
    assert receipts == {
        "person_id": jan.person_id,
        "receipts": [
            {
                "programme": "POST-STIPEND",
                "year": "2024",
                "paid_fen": STIPEND,
                "recovered_fen": 0,
                "net_fen": STIPEND,
            }
        ],
    }

    assert own_trail(api, jan.payout_id, int(position)) == [
        step("Payout.Requested", "clerk-county", "clerk", jan.requested),
        step("Payout.Approved", "finance-county/alice", "finance", first),
        step("Payout.Approved", "finance-county/bob", "finance", final),
        step("Payout.Batched", "finance-county", "finance", released),
        step("Payout.Paid", "finance-county", "finance", paid),
    ]
    assert own_trail(api, fund_id, int(position)) == [
        step("Fund.Allocated", "finance-county", "finance", county.created[fund_id]),
        step("Fund.Committed", "finance-county/bob", "finance", final),
        step("Fund.Paid", "finance-county", "finance", paid),
    ]


def test_a_failed_payment_is_reissued_and_an_improper_one_recovered(api: Api) -> None:
    """The bank fails one stipend, it is re-issued to the new own account; another is recovered."""
    county = County(api)
    fund_id = county.open_fund()
    jan = county.stipend(fund_id)
    feb_requested = county.attendance(jan.post_id, "2024-02")
    feb = expect(feb_requested, 200)["payout_id"]
    approvals = [county.approve(payout_id) for payout_id in (jan.payout_id, feb)]
    assert [expect(a, 200)["status"] for a in approvals] == ["approved", "approved"]
    released = county.release(fund_id, jan.payout_id, feb)
    batch_id = expect(released, 201)["batch_id"]
    results = county.results(
        batch_id,
        2 * STIPEND,
        {"payout_id": jan.payout_id, "outcome": "paid", "bank_reference": "BOC-1"},
        {"payout_id": feb, "outcome": "failed", "reason": "account closed"},
    )
    assert [line["outcome"] for line in expect(results, 200)["lines"]] == ["paid", "failed"]
    failed = county.payout(feb)
    assert (failed["status"], failed["failure"]) == ("failed", "account closed")
    fund = county.fund(fund_id)
    assert (fund["committed_fen"], fund["paid_fen"]) == (STIPEND, STIPEND)

    new_account = "6217000011112222"
    reissue = {"account": new_account, "reason": "card replaced"}
    refused(api.post(f"/v1/payouts/{feb}/reissue", Role.FINANCE, reissue), 422, "PAY-ONE-CARD")
    moved = api.post(
        f"/v1/people/{jan.person_id}/facts",
        Role.CLERK,
        {"fact": {"kind": "bank_account", "bank_account": new_account, "reason": "card replaced"}},
    )
    assert expect(moved, 200) == {"person_id": jan.person_id, "kind": "bank_account"}
    reissued = api.post(f"/v1/payouts/{feb}/reissue", Role.FINANCE, reissue)
    assert expect(reissued, 200)["status"] == "approved"
    rereleased, repaid = county.pay(fund_id, feb, STIPEND, "BOC-2")
    assert expect(repaid, 200)["complete"] is True
    assert county.payout(feb)["status"] == "paid"

    ordered = api.post(
        f"/v1/payouts/{jan.payout_id}/recoveries",
        Role.FINANCE,
        {"amount_fen": 50_000, "case_reference": "CASE-1", "reason": "worked 15 days, not 22"},
    )
    assert expect(ordered, 201) == {
        "payout_id": jan.payout_id,
        "status": None,
        "objection_id": None,
    }
    refused(
        api.post(
            f"/v1/payouts/{jan.payout_id}/recoveries/receipts",
            Role.FINANCE,
            {"amount_fen": 50_001, "received_on": "2024-03-01"},
        ),
        422,
        "RECOVERY",
    )
    received = api.post(
        f"/v1/payouts/{jan.payout_id}/recoveries/receipts",
        Role.FINANCE,
        {"amount_fen": 50_000, "received_on": "2024-03-01"},
    )
    expect(received, 201)
    recovered = county.payout(jan.payout_id)
    assert (
        recovered["status"],
        recovered["recovery_ordered_fen"],
        recovered["recovered_fen"],
    ) == ("recovered", 50_000, 50_000)

    fund = county.fund(fund_id)
    assert (
        fund["committed_fen"],
        fund["paid_fen"],
        fund["recovered_fen"],
        fund["available_fen"],
    ) == (0, 2 * STIPEND, 50_000, 100_000_000 - 2 * STIPEND + 50_000)
    position = received.headers["X-Ledger-Position"]
    balance = expect(
        api.get(f"/v1/balances/funds/{fund_id}", Role.INSPECTOR, **{"X-Min-Position": position}),
        200,
    )
    assert balance["totals"] == {
        "allocated_fen": 100_000_000,
        "available_fen": 100_000_000 - 2 * STIPEND + 50_000,
        "committed_fen": 0,
        "paid_fen": 2 * STIPEND,
        "recovered_fen": 50_000,
        "recovery_outstanding_fen": 0,
    }
    receipts = expect(
        api.get(f"/v1/balances/people/{jan.person_id}", Role.CLERK, **{"X-Min-Position": position}),
        200,
    )
    assert receipts["receipts"] == [
        {
            "programme": "POST-STIPEND",
            "year": "2024",
            "paid_fen": 2 * STIPEND,
            "recovered_fen": 50_000,
            "net_fen": 2 * STIPEND - 50_000,
        }
    ]
    assert own_trail(api, feb, int(position)) == [
        step("Payout.Requested", "clerk-county", "clerk", feb_requested),
        step("Payout.Approved", "finance-county", "finance", approvals[1]),
        step("Payout.Batched", "finance-county", "finance", released),
        step("Payout.Failed", "finance-county", "finance", results),
        step("Payout.Reissued", "finance-county", "finance", reissued),
        step("Payout.Batched", "finance-county", "finance", rereleased),
        step("Payout.Paid", "finance-county", "finance", repaid),
    ]
    assert own_trail(api, jan.payout_id, int(position))[-2:] == [
        step("Payout.RecoveryOrdered", "finance-county", "finance", ordered),
        step("Payout.Recovered", "finance-county", "finance", received),
    ]


def test_a_stipend_on_public_notice_is_held_by_an_objection_and_rejected_when_upheld(
    api: Api,
) -> None:
    """Seven days of notice: no approval meanwhile; objections hold it until finance decides."""
    county = County(api)
    publish(api, f.regional_policy(payouts={"notice_days": 7}))
    fund_id = county.open_fund()
    jan = county.stipend(fund_id)
    payout = county.payout(jan.payout_id)
    assert (payout["status"], payout["notice_ends_on"]) == ("on_notice", "2024-03-07")
    refused(county.approve(jan.payout_id), 422, "PAYOUT-NOTICE")

    objections = f"/v1/payouts/{jan.payout_id}/objections"
    refused(api.post(objections, Role.FINANCE, {"grounds": "x"}), 403, "ROLE-FORBIDDEN")
    refused(api.post(objections, Role.CLERK, {"grounds": "  "}), 422, "PAYOUT-OBJECTION")
    lodged = expect(api.post(objections, Role.CLERK, {"grounds": "did not work in January"}), 201)
    assert lodged["status"] == "held"
    first = lodged["objection_id"]
    assert county.payout(jan.payout_id)["open_objections"] == [first]
    dismissed = api.post(
        f"{objections}/{first}/resolve",
        Role.FINANCE,
        {"upheld": False, "reason": "the attendance sheet is signed"},
    )
    assert expect(dismissed, 200)["status"] is None
    assert county.payout(jan.payout_id)["status"] == "on_notice"
    refused(
        api.post(f"{objections}/{first}/resolve", Role.FINANCE, {"upheld": True, "reason": "x"}),
        409,
        "PAYOUT-STATE",
    )

    second = expect(
        api.post(objections, Role.INSPECTOR, {"grounds": "works in a factory in Jilin"}), 201
    )["objection_id"]
    upheld = api.post(
        f"{objections}/{second}/resolve",
        Role.FINANCE,
        {"upheld": True, "reason": "confirmed absent"},
    )
    assert expect(upheld, 200)["status"] == "rejected"
    rejected = county.payout(jan.payout_id)
    assert (rejected["status"], rejected["open_objections"]) == ("rejected", [])
    refused(county.approve(jan.payout_id), 409, "PAYOUT-STATE")
    assert county.fund(fund_id)["committed_fen"] == 0
    api.catch_up()
    queue = expect(api.get("/v1/payouts?status=rejected", Role.FINANCE), 200)
    assert [(i["payout_id"], i["open_objections"]) for i in queue["items"]] == [(jan.payout_id, 0)]


# -- 2. a transport grant from a claimant system ---------------------------------------------


def grant_body(person_id: str, **changes: Any) -> dict[str, Any]:
    """A claim for work in Guangdong since January, as an HR system submits it."""
    return {
        "person_id": person_id,
        "work_province": "44",
        "employer": "深圳某电子厂",
        "started_on": "2024-01-15",
        "months_worked": 4,
        "evidence_ref": "contract-2024-001",
        "external_claim_id": "HR-SYS-0001",
    } | changes


def test_a_transport_grant_from_a_claimant_system_is_claimed_once_and_paid(api: Api) -> None:
    """The claimant submits and resubmits; only it reads its claim; finance pays it."""
    county = County(api)
    person_id = county.person()
    fund_id = county.open_fund("rural_revitalisation")
    gap = api.post("/v1/transport-grants", Role.CLAIMANT, grant_body(person_id))
    refused(gap, 422, "GRANT-AMOUNT")
    publish(api, f.regional_policy(grant=JILIN_GRANTS))

    submitted = api.post("/v1/transport-grants", Role.CLAIMANT, grant_body(person_id))
    claim = expect(submitted, 201)
    assert claim["created"] is True
    assert submitted.headers["Location"] == f"/v1/transport-grants/{claim['id']}"
    written = head(api)
    again = api.post("/v1/transport-grants", Role.CLAIMANT, grant_body(person_id))
    assert expect(again, 200) == {
        "id": claim["id"],
        "payout_id": claim["payout_id"],
        "created": False,
    }
    assert head(api) == written
    other_facts = grant_body(person_id, months_worked=5)
    refused(api.post("/v1/transport-grants", Role.CLAIMANT, other_facts), 409, "CLAIM-EXTERNAL-ID")
    # Another system's claim for the same person and year, under the same external id: its
    # ids are its own, so this is a second grant in 2024, refused.
    refused(
        api.post("/v1/transport-grants", Role.CLAIMANT, grant_body(person_id), region="city"),
        422,
        "FRAUD-DUP-GRANT",
    )
    assert head(api) == written

    grant = expect(api.get(f"/v1/transport-grants/{claim['id']}", Role.CLAIMANT), 200)
    assert (grant["amount_fen"], grant["period"], grant["policy_version"]) == (
        50_000,
        "2024",
        f.REGIONAL_VERSION,
    )
    assert (grant["external_claim_id"], grant["payout_id"]) == ("HR-SYS-0001", claim["payout_id"])
    payout = county.payout(claim["payout_id"], Role.CLAIMANT)
    assert (payout["kind"], payout["programme"], payout["status"]) == (
        "grant",
        "GRANT-TRANSPORT",
        "requested",
    )
    assert (payout["fund_id"], payout["beneficiary_id"], payout["requested_by"]) == (
        fund_id,
        person_id,
        "claimant-county",
    )
    for path in (f"/v1/transport-grants/{claim['id']}", f"/v1/payouts/{claim['payout_id']}"):
        refused(api.get(path, Role.CLAIMANT, region="city"), 403, "CLAIMANT-OWN")
        refused(api.get(path, Role.CLAIMANT, region="province"), 403, "CLAIMANT-OWN")
        refused(api.get(path, Role.CLAIMANT, region="other"), 403, "REGION-SCOPE")
        expect(api.get(path, Role.INSPECTOR), 200)
    refused(
        api.post(f"/v1/payouts/{claim['payout_id']}/approve", Role.CLAIMANT),
        403,
        "ROLE-FORBIDDEN",
    )

    api.catch_up()
    queue = expect(api.get("/v1/payouts?programme=GRANT-TRANSPORT", Role.FINANCE), 200)
    assert [item["payout_id"] for item in queue["items"]] == [claim["payout_id"]]
    approved = county.approve(claim["payout_id"])
    assert expect(approved, 200)["status"] == "approved"
    assert county.fund(fund_id)["committed_fen"] == 50_000
    _, paid = county.pay(fund_id, claim["payout_id"], 50_000, "ICBC-9")
    expect(paid, 200)
    assert county.payout(claim["payout_id"], Role.CLAIMANT)["status"] == "paid"
    fund = county.fund(fund_id)
    assert (fund["committed_fen"], fund["paid_fen"]) == (0, 50_000)
    receipts = expect(
        api.get(
            f"/v1/balances/people/{person_id}",
            Role.FINANCE,
            **{"X-Min-Position": paid.headers["X-Ledger-Position"]},
        ),
        200,
    )
    assert [(r["programme"], r["net_fen"]) for r in receipts["receipts"]] == [
        ("GRANT-TRANSPORT", 50_000)
    ]


# -- 3. an application -----------------------------------------------------------------------


def test_a_brokers_service_subsidy_is_applied_for_approved_and_paid(api: Api) -> None:
    """A broker organises two workers into work: 200.00 yuan each once the city sets it."""
    county = County(api)
    fund_id = county.open_fund()
    organisation = {
        "credit_code": f.credit_code(),
        "kind": "broker",
        "name": "某人力资源公司",
        "region_code": f.COUNTY,
        "bank_account": "6228480012345678",
    }
    registered = api.post("/v1/organisations", Role.CLERK, organisation)
    broker = expect(registered, 201)["id"]
    assert registered.headers["Location"] == f"/v1/organisations/{broker}"
    again = api.post("/v1/organisations", Role.CLERK, organisation)
    assert expect(again, 200) == {"id": broker, "created": False}
    shown = expect(api.get(f"/v1/organisations/{broker}", Role.FINANCE), 200)
    assert (shown["kind"], shown["bank_account_masked"][-4:]) == ("broker", "5678")
    assert organisation["bank_account"] not in str(shown)
    workers = [county.person(), county.person()]
    application = {
        "programme": "SVC-BROKER",
        "applicant_id": broker,
        "beneficiary_ids": workers,
        "period_start": "2024-01-01",
        "evidence": ["contracts 2024-01"],
    }
    refused(api.post("/v1/applications", Role.CLERK, application), 422, "SVC-BROKER")
    publish(api, f.regional_policy(programmes=BROKER_AMOUNT))

    submitted = api.post("/v1/applications", Role.CLERK, application)
    claim = expect(submitted, 201)
    assert claim["created"] is True
    read = expect(api.get(f"/v1/applications/{claim['id']}", Role.INSPECTOR), 200)
    assert (read["applicant_kind"], read["amount_fen"], read["payout_id"]) == (
        "broker",
        40_000,
        claim["payout_id"],
    )
    assert read["explanation"]["policy_version"] == f.REGIONAL_VERSION
    assert read["explanation"]["inputs"]["beneficiaries"] == 2
    other_broker = county.organisation()
    refused(
        api.post(
            "/v1/applications",
            Role.CLERK,
            application | {"applicant_id": other_broker, "beneficiary_ids": [workers[0]]},
        ),
        422,
        "FRAUD-DUP-BROKER",
    )
    refused(
        api.post("/v1/applications", Role.CLERK, application | {"applicant_id": workers[0]}),
        422,
        "APP-APPLICANT",
    )

    payout = county.payout(claim["payout_id"])
    assert (payout["kind"], payout["beneficiary_id"], payout["amount_fen"]) == (
        "application",
        broker,
        40_000,
    )
    refused(county.approve(claim["payout_id"], **{"X-Actor-Id": "bad actor!"}), 400, "ACTOR-ID")
    assert expect(county.approve(claim["payout_id"]), 200)["status"] == "approved"
    _, paid = county.pay(fund_id, claim["payout_id"], 40_000, "ABC-1")
    expect(paid, 200)
    assert county.payout(claim["payout_id"])["status"] == "paid"
    position = paid.headers["X-Ledger-Position"]
    region = expect(
        api.get(f"/v1/balances/regions/{f.COUNTY}", Role.FINANCE, **{"X-Min-Position": position}),
        200,
    )
    assert region["totals"]["paid_fen"] == 40_000
    assert [(g["key"], g["totals"]["paid_fen"]) for g in region["by_source"]] == [
        ("employment_subsidy", 40_000)
    ]


# -- 4. an alert -----------------------------------------------------------------------------


def test_an_inspector_resolves_a_shared_account_alert_once(api: Api) -> None:
    """Two households on one account raise FRAUD-SHARED-ACCOUNT; only an inspector decides."""
    county = County(api)
    shared = "6222020200000017"
    first, second = county.person(account=shared), county.person(account=shared)
    position = str(head(api))

    listed = expect(
        api.get(
            "/v1/alerts?rule=FRAUD-SHARED-ACCOUNT",
            Role.INSPECTOR,
            **{"X-Min-Position": position},
        ),
        200,
    )
    [alert] = listed["items"]
    assert (alert["subject_type"], alert["state"], alert["region_code"]) == (
        "account",
        "open",
        f.COUNTY,
    )
    assert {first, second} <= set(alert["summary"].split(": ")[1].split(", "))
    assert shared not in str(listed)
    as_finance = expect(api.get("/v1/alerts?status=open", Role.FINANCE), 200)
    assert [a["alert_id"] for a in as_finance["items"]] == [alert["alert_id"]]
    assert expect(api.get("/v1/alerts", Role.INSPECTOR, region="other"), 200)["items"] == []
    refused(api.get("/v1/alerts", Role.CLERK), 403, "ROLE-FORBIDDEN")

    resolve = f"/v1/alerts/{alert['alert_id']}/resolve"
    decision = {"outcome": "confirmed", "reason": "two unrelated households, one card"}
    refused(api.post(resolve, Role.FINANCE, decision), 403, "ROLE-FORBIDDEN")
    refused(api.post(resolve, Role.INSPECTOR, decision, region="other"), 403, "REGION-SCOPE")
    refused(
        api.post(resolve, Role.INSPECTOR, {"outcome": "confirmed", "reason": ""}),
        422,
        "ALERT-REASON",
    )
    resolved = api.post(resolve, Role.INSPECTOR, decision, actor="zhang")
    assert expect(resolved, 200) == {"alert_id": alert["alert_id"], "outcome": "confirmed"}
    refused(api.post(resolve, Role.INSPECTOR, decision, actor="li"), 409, "ALERT-RESOLVED")
    refused(
        api.post(resolve, Role.INSPECTOR, {"outcome": "dismissed", "reason": "a couple"}),
        409,
        "ALERT-RESOLVED",
    )
    refused(
        api.post(f"/v1/alerts/{uuid.uuid4()}/resolve", Role.INSPECTOR, decision),
        404,
        "ALERT-NOT-FOUND",
    )

    after = {"X-Min-Position": resolved.headers["X-Ledger-Position"]}
    assert expect(api.get("/v1/alerts?status=open", Role.INSPECTOR, **after), 200)["items"] == []
    [confirmed] = expect(api.get("/v1/alerts?status=confirmed", Role.INSPECTOR, **after), 200)[
        "items"
    ]
    assert (
        confirmed["alert_id"],
        confirmed["resolved_by"],
        confirmed["resolution"],
    ) == (alert["alert_id"], "inspector-county/zhang", decision["reason"])


def test_an_inspector_reads_what_an_actor_named_by_x_actor_id_did(api: Api) -> None:
    """Actors named by X-Actor-Id are recorded as <client>/<actor>: their trail is readable.

    The slash must be sent percent-encoded in the path segment (RFC 3986).
    """
    county = County(api)
    fund_id = county.open_fund()
    jan = county.stipend(fund_id)
    approved = county.approve(jan.payout_id, "alice")
    expect(approved, 200)
    after = {"X-Min-Position": approved.headers["X-Ledger-Position"]}
    plain = expect(api.get("/v1/audit/actors/clerk-county", Role.INSPECTOR, **after), 200)
    assert jan.requested.headers["X-Request-Id"] in {e["request_id"] for e in plain["items"]}
    actions = expect(
        api.get("/v1/audit/actors/finance-county%2Falice", Role.INSPECTOR, **after), 200
    )
    assert sorted((e["event_type"], e["request_id"]) for e in actions["items"]) == [
        ("Fund.Committed", approved.headers["X-Request-Id"]),
        ("Payout.Approved", approved.headers["X-Request-Id"]),
    ]
