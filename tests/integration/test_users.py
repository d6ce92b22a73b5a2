"""Console users on SQLite and PostgreSQL: sign-in, lockout, sessions, reset, TOTP, audit.

The clock is injected: lockouts and idle timeouts pass without sleeping.
"""

from __future__ import annotations

import threading
import urllib.parse
from typing import TYPE_CHECKING

import pyotp
import pytest
from argon2 import PasswordHasher

from disburse.access.user import (
    CredentialsError,
    LockedError,
    PasswordPolicyError,
    SessionError,
    UserAccount,
)
from disburse.access.users import IssuedPassword, UserLimits, Users
from disburse.domain.errors import ConflictError
from disburse.domain.meta import Role
from tests import factories as f
from tests.unit.test_users import FAST, Clock

if TYPE_CHECKING:
    from disburse.bootstrap import System
    from tests.conftest import SystemFactory

NEW = "a new pass phrase 42"


@pytest.fixture
def clock() -> Clock:
    return Clock()


def users_of(system: System, clock: Clock, hasher: PasswordHasher = FAST) -> Users:
    ledger = system.ledger
    return Users(ledger.store, ledger.keys, UserLimits(), now=clock, hasher=hasher)


@pytest.fixture
def users(system: System, clock: Clock) -> Users:
    return users_of(system, clock)


@pytest.fixture
def alice(users: Users) -> IssuedPassword:
    return users.create(f.admin(), username="alice", role=Role.FINANCE, region_code="220221")


def _events(system: System) -> list[object]:
    store = system.ledger.store
    return [
        store.mapper.to_domain_event(n) for n in store.recorder.select_notifications(1, 100_000)
    ]


def _kinds(system: System, user: UserAccount) -> list[str]:
    """Event types that concern the user: theirs, their sessions', their failures'."""
    events = _events(system)
    theirs = {user.id} | {
        e.originator_id  # type: ignore[attr-defined]
        for e in events
        if getattr(e, "user_id", None) == user.id
    }
    return [type(e).__qualname__ for e in events if getattr(e, "originator_id", None) in theirs]


def test_a_password_is_stored_only_as_its_argon2id_hash(system: System, clock: Clock) -> None:
    """Raw stored events, and the same events decoded, never hold the password's text."""
    users = users_of(system, clock, PasswordHasher())  # the production parameters
    issued = users.create(f.admin(), username="alice", role=Role.FINANCE, region_code="220221")
    signed = users.sign_in("alice", issued.password, request_id="r1")
    users.change_password(signed.token, current=issued.password, new=NEW)
    reset = users.reset(f.admin(), "alice", reason="forgotten")
    with pytest.raises(CredentialsError) as refused:
        users.sign_in("alice", NEW + "!", request_id="r2")
    assert NEW not in str(refused.value)
    store = system.ledger.store
    secrets = [issued.password, NEW, NEW + "!", reset.password, signed.token]
    raw = store.recorder.select_notifications(1, 100_000)
    for notification in raw:
        for secret in secrets:
            assert secret.encode() not in notification.state
    hashes = []
    for event in _events(system):
        text = repr(vars(event))
        for secret in secrets:
            assert secret not in text
        if hasattr(event, "password_hash"):
            hashes.append(event.password_hash)
    assert len(hashes) == 3
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_a_session_is_found_by_its_token_in_another_process_and_ends_at_sign_out(
    system: System,
    users: Users,
    alice: IssuedPassword,
    open_system_at: SystemFactory,
    clock: Clock,
) -> None:
    signed = users.sign_in("alice", alice.password, request_id="r1")
    assert signed.must_change_password
    elsewhere = users_of(open_system_at(), clock)  # as another serve worker would
    active = elsewhere.session(signed.token)
    assert active is not None
    assert active.user.username == "alice"
    assert active.csrf_token == users.session(signed.token).csrf_token  # type: ignore[union-attr]
    elsewhere.sign_out(signed.token)
    assert users.session(signed.token) is None
    assert elsewhere.session(signed.token) is None
    users.sign_out(signed.token)  # twice: nothing more happens
    assert _kinds(system, alice.user).count("ConsoleSession.Closed") == 1


