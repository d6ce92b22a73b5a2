"""The console in a real browser: what finance officers and inspectors do with it.

Each test signs in through the form, as a person does, in a fresh browser context (its
own cookies). Screenshots of the main pages are kept; axe checks each main page for
serious accessibility violations.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.console_support import PASSWORD

from disburse.domain.payout import PayoutStatus

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from tests.console_support import ConsoleWorld

AXE = Path(__file__).with_name("axe.min.js").read_text(encoding="utf-8")
SERIOUS = {"serious", "critical"}


def signed_in(browser: Browser, url: str, name: str, *, csp_free: bool = False) -> Page:
    """A new browser context signed in as ``name`` through the sign-in form."""
    context = browser.new_context(base_url=url, bypass_csp=csp_free, accept_downloads=True)
    page = context.new_page()
    page.goto("/console/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """What axe finds on the page at or above 'serious'."""
    page.evaluate(AXE)
    found: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [v for v in found["violations"] if v.get("impact") in SERIOUS]


def test_finance_approves_a_payout_and_it_leaves_the_queue(
    browser: Browser, console_url: str, world: ConsoleWorld
) -> None:
    page = signed_in(browser, console_url, "fin.wang")
    payout_id = str(world.pending[0])
    assert page.locator(f"tr[data-payout='{payout_id}']").count() == 1

    page.click(f"tr[data-payout='{payout_id}'] a")
    page.click("#approve")
    page.wait_for_load_state()

    assert world.system.ledger.payouts.get(world.pending[0]).status is PayoutStatus.APPROVED
    world.system.views.catch_up()
    page.goto("/console/payouts")
    assert page.locator(f"tr[data-payout='{payout_id}']").count() == 0


def test_finance_bulk_approves_three(
    browser: Browser, console_url: str, world: ConsoleWorld
) -> None:
    page = signed_in(browser, console_url, "fin.wang")
    chosen = [str(p) for p in world.pending[1:4]]
    for payout_id in chosen:
        page.check(f"tr[data-payout='{payout_id}'] input[type=checkbox]")

    page.click("text=批量审批所选")
    page.wait_for_load_state()

    assert "已审批 3 笔" in page.content()
    payouts = world.system.ledger.payouts
    assert {payouts.get(p).status for p in world.pending[1:4]} == {PayoutStatus.APPROVED}


def test_the_requester_sees_no_approve_control(
    browser: Browser, console_url: str, world: ConsoleWorld
) -> None:
    page = signed_in(browser, console_url, "clerk.zhao")

    page.goto(f"/console/payouts/{world.requested_by_user}")

    assert page.locator("#payout-status").count() == 1
    assert page.locator("#approve").count() == 0
    other = signed_in(browser, console_url, "fin.chen")
    other.goto(f"/console/payouts/{world.requested_by_user}")
    assert other.locator("#approve").count() == 1


def test_an_inspector_opens_an_alert_and_resolves_it(
    browser: Browser, console_url: str, world: ConsoleWorld
) -> None:
    page = signed_in(browser, console_url, "insp.liu")
    assert page.url.endswith("/console/alerts")

    page.click(f"tr[data-alert='{world.alert_subject}'] a")
    assert page.locator("ol.timeline li").count() >= 1
    page.check("input[name=outcome][value=confirmed]")
    page.fill("#reason", "两户共用一个账户，已核实")
    page.click("#resolve")
    page.wait_for_load_state()

    assert page.locator("#alert-state").inner_text() in {"已确认", "confirmed"}


def test_an_inspector_downloads_an_evidence_pack_that_verifies_itself(
    browser: Browser, console_url: str, world: ConsoleWorld, tmp_path: Path
) -> None:
    page = signed_in(browser, console_url, "insp.liu")
    page.goto(f"/console/trail?entity_id={world.pending[0]}")

    with page.expect_download() as download:
        page.click("text=下载该对象的证据包")
    pack = tmp_path / "pack.zip"
    download.value.save_as(pack)

    with zipfile.ZipFile(pack) as opened:
        opened.extractall(tmp_path / "pack")
    checked = subprocess.run(  # noqa: S603 - the pack's own script, on the pack
        [sys.executable, str(tmp_path / "pack" / "verify_pack.py"), str(pack)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_switching_language(browser: Browser, console_url: str) -> None:
    page = signed_in(browser, console_url, "insp.liu")
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    page.click("a[hreflang=en]")

    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("header nav").inner_text().count("Alerts") == 1
    page.click("a[hreflang=zh-CN]")
    assert page.locator("html").get_attribute("lang") == "zh-CN"


def test_a_county_user_cannot_open_another_countys_payout_by_url(
    browser: Browser, console_url: str, world: ConsoleWorld
) -> None:
    page = signed_in(browser, console_url, "fin.wang")
    payout = world.system.ledger.payouts.get(world.elsewhere)

    answer = page.goto(f"/console/payouts/{world.elsewhere}")

    assert answer is not None
    assert answer.status == 403
    assert "REGION-SCOPE" in page.content()
    assert str(payout.beneficiary_id) not in page.content()


MAIN_PAGES = {
    "fin.wang": ["/console/payouts", "/console/batches", "/console/budget", "/console/search"],
    "insp.liu": [
        "/console/alerts",
        "/console/trail",
        "/console/as-of",
        "/console/verify",
        "/console/pack",
    ],
}


@pytest.mark.parametrize("user", sorted(MAIN_PAGES))
def test_main_pages_have_no_serious_accessibility_violation_and_are_kept_as_screenshots(
    browser: Browser, console_url: str, world: ConsoleWorld, artefacts: Path, user: str
) -> None:
    assert world.pending
    page = signed_in(browser, console_url, user, csp_free=True)
    found = {}
    for path in MAIN_PAGES[user]:
        page.goto(path)
        page.screenshot(path=artefacts / f"{path.strip('/').replace('/', '-')}.png", full_page=True)
        found[path] = [(v["id"], v["impact"], v["help"]) for v in serious_violations(page)]
    page.goto("/console/login")
    assert {path: issues for path, issues in found.items() if issues} == {}


def test_filtering_the_queue_updates_it_in_place_under_the_content_security_policy(
    browser: Browser, console_url: str, world: ConsoleWorld
) -> None:
    page = signed_in(browser, console_url, "fin.chen")
    assert world.pending
    errors: list[str] = []
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    page.evaluate("window.notReloaded = true")

    page.fill("#f-programme", "NO-SUCH-PROGRAMME")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**programme=NO-SUCH-PROGRAMME**")

    assert page.locator("#queue-results tbody tr").count() == 1
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the list, no reload
    assert errors == []
