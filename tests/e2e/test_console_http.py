"""The console over HTTP (no browser): sign-in, sessions, CSRF, roles, regions, decisions.

On both backends: sessions live in the store, so these also show that a second process
(another ``serve`` worker) would see the same sessions.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from disburse.access.users import UserLimits, Users
from disburse.cli.common import operator_context
from disburse.domain.meta import Role
from disburse.domain.payout import PayoutStatus
from disburse.domain.person import LabourCapacity, PovertyStatus
from tests import factories as f
from tests.bank_files_support import answered_rows, csv_rows, to_csv
from tests.console_support import (
    PASSWORD,
    ConsoleWorld,
    add_user,
    console_app,
    console_world,
    csrf_of,
    sign_in,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from disburse.bootstrap import System
    from tests.api_support import LogTrap


@pytest.fixture
def world(system: System) -> ConsoleWorld:
    return console_world(system)


@pytest.fixture
def client(world: ConsoleWorld) -> Iterator[TestClient]:
    with TestClient(console_app(world.system), raise_server_exceptions=False) as opened:
        yield opened


def signed_in(client: TestClient, name: str) -> TestClient:
    answer = sign_in(client, name)
    assert answer.status_code == 303, answer.text
    return client


def test_pages_carry_a_content_security_policy_and_chinese_by_default(client: TestClient) -> None:
    page = client.get("/console/login")

    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert "登录" in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert client.get("/console/static/htmx.min.js").status_code == 200


def test_the_session_cookie_is_http_only_and_same_site_strict(client: TestClient) -> None:
    answer = sign_in(client, "fin.wang")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/payouts"
    cookie = next(
        value
        for key, value in answer.headers.multi_items()
        if key == "set-cookie"
        if value.startswith("disburse_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie


def test_a_new_user_must_change_the_initial_password_before_anything_else(
    world: ConsoleWorld, client: TestClient
) -> None:
    issued = world.system.users.create(
        operator_context(), username="fin.new", role=Role.FINANCE, region_code="220202"
    )
    answer = sign_in(client, "fin.new", issued.password)
    assert answer.headers["location"] == "/console/password"
    assert client.get("/console/payouts", follow_redirects=False).headers["location"] == (
        "/console/password"
    )
    form = client.get("/console/password")
    assert 'name="new_password"' in form.text

    changed = client.post(
        "/console/password",
        data={"new_password": "a new long passphrase", "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )

    assert changed.status_code == 303
    assert client.get("/console/payouts").status_code == 200


def test_a_form_without_the_session_csrf_token_is_refused_and_changes_nothing(
    world: ConsoleWorld, client: TestClient
) -> None:
    signed_in(client, "fin.wang")
    payout_id = world.pending[0]
    version = world.system.ledger.payouts.get(payout_id).version

    forged = client.post(
        "/console/payouts/approve",
        data={"payout": f"{payout_id}@{version}", "csrf_token": "forged"},
    )

    assert forged.status_code == 403
    assert "CSRF" in forged.text
    assert world.system.ledger.payouts.get(payout_id).status is PayoutStatus.REQUESTED


def test_a_sign_in_form_without_its_csrf_twin_opens_no_session(client: TestClient) -> None:
    answer = client.post(
        "/console/login",
        data={"username": "fin.wang", "password": PASSWORD, "csrf_token": "guess"},
        follow_redirects=False,
    )

    assert answer.status_code == 403
    assert "disburse_session" not in answer.headers.get("set-cookie", "")


def test_signing_out_ends_the_session_in_the_store(client: TestClient) -> None:
    signed_in(client, "fin.wang")
    token = client.cookies["disburse_session"]
    page = client.get("/console/payouts")

    out = client.post(
        "/console/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )

    assert out.status_code == 303
    client.cookies.set("disburse_session", token, path="/console")
    again = client.get("/console/payouts", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/console/login")


def test_an_idle_session_expires(world: ConsoleWorld, client: TestClient) -> None:
    now = [datetime.now(UTC)]
    state = client.app.state.disburse  # type: ignore[attr-defined]
    state.users = Users(
        world.system.ledger.store,
        world.system.ledger.keys,
        UserLimits.from_settings(world.system.settings),
        now=lambda: now[0],
    )
    signed_in(client, "fin.wang")
    assert client.get("/console/payouts").status_code == 200

    now[0] += timedelta(minutes=world.system.settings.console_idle_minutes + 1)

    expired = client.get("/console/payouts", follow_redirects=False)
    assert expired.status_code == 303
    assert expired.headers["location"] == "/console/login?next=/console/payouts"


def test_repeated_failures_lock_the_account_even_against_the_right_password(
    world: ConsoleWorld, client: TestClient
) -> None:
    for _ in range(world.system.settings.console_max_failures):
        assert sign_in(client, "fin.chen", "not the password at all").status_code == 401

    locked = sign_in(client, "fin.chen", PASSWORD)

    assert locked.status_code == 401
    assert "disburse_session" not in locked.headers.get("set-cookie", "")
    assert client.get("/console/payouts", follow_redirects=False).status_code == 303
    # a locked account answers as an unknown name does: nobody learns who has an account
    for _ in range(world.system.settings.console_max_failures + 1):
        unknown = sign_in(client, "nobody.here", "not the password at all")
    assert unknown.status_code == locked.status_code
    assert _problem_of(unknown.text) == _problem_of(locked.text)


def test_a_disabled_users_session_ends_at_once(world: ConsoleWorld, client: TestClient) -> None:
    signed_in(client, "fin.wang")
    assert client.get("/console/payouts").status_code == 200

    world.system.users.disable(operator_context(), "fin.wang", reason="left the bureau")

    after = client.get("/console/payouts", follow_redirects=False)
    assert after.status_code == 303
    assert after.headers["location"].startswith("/console/login")


def test_passwords_are_never_logged(
    world: ConsoleWorld, client: TestClient, log_trap: LogTrap
) -> None:
    secret = "another long passphrase 42"
    add_user(world.system, "insp.wu", Role.INSPECTOR)
    sign_in(client, "insp.wu", secret)  # wrong: logged as a failure, without the password
    signed_in(client, "insp.wu")

    logged = json.dumps(log_trap.lines(), ensure_ascii=False)
    assert secret not in logged
    assert PASSWORD not in logged


def test_the_requester_sees_no_approve_control_and_an_approver_does(
    world: ConsoleWorld, client: TestClient
) -> None:
    path = f"/console/payouts/{world.requested_by_user}"
    signed_in(client, "clerk.zhao")
    page = client.get(path)
    assert page.status_code == 200
    assert 'id="payout-status"' in page.text
    assert 'id="approve"' not in page.text

    fresh = TestClient(client.app)
    signed_in(fresh, "fin.wang")
    assert 'id="approve"' in fresh.get(path).text


def test_a_county_user_cannot_open_another_countys_payout_by_url(
    world: ConsoleWorld, client: TestClient
) -> None:
    signed_in(client, "fin.wang")
    payout = world.system.ledger.payouts.get(world.elsewhere)

    page = client.get(f"/console/payouts/{world.elsewhere}")

    assert page.status_code == 403
    assert "REGION-SCOPE" in page.text
    assert str(payout.beneficiary_id) not in page.text
    assert payout.region_code not in page.text


def test_bulk_approval_approves_each_at_the_version_seen(
    world: ConsoleWorld, client: TestClient
) -> None:
    signed_in(client, "fin.wang")
    queue = client.get("/console/payouts")
    chosen = world.pending[:3]
    payouts = world.system.ledger.payouts
    ticks = [f"{p}@{payouts.get(p).version}" for p in chosen]

    answer = client.post(
        "/console/payouts/approve", data={"payout": ticks, "csrf_token": csrf_of(queue.text)}
    )

    assert answer.status_code == 200
    assert {payouts.get(p).status for p in chosen} == {PayoutStatus.APPROVED}
    assert "console/fin.wang" in payouts.get(chosen[0]).approvers


def test_a_stale_version_is_refused_not_approved_blind(
    world: ConsoleWorld, client: TestClient
) -> None:
    signed_in(client, "fin.wang")
    payout_id = world.pending[4]
    page = client.get(f"/console/payouts/{payout_id}")
    stale = world.system.ledger.payouts.get(payout_id).version - 1 or 0

    answer = client.post(
        "/console/payouts/approve",
        data={"payout": f"{payout_id}@{stale}", "csrf_token": csrf_of(page.text)},
    )

    assert "IF-MATCH" in answer.text
    assert world.system.ledger.payouts.get(payout_id).status is PayoutStatus.REQUESTED


def test_bank_results_are_recorded_from_an_uploaded_file_whole_or_not_at_all(
    world: ConsoleWorld, client: TestClient
) -> None:
    ledger = world.system.ledger
    finance = f.finance()
    chosen = world.pending[:2]
    for payout_id in chosen:
        ledger.payouts.approve(finance, payout_id)
    batch_id = ledger.payouts.release_batch(finance, fund_id=world.place.fund_id, payout_ids=chosen)
    signed_in(client, "fin.wang")
    page = client.get(f"/console/batches/{batch_id}")
    assert page.status_code == 200
    token = csrf_of(page.text)
    sent = client.get(f"/console/batches/{batch_id}/file?format=csv")
    assert sent.status_code == 200, sent.text
    answered = answered_rows(csv_rows(sent.content), {chosen[1]: "账户已销户"})
    answered[-1][3] = "3000.01"  # a wrong control total
    wrong = to_csv(answered)

    refused = client.post(
        f"/console/batches/{batch_id}/results",
        data={"csrf_token": token},
        files={"file": ("results.csv", io.BytesIO(wrong), "text/csv")},
    )
    assert refused.status_code == 422
    assert "BATCH-TOTALS" in refused.text
    assert "line 4: BATCH-TOTALS" in refused.text
    assert ledger.payouts.get(chosen[0]).status is PayoutStatus.BATCHED

    answered[-1][3] = "3000.00"
    done = client.post(
        f"/console/batches/{batch_id}/results",
        data={"csrf_token": token},
        files={"file": ("results.csv", io.BytesIO(to_csv(answered)), "text/csv")},
    )
    assert done.status_code == 200, done.text
    assert ledger.payouts.get(chosen[0]).status is PayoutStatus.PAID
    assert ledger.payouts.get(chosen[1]).status is PayoutStatus.FAILED


def test_the_language_switch_keeps_english_in_a_cookie(client: TestClient) -> None:
    signed_in(client, "insp.liu")

    client.get("/console/lang/en?next=/console/alerts")
    page = client.get("/console/alerts")

    assert '<html lang="en">' in page.text
    assert "Alerts" in page.text


def test_an_inspector_resolves_an_alert_once_with_a_reason(
    world: ConsoleWorld, client: TestClient
) -> None:
    signed_in(client, "insp.liu")
    path = f"/console/alerts/{world.alert_subject}"
    page = client.get(path)
    assert page.status_code == 200

    done = client.post(
        f"{path}/resolve",
        data={"outcome": "dismissed", "reason": "one family", "csrf_token": csrf_of(page.text)},
    )

    assert done.status_code == 200
    world.system.views.catch_up()
    found = world.system.views.alerts.find(rule="FRAUD-SHARED-ACCOUNT")
    assert [a.state for a in found] == ["dismissed"]
    assert found[0].resolved_by == "console/insp.liu"


@pytest.mark.parametrize(
    ("user", "paths"),
    [
        (
            "fin.wang",
            ["/console/payouts", "/console/batches", "/console/budget", "/console/search"],
        ),
        (
            "insp.liu",
            [
                "/console/alerts",
                "/console/trail",
                "/console/as-of",
                "/console/verify",
                "/console/pack",
            ],
        ),
    ],
)
def test_each_main_page_answers_for_its_role(
    client: TestClient, user: str, paths: list[str]
) -> None:
    signed_in(client, user)
    for path in paths:
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:500])


def test_a_finance_user_cannot_open_inspector_pages(client: TestClient) -> None:
    signed_in(client, "fin.wang")

    page = client.get("/console/verify")

    assert page.status_code == 403
    assert "ROLE-FORBIDDEN" in page.text


def test_api_problems_outside_the_console_stay_json(client: TestClient) -> None:
    answer = client.get("/v1/payouts")

    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert json.loads(answer.text)["rule_id"] == "AUTH-REQUIRED"


def test_search_finds_people_of_the_region_masked_by_role_and_nobody_elsewhere(
    world: ConsoleWorld, client: TestClient
) -> None:
    ledger = world.system.ledger
    here = f.resident_id(f.COUNTY)
    ledger.people.register(
        f.clerk(),
        resident_id=here,
        name="欧阳娜娜",
        home_region=f.COUNTY,
        poverty_status=PovertyStatus.LIFTED,
        labour_capacity=LabourCapacity.WEAK,
        household_id="H-SEARCH-1",
        bank_account="6222020200000991",
    )
    ledger.people.register(
        f.clerk(),
        resident_id=f.resident_id(f.OTHER_COUNTY),
        name="欧阳外县",
        home_region=f.OTHER_COUNTY,
        poverty_status=PovertyStatus.LIFTED,
        labour_capacity=LabourCapacity.WEAK,
        household_id="H-SEARCH-2",
        bank_account="6222020200000992",
    )
    world.system.views.catch_up()
    signed_in(client, "fin.wang")

    page = client.get("/console/search", params={"kind": "people", "q": "欧阳"})

    assert page.status_code == 200
    assert "欧阳娜娜" in page.text
    assert "欧阳外县" not in page.text
    assert here not in page.text  # finance sees resident IDs masked
    inspector = TestClient(client.app)
    signed_in(inspector, "insp.liu")
    found = inspector.get("/console/search", params={"kind": "people", "q": here})
    assert "欧阳娜娜" in found.text
    assert here in found.text


def test_search_refuses_what_it_cannot_look_for_with_a_page_naming_the_field(
    client: TestClient,
) -> None:
    signed_in(client, "fin.wang")

    page = client.get("/console/search", params={"kind": "funds", "q": "x' OR 1=1"})

    assert page.status_code == 422
    assert "REQUEST-SCHEMA" in page.text
    assert client.get("/console/search", params={"kind": "nothing"}).status_code == 422


def test_bulk_rejection_needs_a_reason_and_records_it_on_each(
    world: ConsoleWorld, client: TestClient
) -> None:
    signed_in(client, "fin.wang")
    token = csrf_of(client.get("/console/payouts").text)
    chosen = world.pending[3:5]
    payouts = world.system.ledger.payouts
    ticks = [f"{p}@{payouts.get(p).version}" for p in chosen]

    bare = client.post("/console/payouts/reject", data={"payout": ticks, "csrf_token": token})
    assert bare.status_code == 422
    assert {world.system.ledger.payouts.get(p).status for p in chosen} == {PayoutStatus.REQUESTED}

    done = client.post(
        "/console/payouts/reject",
        data={
            "payout": [*ticks, f"{world.elsewhere}@{payouts.get(world.elsewhere).version}"],
            "reason": "重复申报",
            "csrf_token": token,
        },
    )

    assert done.status_code == 200
    assert "REGION-SCOPE" in done.text  # the other county's payout, refused alone
    assert {payouts.get(p).status for p in chosen} == {PayoutStatus.REJECTED}
    assert payouts.get(world.elsewhere).status is PayoutStatus.REQUESTED


def test_the_queue_sorts_newest_first_on_the_server(
    world: ConsoleWorld, client: TestClient
) -> None:
    signed_in(client, "fin.wang")

    oldest = client.get("/console/payouts").text
    newest = client.get("/console/payouts", params={"sort": "newest"}).text

    first = 'data-payout="'
    assert oldest.split(first)[1].startswith(str(world.pending[0]))
    assert newest.split(first)[1].startswith(str(world.requested_by_user))
    assert client.get("/console/payouts", params={"sort": "amount"}).status_code == 422


def test_text_that_may_not_be_stored_is_refused_naming_the_field(
    world: ConsoleWorld, client: TestClient
) -> None:
    signed_in(client, "fin.wang")
    payout_id = world.pending[5]
    token = csrf_of(client.get(f"/console/payouts/{payout_id}").text)

    refused = client.post(
        f"/console/payouts/{payout_id}/reject", data={"reason": "bad\x00text", "csrf_token": token}
    )
    searched = client.get("/console/search", params={"kind": "people", "q": "王\x07"})
    filtered = client.get("/console/payouts", params={"programme": "A\u202eB"})

    assert refused.status_code == 422
    assert "TEXT-INVALID" in refused.text
    assert world.system.ledger.payouts.get(payout_id).status is PayoutStatus.REQUESTED
    assert searched.status_code == 422
    assert "TEXT-INVALID" in searched.text
    assert filtered.status_code == 422


def _problem_of(page: str) -> str:
    start = page.index('<div class="problem"')
    return page[start : page.index("</div>", start)]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/console/payouts", {"older_than_days": "²"}),
        ("/console/search", {"kind": "funds", "q": "²²²²"}),
    ],
)
def test_digits_that_are_not_ascii_are_refused_not_a_server_error(
    client: TestClient, path: str, params: dict[str, str]
) -> None:
    signed_in(client, "fin.wang")

    answer = client.get(path, params=params)

    assert answer.status_code in {200, 422}
    assert answer.headers["content-security-policy"]


def test_a_decision_must_name_the_version_it_was_made_at(
    world: ConsoleWorld, client: TestClient
) -> None:
    signed_in(client, "fin.wang")
    payout_id = world.pending[2]
    token = csrf_of(client.get("/console/payouts").text)

    for ticked in (str(payout_id), f"{payout_id}@x", f"{payout_id}@²"):
        answer = client.post(
            "/console/payouts/approve", data={"payout": ticked, "csrf_token": token}
        )
        assert answer.status_code == 422, ticked
    assert world.system.ledger.payouts.get(payout_id).status is PayoutStatus.REQUESTED


def test_a_nested_json_result_file_is_refused_not_a_server_error(
    world: ConsoleWorld, client: TestClient
) -> None:
    ledger = world.system.ledger
    ledger.payouts.approve(f.finance(), world.pending[0])
    batch_id = ledger.payouts.release_batch(
        f.finance(), fund_id=world.place.fund_id, payout_ids=[world.pending[0]]
    )
    signed_in(client, "fin.wang")
    token = csrf_of(client.get(f"/console/batches/{batch_id}").text)
    nested = '{"results":' + "[" * 100_000 + "]" * 100_000 + "}"

    answer = client.post(
        f"/console/batches/{batch_id}/results",
        data={"csrf_token": token},
        files={"file": ("r.json", io.BytesIO(nested.encode()), "application/json")},
    )

    assert answer.status_code == 422


def test_a_user_who_must_change_the_password_may_still_sign_out(
    world: ConsoleWorld, client: TestClient
) -> None:
    issued = world.system.users.reset(operator_context(), "fin.chen", reason="forgotten")
    sign_in(client, "fin.chen", issued.password)
    token = csrf_of(client.get("/console/password").text)

    out = client.post("/console/logout", data={"csrf_token": token}, follow_redirects=False)

    assert out.headers["location"] == "/console/login"
    assert client.get("/console/password", follow_redirects=False).status_code == 303