def test_failures_in_a_row_lock_the_account_even_against_the_right_password(
    system: System, users: Users, alice: IssuedPassword, clock: Clock
) -> None:
    """USER-LOCKED after 5 failures; the lock lifts after 15 minutes; failures are recorded."""
    for attempt in range(5):
        with pytest.raises(CredentialsError):
            users.sign_in("alice", f"wrong password {attempt}", request_id=f"r{attempt}")
        clock.advance(seconds=10)
    with pytest.raises(LockedError, match="USER-LOCKED") as locked:
        users.sign_in("alice", alice.password, request_id="r5")
    assert "until 2026-03-02T09:15:40" in locked.value.message
    assert users.get("alice").locked_until == locked.value.until
    clock.advance(minutes=14)
    with pytest.raises(LockedError):
        users.sign_in("alice", alice.password, request_id="r6")
    clock.advance(minutes=2)
    assert users.sign_in("alice", alice.password, request_id="r7").user.username == "alice"
    kinds = _kinds(system, alice.user)
    assert kinds.count("SignInFailures.Failed") == 5
    assert kinds.count("UserAccount.LockedOut") == 1
    assert kinds.count("ConsoleSession.Opened") == 1
    failed = [e for e in _events(system) if type(e).__qualname__ == "SignInFailures.Failed"]
    assert failed[0].meta.actor_id == "console/alice"  # type: ignore[attr-defined]
    assert failed[0].meta.request_id == "r0"  # type: ignore[attr-defined]
    assert failed[0].meta.rule_ids == ("USER-CREDENTIALS",)  # type: ignore[attr-defined]


def test_a_sign_in_clears_the_failures_before_it(users: Users, alice: IssuedPassword) -> None:
    for _ in range(2):
        for attempt in range(4):
            with pytest.raises(CredentialsError):
                users.sign_in("alice", f"wrong password {attempt}", request_id="r")
        users.sign_in("alice", alice.password, request_id="ok")
    assert users.get("alice").locked_until is None


def test_an_unknown_username_records_nothing(system: System, users: Users) -> None:
    before = len(_events(system))
    with pytest.raises(CredentialsError):
        users.sign_in("nobody", "some password 1", request_id="r")
    assert len(_events(system)) == before


def test_a_session_ends_after_the_idle_time_and_use_keeps_it_alive(
    users: Users, alice: IssuedPassword, clock: Clock
) -> None:
    signed = users.sign_in("alice", alice.password, request_id="r1")
    for _ in range(10):  # in use every 20 minutes for over 3 hours
        clock.advance(minutes=20)
        assert users.session(signed.token) is not None
    clock.advance(minutes=30, seconds=1)
    assert users.session(signed.token) is None
    assert users.session(signed.token) is None


def test_the_idle_timer_is_written_at_most_once_a_minute(
    system: System, users: Users, alice: IssuedPassword, clock: Clock
) -> None:
    signed = users.sign_in("alice", alice.password, request_id="r1")
    for _ in range(120):  # a request every 5 seconds for 10 minutes
        clock.advance(seconds=5)
        assert users.session(signed.token) is not None
    assert _kinds(system, alice.user).count("ConsoleSession.Touched") == 10


def test_a_session_ends_after_its_lifetime_however_busy(
    users: Users, alice: IssuedPassword, clock: Clock
) -> None:
    signed = users.sign_in("alice", alice.password, request_id="r1")
    for _ in range(12 * 4):
        clock.advance(minutes=15)
        assert users.session(signed.token) is not None
    clock.advance(minutes=1)
    assert users.session(signed.token) is None


def test_disabling_a_user_ends_every_session_at_once(
    users: Users, alice: IssuedPassword, open_system_at: SystemFactory, clock: Clock
) -> None:
    one = users.sign_in("alice", alice.password, request_id="r1")
    two = users.sign_in("alice", alice.password, request_id="r2")
    assert users.session(one.token) is not None
    users_of(open_system_at(), clock).disable(f.admin(), "alice", reason="left the bureau")
    assert users.session(one.token) is None
    assert users.session(two.token) is None
    with pytest.raises(CredentialsError):
        users.sign_in("alice", alice.password, request_id="r3")
    assert users.get("alice").disabled


def test_a_reset_gives_a_new_password_unlocks_and_ends_the_old_sessions(
    users: Users, alice: IssuedPassword
) -> None:
    old = users.sign_in("alice", alice.password, request_id="r1")
    for attempt in range(5):
        with pytest.raises(CredentialsError):
            users.sign_in("alice", f"wrong password {attempt}", request_id="r")
    reset = users.reset(f.admin(), "alice", reason="locked out, called the helpdesk")
    assert reset.password != alice.password
    assert reset.user.locked_until is None
    assert reset.user.must_change_password
    assert users.session(old.token) is None
    with pytest.raises(CredentialsError):
        users.sign_in("alice", alice.password, request_id="r2")
    signed = users.sign_in("alice", reset.password, request_id="r3")
    assert signed.must_change_password


def test_a_password_change_keeps_this_session_and_ends_the_others(
    users: Users, alice: IssuedPassword, open_system_at: SystemFactory, clock: Clock
) -> None:
    mine = users.sign_in("alice", alice.password, request_id="r1")
    other = users.sign_in("alice", alice.password, request_id="r2")
    with pytest.raises(PasswordPolicyError, match="USER-PASSWORD-POLICY"):
        users.change_password(mine.token, current=alice.password, new="too short")
    with pytest.raises(CredentialsError):
        users.change_password(mine.token, current="not the password", new=NEW)
    users.change_password(mine.token, current=alice.password, new=NEW)
    active = users_of(open_system_at(), clock).session(mine.token)
    assert active is not None
    assert not active.must_change_password
    assert users.session(other.token) is None
    with pytest.raises(CredentialsError):
        users.sign_in("alice", alice.password, request_id="r3")
    assert not users.sign_in("alice", NEW, request_id="r4").must_change_password
    users.sign_out(mine.token)
    with pytest.raises(SessionError, match="USER-SESSION"):
        users.change_password(mine.token, current=NEW, new=NEW + " again")


