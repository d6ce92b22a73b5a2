"""``disburse users`` as a real process, on SQLite and PostgreSQL: every command audited."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from disburse.access.user import CredentialsError, user_id_for
from disburse.bootstrap import open_system

if TYPE_CHECKING:
    from disburse.settings import Settings
    from tests.e2e.test_cli_audit import Cli


def _last_json(stdout: str) -> dict[str, str]:
    parsed: dict[str, str] = json.loads(stdout.strip().splitlines()[-1])
    return parsed


def test_users_are_created_listed_reset_enrolled_and_disabled(cli: Cli, settings: Settings) -> None:
    created = cli("users", "create", "--name", "wang.fang", "--role", "finance",
                  "--region", "220221", "--json")  # fmt: skip
    assert created.returncode == 0, created.stderr
    issued = _last_json(created.stdout)
    assert set(issued) == {"username", "password"}
    assert issued["username"] == "wang.fang"
    assert len(issued["password"]) >= 12

    plain = cli("users", "create", "--name", "li.ming", "--role", "inspector", "--region", "2202")
    assert plain.returncode == 0, plain.stderr
    assert "initial password: " in plain.stdout

    reset = cli("users", "reset", "wang.fang", "--reason", "forgotten", "--json")
    assert reset.returncode == 0, reset.stderr
    new_password = _last_json(reset.stdout)["password"]
    assert new_password != issued["password"]

    enrolled = cli("users", "totp", "li.ming")
    assert enrolled.returncode == 0, enrolled.stderr
    assert enrolled.stdout.startswith("otpauth://totp/disburse:li.ming?secret=")

    disabled = cli("users", "disable", "li.ming", "--reason", "moved to another bureau")
    assert disabled.returncode == 0, disabled.stderr
    listed = cli.json("users", "list", "--json")
    assert [(u["username"], u["disabled"], u["totp_enabled"]) for u in listed] == [
        ("wang.fang", False, False),
        ("li.ming", True, True),
    ]
    text = json.dumps(listed)
    assert issued["password"] not in text
    assert "argon2" not in text
    table = cli("users", "list")
    assert table.returncode == 0
    assert "wang.fang" in table.stdout

    with open_system(settings) as system:
        users = system.users
        with pytest.raises(CredentialsError):
            users.sign_in("wang.fang", issued["password"], request_id="r1")
        signed = users.sign_in("wang.fang", new_password, request_id="r2")
        assert signed.must_change_password
        system.views.catch_up()
        trail = system.views.audit.trail(user_id_for("wang.fang"))
        commands = [(e.event_type, e.actor_id, e.reason) for e in trail if e.role == "admin"]
        assert [c[0] for c in commands] == [
            "UserAccount.Created",
            "UserDirectory.Added",
            "UserAccount.PasswordReset",
        ]
        assert all(actor.startswith("cli:") for _, actor, _ in commands)
        assert commands[2][2] == "forgotten"
        other = [e.event_type for e in system.views.audit.trail(user_id_for("li.ming"))]
        assert "UserAccount.TotpEnrolled" in other
        assert "UserAccount.Disabled" in other


def test_refused_commands_exit_1_naming_the_rule(cli: Cli) -> None:
    created = cli("users", "create", "--name", "wang.fang", "--role", "finance",
                  "--region", "220221", "--json")  # fmt: skip
    assert created.returncode == 0, created.stderr
    duplicate = cli("users", "create", "--name", "wang.fang", "--role", "clerk",
                    "--region", "220221")  # fmt: skip
    assert duplicate.returncode == 1
    assert "USER-EXISTS" in duplicate.stderr
    for args, rule in [
        (("--name", "Bad Name", "--role", "clerk", "--region", "22"), "USER-NAME"),
        (("--name", "ok.name", "--role", "clerk", "--region", "2202211"), "REGION-CODE"),
        (("--name", "ok.name", "--role", "system", "--region", "22"), "USER-ROLE"),
    ]:
        bad = cli("users", "create", *args)
        assert bad.returncode == 1, bad.stdout
        assert rule in bad.stderr

    no_reason = cli("users", "reset", "wang.fang", "--reason", " ")
    assert no_reason.returncode == 1
    assert "USER-REASON" in no_reason.stderr
    done = cli("users", "disable", "wang.fang", "--reason", "left")
    assert done.returncode == 0, done.stderr
    again = cli("users", "disable", "wang.fang", "--reason", "twice")
    assert again.returncode == 1
    assert "USER-DISABLED" in again.stderr
    missing = cli("users", "reset", "nobody", "--reason", "x")
    assert missing.returncode == 1
    assert "USER-NOT-FOUND" in missing.stderr
