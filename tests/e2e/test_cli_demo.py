"""``disburse demo`` and then ``disburse serve`` as real processes, on SQLite and PostgreSQL.

What the README's run command does: build the county, print a key per role, serve it;
an inspector's key then reads the alerts the planted irregularities raised.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING

from disburse.demo.planted import FRAUD_RULES
from tests.e2e.test_cli import run
from tests.e2e.test_cli_serve import _env, _get, serving

if TYPE_CHECKING:
    from pathlib import Path

    from disburse.settings import Settings

YEAR = "2024"
KEY_LINE = re.compile(r"^([a-z]+) +(dsb_\S+)$", re.MULTILINE)
USER_LINE = re.compile(r"^user +([a-z][a-z0-9._-]+) +([a-z]+) +(\S+)$", re.MULTILINE)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_sign_in(base: str, username: str, password: str) -> tuple[int, str]:
    """Sign in through the served console's form; the status and where it leads."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    with opener.open(f"{base}/console/login", timeout=10) as page:
        found = _CSRF.search(page.read().decode())
    assert found is not None
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrf_token": found.group(1)}
    ).encode()
    try:
        opener.open(f"{base}/console/login", data=form, timeout=10)
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers.get("location", "")
    return 200, ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


def test_the_demo_county_is_served_and_its_alerts_read_with_the_printed_keys(
    settings: Settings, tmp_path: Path
) -> None:
    """On an 80-column terminal, piped, every printed key is whole and authenticates.

    The keys are read from the text a newcomer sees (not ``--json``), as the README says.
    """
    env = _env(settings)
    built = run(
        "demo", "--people", "300", "--year", YEAR, cwd=tmp_path, env=env | {"COLUMNS": "80"}
    )
    assert built.returncode == 0, built.stderr
    keys = printed_keys(built.stdout)
    assert set(keys) == {"clerk", "finance", "inspector", "claimant", "admin"}, built.stdout

    again = run("demo", "--people", "300", "--year", YEAR, cwd=tmp_path, env=env)
    assert again.returncode == 1
    assert "DEMO-FRESH-STORE" in again.stderr

    with serving(env, tmp_path, ready="/readyz") as served:
        for role, key in keys.items():
            status, body = _get(f"{served.base}/v1/policy", key)
            assert status == 200, (role, body)
        raised = set()
        for rule in FRAUD_RULES:
            status, body = _get(f"{served.base}/v1/alerts?rule={rule}", keys["inspector"])
            assert status == 200, body
            if body["items"]:
                raised.add(rule)
        status, body = _get(f"{served.base}/v1/alerts", keys["claimant"])
        assert status == 403, body
        users = {name: (role, password) for name, role, password in USER_LINE.findall(built.stdout)}
        assert {role for role, _ in users.values()} == {"finance", "clerk", "inspector"}
        _role, password = users["finance.li"]
        assert console_sign_in(served.base, "finance.li", password) == (303, "/console/password")
    assert raised == set(FRAUD_RULES)


def printed_keys(stdout: str) -> dict[str, str]:
    """The ``role  key`` lines the demo prints, by role."""
    return dict(KEY_LINE.findall(stdout))


def test_a_year_whose_dates_are_not_all_past_is_refused(settings: Settings, tmp_path: Path) -> None:
    done = run("demo", "--year", "2999", cwd=tmp_path, env=_env(settings))

    assert done.returncode == 1
    assert "DEMO-YEAR" in done.stderr


def test_the_json_summary_holds_the_verdict_and_the_same_keys(tmp_path: Path) -> None:
    """``--json`` (for scripts): no rule without an alert, no balance problem, one key a role."""
    done = run(
        "demo", "--people", "300", "--seed", "5", "--year", YEAR, "--json",
        cwd=tmp_path, env={"DISBURSE_DATABASE_URL": "memory://"},
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["rules_without_alert"], summary["problems"]) == ([], [])
    keys = {client["role"]: client["key"] for client in summary["clients"]}
    assert set(keys) == {"clerk", "finance", "inspector", "claimant", "admin"}
    assert all(KEY_LINE.fullmatch(f"{role}  {key}") for role, key in keys.items())
