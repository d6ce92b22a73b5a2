"""Console users: accounts managed by administrators, sign-in, sessions, password changes.

Over 400 lines: sign-in, the session check every console request makes, and the
administrative commands share one set of rules about time, failures and who acts
(see :mod:`disburse.access.user` for the aggregates); splitting them would spread the
lockout and session rules over several modules.

Passwords are hashed with argon2id outside any transaction (hashing takes a sizeable
fraction of a second by design, and a transaction of grouped requests must not wait for
it); only the hash is recorded. Sessions live in the store, so every API process (``serve
--workers N``) on either backend sees the same ones. The clock is injected: the idle
timer and the lockout are decided on times this service records in the events, never
on the store's own timestamps.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from disburse.access import totp as codes
from disburse.access.context import Context
from disburse.access.user import (
    CONSOLE,
    MAX_PASSWORD,
    CodeUse,
    ConsoleSession,
    CredentialsError,
    LockedError,
    PasswordPolicyError,
    SessionError,
    SignInFailures,
    UserAccount,
    UserDirectory,
    actor_of,
    check_new_password,
    check_username,
    user_id_for,
)
from disburse.domain.errors import ConflictError, InvalidInputError, NotFoundError
from disburse.domain.meta import Meta, Role
from disburse.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from disburse.persistence.batching import Changes
    from disburse.persistence.keys import KeyRing
    from disburse.persistence.store import LedgerStore

#: Characters of generated passwords: no look-alikes (0/O, 1/l/I) for reading them out.
_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_GENERATED_LENGTH = 20
#: Shortest token worth looking up (``token_urlsafe(32)`` gives 43 characters).
_MIN_TOKEN = 43
_MAX_TOKEN = 256


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class UserLimits:
    """How long sessions last, and how failures lock an account."""

    idle: timedelta = timedelta(minutes=30)
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    #: A session ends this long after sign-in however busy (bounds its history too).
    lifetime: timedelta = timedelta(hours=12)
    #: The idle timer is written at most this often per session.
    touch_every: timedelta = timedelta(minutes=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> UserLimits:
        """The limits the ``DISBURSE_CONSOLE_*`` settings set."""
        return cls(
            idle=timedelta(minutes=settings.console_idle_minutes),
            max_failures=settings.console_max_failures,
            lockout=timedelta(minutes=settings.console_lockout_minutes),
            lifetime=timedelta(hours=settings.console_session_hours),
        )


@dataclass(frozen=True)
class IssuedPassword:
    """An account and its new password, shown once: only its hash is stored."""

    user: UserAccount
    password: str


@dataclass(frozen=True)
class SignedIn:
    """A new session: ``token`` is the cookie's value; only a keyed hash of it is stored."""

    token: str
    user: UserAccount
    must_change_password: bool


@dataclass(frozen=True)
class ActiveSession:
    """A live session: its user, and the CSRF token every form of the session carries."""

    session_id: UUID
    user: UserAccount
    csrf_token: str
    must_change_password: bool


def context_of(user: UserAccount, request_id: str) -> Context:
    """The context of a signed-in user's commands: ``console/<username>``, a principal alone.

    The console vouches for the user (it checked the password), as a gateway vouches for
    its users: separation of duties tells two console users apart.
    """
    return Context(
        actor_id=actor_of(user.username),
        role=user.role,
        client_id=CONSOLE,
        request_id=request_id,
        gateway=True,
    )


