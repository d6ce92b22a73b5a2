"""Console user accounts in memory: names, roles, regions, the password policy, who acts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from argon2 import PasswordHasher

from disburse.access.user import (
    CredentialsError,
    PasswordPolicyError,
    check_new_password,
    user_id_for,
)
from disburse.access.users import (
    UserLimits,
    Users,
    context_of,
    generate_password,
)
from disburse.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
)
from disburse.domain.meta import Role
from disburse.readside.redact import identified_fields, public_payload
from tests import factories as f

if TYPE_CHECKING:
    from disburse.bootstrap import System

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: argon2id still, with small parameters: unit tests check rules, not the hash's cost.
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class Clock:
    """A clock the test moves: nothing sleeps."""

    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def users(memory_system: System, clock: Clock) -> Users:
    ledger = memory_system.ledger
    return Users(ledger.store, ledger.keys, UserLimits(), now=clock, hasher=FAST)


@pytest.mark.parametrize(
    ("username", "role", "region", "rule"),
    [
        ("Alice", Role.FINANCE, "220221", "USER-NAME"),
        ("al", Role.FINANCE, "220221", "USER-NAME"),
        ("1alice", Role.FINANCE, "220221", "USER-NAME"),
        ("ali ce", Role.FINANCE, "220221", "USER-NAME"),
        ("a" * 33, Role.FINANCE, "220221", "USER-NAME"),
        ("alice", Role.SYSTEM, "220221", "USER-ROLE"),
        ("alice", Role.FINANCE, "", "REGION-CODE"),
        ("alice", Role.FINANCE, "2202211", "REGION-CODE"),
        ("alice", Role.FINANCE, "99", "REGION-CODE"),
    ],
)
def test_an_account_needs_a_valid_username_role_and_region(
    users: Users, username: str, role: Role, region: str, rule: str
) -> None:
    with pytest.raises(InvalidInputError, match=rule):
        users.create(f.admin(), username=username, role=role, region_code=region)
    assert users.list() == []


def test_only_an_admin_creates_disables_or_resets_accounts_rule_user_admin(users: Users) -> None:
    with pytest.raises(RuleViolationError, match="USER-ADMIN"):
        users.create(f.finance(), username="self.made", role=Role.ADMIN, region_code="22")
    users.create(f.admin(), username="alice", role=Role.FINANCE, region_code="22")
    with pytest.raises(RuleViolationError, match="USER-ADMIN"):
        users.disable(f.clerk(), "alice", reason="not mine to do")
    with pytest.raises(RuleViolationError, match="USER-ADMIN"):
        users.reset(f.inspector(), "alice", reason="not mine to do")
    with pytest.raises(RuleViolationError, match="USER-ADMIN"):
        users.enroll_totp(f.finance("console/bob"), "alice")


def test_usernames_are_unique_rule_user_exists(users: Users) -> None:
    first = users.create(f.admin(), username="alice", role=Role.FINANCE, region_code="22")
    with pytest.raises(ConflictError, match="USER-EXISTS"):
        users.create(f.admin(), username="alice", role=Role.CLERK, region_code="22")
    assert [u.username for u in users.list()] == ["alice"]
    assert first.user.id == user_id_for("alice")
    assert users.get("alice").role is Role.FINANCE


def test_an_unknown_username_is_not_found(users: Users) -> None:
    with pytest.raises(NotFoundError, match="USER-NOT-FOUND"):
        users.get("nobody")
    with pytest.raises(NotFoundError, match="USER-NOT-FOUND"):
        users.get("Not A Name")


def test_a_generated_password_meets_the_policy_and_must_be_changed(users: Users) -> None:
    issued = users.create(f.admin(), username="alice", role=Role.FINANCE, region_code="22")
    check_new_password(issued.password, username="alice")
    assert issued.password != generate_password()
    assert issued.user.must_change_password
    assert issued.user.password_hash.startswith("$argon2id$")
    assert issued.password not in issued.user.password_hash


@pytest.mark.parametrize(
    ("new", "why"),
    [
        ("short pass", "at least 12"),
        ("x" * 257, "at most 256"),
        ("alice.wang.x", "not the username"),
    ],
)
def test_a_new_password_follows_the_policy_rule_user_password_policy(new: str, why: str) -> None:
    with pytest.raises(PasswordPolicyError, match=f"USER-PASSWORD-POLICY.*{why}"):
        check_new_password(new, username="alice.wang.x")


def test_the_new_password_is_not_the_current_one(users: Users) -> None:
    issued = users.create(f.admin(), username="alice", role=Role.FINANCE, region_code="22")
    signed = users.sign_in("alice", issued.password, request_id="r1")
    with pytest.raises(PasswordPolicyError, match="USER-PASSWORD-POLICY"):
        users.change_password(signed.token, current=issued.password, new=issued.password)


def test_unknown_user_wrong_password_and_disabled_are_refused_alike(users: Users) -> None:
    issued = users.create(f.admin(), username="alice", role=Role.FINANCE, region_code="22")
    users.create(f.admin(), username="leaver", role=Role.FINANCE, region_code="22")
    left = users.reset(f.admin(), "leaver", reason="handover")
    users.disable(f.admin(), "leaver", reason="left the bureau")
    messages = set()
    for username, password in [
        ("nobody", issued.password),
        ("alice", issued.password + "x"),
        ("leaver", left.password),
        ("NOT VALID", "whatever"),
        ("alice", issued.password + "x" * 300),  # longer than any password: not hashed
    ]:
        with pytest.raises(CredentialsError) as refused:
            users.sign_in(username, password, request_id="r")
        messages.add((refused.value.rule_id, str(refused.value)))
    assert messages == {
        ("USER-CREDENTIALS", "USER-CREDENTIALS: the username, password or code is not right")
    }


def test_disable_and_reset_need_a_reason_and_a_live_account(users: Users) -> None:
    users.create(f.admin(), username="alice", role=Role.FINANCE, region_code="22")
    with pytest.raises(InvalidInputError, match="USER-REASON"):
        users.disable(f.admin(), "alice", reason=" ")
    with pytest.raises(InvalidInputError, match="USER-REASON"):
        users.reset(f.admin(), "alice", reason="")
    users.disable(f.admin(), "alice", reason="left")
    with pytest.raises(ConflictError, match="USER-DISABLED"):
        users.disable(f.admin(), "alice", reason="again")
    with pytest.raises(ConflictError, match="USER-DISABLED"):
        users.reset(f.admin(), "alice", reason="back")
    assert users.get("alice").disabled


def test_each_console_user_is_a_principal_of_their_own(users: Users) -> None:
    alice = users.create(f.admin(), username="alice", role=Role.FINANCE, region_code="22").user
    bob = users.create(f.admin(), username="bob", role=Role.FINANCE, region_code="22").user
    ctx_a, ctx_b = context_of(alice, "r1"), context_of(bob, "r2")
    assert (ctx_a.actor_id, ctx_a.client_id, ctx_a.role) == (
        "console/alice",
        "console",
        Role.FINANCE,
    )
    assert ctx_a.meta().principal == "console/alice"
    assert ctx_a.meta().principal != ctx_b.meta().principal
    assert ctx_b.request_id == "r2"


def test_the_csrf_token_is_stable_for_a_session_and_differs_between_sessions(
    users: Users,
) -> None:
    issued = users.create(f.admin(), username="alice", role=Role.FINANCE, region_code="22")
    one = users.sign_in("alice", issued.password, request_id="r1")
    two = users.sign_in("alice", issued.password, request_id="r2")
    first, again = users.session(one.token), users.session(one.token)
    other = users.session(two.token)
    assert first is not None
    assert again is not None
    assert other is not None
    assert first.csrf_token == again.csrf_token != other.csrf_token
    assert len(one.token) >= 43
    assert one.token not in first.csrf_token
    assert users.session("not-a-token") is None
    assert users.session(one.token[:-1] + ("A" if one.token[-1] != "A" else "B")) is None


def test_credentials_are_left_out_of_every_view_and_of_the_accounts_repr(
    users: Users, memory_system: System
) -> None:
    issued = users.create(f.admin(), username="alice", role=Role.FINANCE, region_code="22")
    users.enroll_totp(f.admin(), "alice")
    account = users.get("alice")
    assert account.totp_sealed is not None
    assert account.password_hash not in repr(account)
    assert account.totp_sealed not in repr(account)
    events = [
        memory_system.ledger.store.mapper.to_domain_event(n)
        for n in memory_system.ledger.store.recorder.select_notifications(1, 10_000)
    ]
    mine = [e for e in events if e.originator_id == account.id]
    assert {type(e).__qualname__ for e in mine} >= {
        "UserAccount.Created",
        "UserAccount.TotpEnrolled",
    }
    for event in mine:
        for shown in (public_payload(event), identified_fields(vars(event))):
            text = repr(shown)
            assert "password_hash" not in text
            assert "totp_sealed" not in text
            assert "$argon2id$" not in text
            assert issued.password not in text


def test_no_api_client_may_take_the_console_name_its_users_act_under(
    memory_system: System,
) -> None:
    """A gateway named ``console`` could name console users in X-Actor-Id (CLIENT-NAME)."""
    for name in ("console", "Console"):
        with pytest.raises(InvalidInputError, match=r"CLIENT-NAME.*reserved"):
            memory_system.clients.create(
                f.admin(), name=name, role=Role.FINANCE, region_code="22", gateway=True
            )


def test_a_password_hashed_with_older_parameters_is_rehashed_at_sign_in(
    users: Users, memory_system: System, clock: Clock
) -> None:
    """The argon2id parameters can be raised: each password moves to them at its next use."""
    issued = users.create(f.admin(), username="alice", role=Role.FINANCE, region_code="22")
    ledger = memory_system.ledger
    current = Users(ledger.store, ledger.keys, UserLimits(), now=clock)  # default parameters
    signed = current.sign_in("alice", issued.password, request_id="r1")
    assert "$m=65536," in signed.user.password_hash
    assert current.session(signed.token) is not None
    again = current.sign_in("alice", issued.password, request_id="r2")
    assert again.user.password_hash == signed.user.password_hash  # not rehashed twice


def test_only_an_initial_password_may_be_changed_without_giving_it_again(users: Users) -> None:
    issued = users.create(f.admin(), username="alice", role=Role.FINANCE, region_code="22")
    signed = users.sign_in("alice", issued.password, request_id="r1")
    with pytest.raises(PasswordPolicyError, match="USER-PASSWORD-POLICY"):
        users.change_password(signed.token, current=None, new=issued.password)

    users.change_password(signed.token, current=None, new="my own long passphrase")

    assert not users.get("alice").must_change_password
    with pytest.raises(CredentialsError, match="USER-CREDENTIALS"):
        users.change_password(signed.token, current=None, new="yet another passphrase")