def test_after_totp_enrolment_a_sign_in_needs_a_valid_code(
    system: System, users: Users, alice: IssuedPassword, clock: Clock
) -> None:
    uri = users.enroll_totp(f.admin(), "alice")
    assert uri.startswith("otpauth://totp/")
    secret = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["secret"][0]
    code = pyotp.TOTP(secret)
    assert users.get("alice").totp_enabled
    with pytest.raises(CredentialsError):
        users.sign_in("alice", alice.password, request_id="r1")
    with pytest.raises(CredentialsError):
        users.sign_in("alice", alice.password, totp="000000x", request_id="r2")
    stale = code.at(clock.at.timestamp() - 120)
    with pytest.raises(CredentialsError):
        users.sign_in("alice", alice.password, totp=stale, request_id="r3")
    signed = users.sign_in("alice", alice.password, totp=code.at(clock.at), request_id="r4")
    assert users.session(signed.token) is not None
    for event in _events(system):
        assert secret not in repr(vars(event))
    factors = [
        e.factor  # type: ignore[attr-defined]
        for e in _events(system)
        if type(e).__qualname__ == "SignInFailures.Failed"
    ]
    assert factors == ["totp", "totp", "totp"]
    # the code is spent: used again, even at once, it signs nobody in
    with pytest.raises(CredentialsError):
        users.sign_in("alice", alice.password, totp=code.at(clock.at), request_id="r5")
    assert users.sign_in(
        "alice", alice.password, totp=code.at(clock.at.timestamp() + 30), request_id="r6"
    ).token


def test_two_creates_of_one_username_at_once_let_exactly_one_win(
    open_system_at: SystemFactory, clock: Clock
) -> None:
    systems = [open_system_at(), open_system_at()]
    barrier = threading.Barrier(2)
    won: list[IssuedPassword] = []
    lost: list[ConflictError] = []

    def create(system: System, role: Role) -> None:
        users = users_of(system, clock)
        barrier.wait()
        try:
            won.append(users.create(f.admin(), username="twin", role=role, region_code="22"))
        except ConflictError as error:
            lost.append(error)

    threads = [
        threading.Thread(target=create, args=(s, r))
        for s, r in zip(systems, [Role.FINANCE, Role.CLERK], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert [e.rule_id for e in lost] == ["USER-EXISTS"]
    listed = users_of(systems[0], clock).list()
    assert [(u.username, u.role) for u in listed] == [("twin", won[0].user.role)]
    assert users_of(systems[0], clock).sign_in("twin", won[0].password, request_id="r")


def test_the_audit_trail_of_a_user_shows_their_account_sign_ins_and_failures(
    system: System, users: Users, alice: IssuedPassword
) -> None:
    """Every event concerning the account is in its trail, without any credential."""
    signed = users.sign_in("alice", alice.password, request_id="req-in")
    with pytest.raises(CredentialsError):
        users.sign_in("alice", "wrong password 1", request_id="req-bad")
    users.sign_out(signed.token, request_id="req-out")
    users.enroll_totp(f.admin(), "alice")
    users.reset(f.admin(), "alice", reason="new phone")
    users.disable(f.admin(), "alice", reason="left the bureau")
    system.views.catch_up()
    trail = system.views.audit.trail(alice.user.id)
    kinds = [entry.event_type for entry in trail]
    assert kinds == [
        "UserAccount.Created",
        "UserDirectory.Added",
        "ConsoleSession.Opened",
        "SignInFailures.Started",
        "SignInFailures.Failed",
        "ConsoleSession.Closed",
        "UserAccount.TotpEnrolled",
        "UserAccount.PasswordReset",
        "UserAccount.Disabled",
    ]
    by_kind = {entry.event_type: entry for entry in trail}
    assert by_kind["ConsoleSession.Opened"].actor_id == "console/alice"
    assert by_kind["ConsoleSession.Opened"].request_id == "req-in"
    assert by_kind["SignInFailures.Failed"].request_id == "req-bad"
    assert by_kind["ConsoleSession.Closed"].request_id == "req-out"
    assert by_kind["UserAccount.Disabled"].reason == "left the bureau"
    assert {entry.region_code for entry in trail} == {"220221"}
    text = repr([entry.payload for entry in trail])
    for secret in ("password_hash", "totp_sealed", "$argon2id$", alice.password, signed.token):
        assert secret not in text