def generate_password() -> str:
    """A random initial password (20 characters, about 116 bits)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(_GENERATED_LENGTH))


class Users:
    """Console user accounts and their sessions."""

    #: A hash per set of hasher parameters, checked for unknown users (same time taken).
    _dummy_hashes: ClassVar[dict[tuple[int, int, int], str]] = {}

    def __init__(
        self,
        store: LedgerStore,
        keys: KeyRing,
        limits: Settings | UserLimits,
        *,
        now: Callable[[], datetime] = utc_now,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._store = store
        self._keys = keys
        self._limits = (
            limits if isinstance(limits, UserLimits) else UserLimits.from_settings(limits)
        )
        self._now = now
        #: argon2id with the library's default (RFC 9106 "low memory") parameters, or the
        #: costs the settings give (``DISBURSE_PASSWORD_HASH_*``).
        if hasher is None and isinstance(limits, Settings):
            hasher = PasswordHasher(
                time_cost=limits.password_hash_time_cost,
                memory_cost=limits.password_hash_memory_kib,
            )
        self._hasher = hasher or PasswordHasher()

    # -- administration -------------------------------------------------------------

    def create(
        self, ctx: Context, *, username: str, role: Role, region_code: str
    ) -> IssuedPassword:
        """A new account with a generated initial password, to be changed at first sign-in."""
        check_username(username)
        password = generate_password()
        password_hash = self._hasher.hash(password)

        def decide(changes: Changes) -> UserAccount:
            if self._store.find(UserAccount, user_id_for(username)) is not None:
                raise ConflictError("USER-EXISTS", f"a user named {username} exists", "username")
            directory = self._store.find(UserDirectory, UserDirectory.create_id())
            if directory is None:
                directory = UserDirectory(meta=ctx.meta())
            account = UserAccount.create(
                username=username,
                role=role,
                region_code=region_code,
                password_hash=password_hash,
                meta=ctx.meta(),
            )
            directory.add(user_id=account.id, username=username, meta=ctx.meta())
            changes.add(account, directory)
            return account

        return IssuedPassword(self._store.transact(decide), password)

    def list(self) -> list[UserAccount]:
        """Every account ever created (disabled ones included), in creation order."""
        directory = self._store.read(UserDirectory, UserDirectory.create_id())
        if directory is None:
            return []
        return [self._store.load(UserAccount, UUID(u), "user") for u in directory.users]

    def get(self, username: str) -> UserAccount:
        """The account, or ``NotFoundError`` (USER-NOT-FOUND)."""
        found = self._find(username)
        if found is None:
            raise NotFoundError("USER-NOT-FOUND", f"no user {username}", "username")
        return found

    def disable(self, ctx: Context, username: str, *, reason: str) -> UserAccount:
        """No more sign-ins; every session of the user ends at once (checked per request)."""
        return self._update(username, lambda a: a.disable(meta=ctx.meta(reason)))

    def reset(self, ctx: Context, username: str, *, reason: str) -> IssuedPassword:
        """A new initial password (to be changed); unlocks the account and ends its sessions."""
        self.get(username)
        password = generate_password()
        password_hash = self._hasher.hash(password)
        account = self._update(
            username, lambda a: a.reset(password_hash=password_hash, meta=ctx.meta(reason))
        )
        return IssuedPassword(account, password)

    def enroll_totp(self, ctx: Context, username: str) -> str:
        """A new TOTP secret for the account: the ``otpauth://`` URI, shown once.

        From now on signing in needs a code from it. An admin, or the user, enrols.
        """
        secret = codes.new_secret()
        user_id = user_id_for(check_username(username))
        sealed = codes.seal(self._keys.totp_key, user_id, secret)
        self._update(username, lambda a: a.enroll_totp(totp_sealed=sealed, meta=ctx.meta()))
        return codes.provisioning_uri(secret, username)

    # -- signing in ---------------------------------------------------------------

    def sign_in(
        self,
        username: str,
        password: str,
        *,
        totp: str | None = None,
        request_id: str,
        client: str = CONSOLE,
    ) -> SignedIn:
        """A new session, or ``CredentialsError`` (USER-CREDENTIALS) / ``LockedError``.

        Unknown user, wrong password, wrong or missing code and a disabled account are
        refused alike; the failure is recorded on a known account, and the account is
        locked after ``max_failures`` in a row. A locked account is refused before its
        password is checked, and that refusal is not recorded (nothing to learn from it,
        and an attacker could otherwise write to the store without limit).
        """
        now = self._now()
        account = self._find(username, copy=False)
        if account is None:
            self._waste_time(password)
            raise CredentialsError
        until = account.locked_at(now)
        if until is not None:
            raise LockedError(until)
        factor = self._wrong_factor(account, password, totp, now)
        if factor is not None:
            self._fail(account, factor, now, request_id=request_id, client=client)
            raise CredentialsError
        token = secrets.token_urlsafe(32)
        meta = _user_meta(account, request_id, client=client)
        # Hashed with older parameters: hash again now that the password is known.
        rehashed = (
            self._hasher.hash(password)
            if self._hasher.check_needs_rehash(account.password_hash)
            else None
        )

        def decide(changes: Changes) -> UserAccount:
            fresh = self._store.load(UserAccount, account.id, "user")
            locked = fresh.locked_at(now)
            if locked is not None:
                raise LockedError(locked)
            if fresh.password_hash != account.password_hash or fresh.disabled:
                raise CredentialsError  # changed since it was checked: check again
            failures = self._store.find(SignInFailures, _run_of(fresh))
            if failures is not None:
                failures.clear(meta=meta)
                changes.add(failures)
            if rehashed is not None:
                fresh.rehash(password_hash=rehashed, meta=meta)
                changes.add(fresh)
            if fresh.totp_sealed is not None:
                changes.add(self._spend_code(fresh, totp, now, meta))
            session = ConsoleSession(
                id=self._session_key(token),
                user_id=fresh.id,
                username=fresh.username,
                generation=fresh.generation,
                at=now,
                client=client,
                meta=meta,
            )
            changes.add(session)
            return fresh

        signed_in = self._store.transact(decide)
        return SignedIn(token, signed_in, signed_in.must_change_password)

    def session(self, token: str, *, request_id: str | None = None) -> ActiveSession | None:
        """The live session of this token, or None; a call refreshes its idle timer.

        None when the token is unknown or signed out, idle longer than the idle limit, older
        than the session lifetime, its user disabled, or the password set since sign-in.
        Costs two reads of small aggregates and, at most once a minute, one write
        (``ConsoleSession.Touched``, recorded with ``request_id`` if given). The idle time
        counts from that write, so a session may end up to a minute before the idle limit
        has passed since its last request.
        """
        session_id = self._session_id(token)
        if session_id is None:
            return None
        session = self._store.read(ConsoleSession, session_id)
        if session is None or session.closed:
            return None
        now = self._now()
        limits = self._limits
        if now - session.seen_at > limits.idle or now - session.opened_at > limits.lifetime:
            return None
        account = self._store.read(UserAccount, session.user_id)
        if account is None or account.disabled or account.generation != session.generation:
            return None
        if now - session.seen_at >= limits.touch_every:
            self._touch(session_id, account, now, request_id or str(uuid.uuid4()))
        return ActiveSession(
            session_id=session_id,
            user=account,
            csrf_token=self._keys.csrf_token(token),
            must_change_password=account.must_change_password,
        )

    def change_password(
        self, token: str, *, current: str | None, new: str, request_id: str | None = None
    ) -> None:
        """The signed-in user sets a new password; their other sessions end.

        ``current`` may be left out (None) only while the account must change an initial
        or reset password: the session was opened with that password moments before.
        ``SessionError`` (USER-SESSION) without a live session; ``PasswordPolicyError``
        (USER-PASSWORD-POLICY) for a new password that breaks the policy or equals the
        current one; ``CredentialsError`` for a wrong or missing current password, which
        counts as a failed attempt.
        """
        request_id = request_id or str(uuid.uuid4())
        active = self.session(token, request_id=request_id)
        if active is None:
            raise SessionError
        account = active.user
        check_new_password(new, username=account.username)
        now = self._now()
        if current is None:
            if not active.must_change_password:
                raise CredentialsError
            if self._verify(account.password_hash, new):
                raise PasswordPolicyError("the new password is the current one: choose another")
        else:
            if new == current:
                raise PasswordPolicyError("the new password is the current one: choose another")
            if not self._verify(account.password_hash, current):
                self._fail(account, "password", now, request_id=request_id, client=CONSOLE)
                raise CredentialsError
        new_hash = self._hasher.hash(new)
        meta = _user_meta(account, request_id)

        def decide(changes: Changes) -> None:
            fresh = self._store.load(UserAccount, account.id, "user")
            if fresh.password_hash != account.password_hash:
                raise ConflictError(
                    "CONCURRENT-CHANGE", "the password was changed meanwhile: sign in again"
                )
            fresh.change_password(password_hash=new_hash, meta=meta)
            session = self._store.load(ConsoleSession, active.session_id, "session")
            session.renew(generation=fresh.generation, at=now, meta=meta)
            changes.add(fresh, session)

        self._store.transact(decide)

    def sign_out(self, token: str, *, request_id: str | None = None) -> None:
        """End the session (nothing happens for an unknown or ended one)."""
        session_id = self._session_id(token)
        if session_id is None:
            return
        now = self._now()

        def decide(changes: Changes) -> None:
            session = self._store.find(ConsoleSession, session_id)
            if session is None or session.closed:
                return
            account = self._store.load(UserAccount, session.user_id, "user")
            session.close(at=now, meta=_user_meta(account, request_id or str(uuid.uuid4())))
            changes.add(session)

        self._store.transact(decide)

    # -- helpers ----------------------------------------------------------------

    def _find(self, username: str, *, copy: bool = True) -> UserAccount | None:
        try:
            user_id = user_id_for(check_username(username))
        except InvalidInputError:
            return None
        if copy:
            return self._store.find(UserAccount, user_id)
        return self._store.read(UserAccount, user_id)

    def _update(self, username: str, command: Callable[[UserAccount], None]) -> UserAccount:
        self.get(username)

        def decide(changes: Changes) -> UserAccount:
            account = self._store.load(UserAccount, user_id_for(username), "user")
            command(account)
            changes.add(account)
            return account

        return self._store.transact(decide)

    def _verify(self, password_hash: str, password: str) -> bool:
        if len(password) > MAX_PASSWORD:
            return False  # no password is that long: not worth hashing
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _waste_time(self, password: str) -> None:
        """Take as long as checking a real password: an unknown name is not faster."""
        hasher = self._hasher
        params = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
        dummy = Users._dummy_hashes.get(params)
        if dummy is None:
            dummy = Users._dummy_hashes[params] = hasher.hash(generate_password())
        self._verify(dummy, password)

    def _spend_code(
        self, account: UserAccount, code: str | None, now: datetime, meta: Meta
    ) -> CodeUse:
        """The one-time code's use, recorded with the session: each code signs in once.

        ``CredentialsError`` if the code was used already (a second sign-in with it, even
        at the same moment, meets the first one's ``CodeUse`` and is refused).
        """
        secret = None
        if account.totp_sealed is not None and code:
            secret = codes.unseal(self._keys.totp_key, account.id, account.totp_sealed)
        step = None if secret is None or code is None else codes.step_of(secret, code, now)
        if step is None or self._store.find(CodeUse, CodeUse.id_for(account.id, step)):
            raise CredentialsError
        return CodeUse(
            id=CodeUse.id_for(account.id, step), user_id=account.id, step=step, meta=meta
        )

    def _wrong_factor(
        self, account: UserAccount, password: str, code: str | None, now: datetime
    ) -> str | None:
        """What is wrong (``password``, ``totp``, ``disabled``), or None to let them in."""
        if not self._verify(account.password_hash, password):
            return "password"
        if account.totp_sealed is not None:
            secret = codes.unseal(self._keys.totp_key, account.id, account.totp_sealed)
            step = codes.step_of(secret, code, now) if secret is not None and code else None
            if step is None or self._store.find(CodeUse, CodeUse.id_for(account.id, step)):
                return "totp"
        if account.disabled:
            return "disabled"
        return None

    def _fail(
        self, account: UserAccount, factor: str, now: datetime, *, request_id: str, client: str
    ) -> None:
        """Record a failed attempt; the last of ``max_failures`` in a row locks the account."""
        meta = _user_meta(account, request_id, client=client, vouched=False).because(
            "USER-CREDENTIALS", reason=f"sign-in refused: wrong {factor}"
        )
        limits = self._limits

        def decide(changes: Changes) -> None:
            fresh = self._store.load(UserAccount, account.id, "user")
            if fresh.locked_at(now) is not None:
                return  # locked meanwhile by a concurrent attempt
            run = _run_of(fresh)
            failures = self._store.find(SignInFailures, run)
            if failures is None:
                failures = SignInFailures(
                    user_id=fresh.id, account_version=fresh.version, meta=meta
                )
            count = failures.fail(at=now, factor=factor, meta=meta)
            changes.add(failures)
            if count >= limits.max_failures:
                fresh.lock_out(
                    until=now + limits.lockout,
                    failures=count,
                    meta=meta.because("USER-LOCKED", reason=f"{count} failed sign-ins in a row"),
                )
                changes.add(fresh)

        self._store.transact(decide)

    def _touch(
        self, session_id: UUID, account: UserAccount, now: datetime, request_id: str
    ) -> None:
        """Write the idle timer (at most once per ``touch_every``; a lost race is fine)."""
        limits = self._limits

        def decide(changes: Changes) -> None:
            session = self._store.find(ConsoleSession, session_id)
            if session is None or session.closed or now - session.seen_at < limits.touch_every:
                return
            session.touch(at=now, meta=_user_meta(account, request_id))
            changes.add(session)

        with contextlib.suppress(ConflictError):  # another request touched it just now
            self._store.transact(decide)

    def _session_id(self, token: str) -> UUID | None:
        """The id of the token's session; None for what no session's token can be."""
        if not _MIN_TOKEN <= len(token) <= _MAX_TOKEN or not token.isascii():
            return None
        return self._session_key(token)

    def _session_key(self, token: str) -> UUID:
        return UUID(bytes=self._keys.session_hash(token)[:16])


def _run_of(account: UserAccount) -> UUID:
    """The run of failures the account's current version counts."""
    return SignInFailures.create_id(account.id, account.version)


def _user_meta(
    account: UserAccount, request_id: str, *, client: str = CONSOLE, vouched: bool = True
) -> Meta:
    """The user as actor. ``vouched=False`` for a failed attempt: the name was only claimed."""
    return Meta(
        actor_id=actor_of(account.username),
        role=account.role,
        client_id=client,
        request_id=request_id,
        gateway=vouched,
    )
