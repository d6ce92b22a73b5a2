"""Console users: people who sign in with a username and password, each with a role and region.

Over 400 lines on purpose: the aggregates of one account's life and their rules, kept
apart so that what the console reads on every request stays small:

- :class:`UserAccount` holds what an administrator decides (role, region, disabled) and the
  credentials (argon2id hash, sealed TOTP secret, lockout). Its history grows with
  administrative acts, password changes and lockouts only, never with sign-ins.
- :class:`ConsoleSession` is one sign-in: opened, touched while in use, closed.
- :class:`SignInFailures` counts one run of failed attempts on an account, so failures never
  land on the account itself; a new run starts whenever the account changes (a lockout ends
  one run, so an attacker's attempts spread over many small aggregates).
- :class:`CodeUse` records a one-time code accepted at a sign-in, so each code works once.

None of these events holds a password: only its argon2id hash (``password_hash``) and the
TOTP secret sealed under a key derived from the ledger's secret (``totp_sealed``). Both
field names are dropped from every view (see :mod:`disburse.readside.redact`).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.access.client import CLIENT_ROLES, MANAGERS
from disburse.domain.errors import (
    ConflictError,
    InvalidInputError,
    RuleViolationError,
)
from disburse.domain.meta import Meta, Role
from disburse.domain.regions import check_region_scope

USER_NAMESPACE = uuid.UUID("6a0f3e52-94c1-4b7d-8f2e-1d5c7a9b3e40")
USER_DIRECTORY_ID = uuid.UUID("0c2b7d94-5e1a-4f36-9b8c-3a7e6d1f2c58")
#: The client every console user acts through; actor ids are ``console/<username>``.
CONSOLE = "console"
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 256


class CredentialsError(RuleViolationError):
    """USER-CREDENTIALS: unknown user, wrong password or code, or a disabled account.

    One rule and one message for all of them, so the answer never tells whether an
    account exists.
    """

    def __init__(self) -> None:
        super().__init__("USER-CREDENTIALS", "the username, password or code is not right")


class LockedError(RuleViolationError):
    """USER-LOCKED: too many failed attempts; no sign-in until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__(
            "USER-LOCKED",
            "too many failed sign-ins: the account is locked until "
            f"{until.isoformat(timespec='seconds')}",
        )
        self.until = until


class PasswordPolicyError(InvalidInputError):
    """USER-PASSWORD-POLICY: a new password is too short, too long, or not new."""

    def __init__(self, message: str) -> None:
        super().__init__("USER-PASSWORD-POLICY", message, "new_password")


class SessionError(RuleViolationError):
    """USER-SESSION: the session is unknown, signed out, expired or its user disabled."""

    def __init__(self) -> None:
        super().__init__("USER-SESSION", "the session has ended: sign in again")


def user_id_for(username: str) -> UUID:
    """One account per username, whoever creates it: two creates at once cannot both win."""
    return uuid.uuid5(USER_NAMESPACE, username)


def actor_of(username: str) -> str:
    """The actor id of a console user's commands."""
    return f"{CONSOLE}/{username}"


def check_username(username: str) -> str:
    """3-32 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter."""
    if not _USERNAME.fullmatch(username):
        raise InvalidInputError(
            "USER-NAME",
            "a username is 3-32 lower-case letters, digits, '.', '_' or '-', starting with "
            "a letter",
            "username",
        )
    return username


def check_new_password(password: str, *, username: str) -> None:
    """At least 12 characters (at most 256), and not the username."""
    if len(password) < MIN_PASSWORD:
        raise PasswordPolicyError(f"a password has at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise PasswordPolicyError(f"a password has at most {MAX_PASSWORD} characters")
    if password.strip().casefold() == username.casefold():
        raise PasswordPolicyError("a password is not the username")


def _require_manager(meta: Meta, username: str | None = None) -> None:
    """Only an admin (or the ledger itself; or, where named, the user) manages accounts."""
    if meta.role in MANAGERS:
        return
    if username is not None and meta.gateway and meta.actor_id == actor_of(username):
        return
    raise RuleViolationError(
        "USER-ADMIN", f"only an admin manages user accounts, not {meta.role.value}", "role"
    )


def _require_reason(meta: Meta, what: str) -> None:
    if not (meta.reason or "").strip():
        raise InvalidInputError("USER-REASON", f"say why the account is {what}", "reason")


class UserAccount(Aggregate):
    """A person who signs in to the console: role, region, credentials, state."""

    class Created(Aggregate.Created):
        """An administrator created the account with an initial password (hash only)."""

        username: str
        role: Role
        region_code: str
        password_hash: str
        meta: Meta

    @staticmethod
    def create_id(username: str) -> UUID:
        """Derived from the username."""
        return user_id_for(username)

    @event(Created)
    def __init__(
        self, *, username: str, role: Role, region_code: str, password_hash: str, meta: Meta
    ) -> None:
        self.username = username
        self.role = Role(role)
        self.region_code = region_code
        self.password_hash = password_hash
        self.created_by = meta.actor_id
        self.must_change_password = True
        self.disabled = False
        self.totp_sealed: str | None = None
        self.locked_until: datetime | None = None
        #: Raised whenever the password is set: sessions opened before end.
        self.generation = 0

    @classmethod
    def create(
        cls, *, username: str, role: Role, region_code: str, password_hash: str, meta: Meta
    ) -> UserAccount:
        """A new account; only an admin (or the ledger itself) creates one."""
        _require_manager(meta)
        try:
            role = Role(role)
        except ValueError:
            raise InvalidInputError(
                "USER-ROLE", f"unknown role {role!r}: use {_roles()}", "role"
            ) from None
        if role not in CLIENT_ROLES:
            raise InvalidInputError("USER-ROLE", f"a user's role is one of {_roles()}", "role")
        if region_code == "":
            raise InvalidInputError(
                "REGION-CODE", "a user is scoped to a 2-, 4- or 6-digit region", "region"
            )
        check_region_scope(region_code, "region")
        return cls(
            username=check_username(username),
            role=role,
            region_code=region_code,
            password_hash=password_hash,
            meta=meta,
        )

    def __repr__(self) -> str:
        """Without the credentials, so a log line or traceback never holds them."""
        return (
            f"UserAccount(id={self.id!r}, version={self.version}, username={self.username!r}, "
            f"role={self.role.value!r}, region_code={self.region_code!r}, "
            f"disabled={self.disabled}, must_change_password={self.must_change_password}, "
            f"totp_enabled={self.totp_enabled}, locked_until={self.locked_until!r})"
        )

    @property
    def totp_enabled(self) -> bool:
        """Whether signing in needs a TOTP code as well."""
        return self.totp_sealed is not None

    def locked_at(self, now: datetime) -> datetime | None:
        """Until when the account is locked, if it is at ``now``."""
        until = self.locked_until
        return until if until is not None and now < until else None

    def check_live(self) -> None:
        """An administrator may not act on a disabled account (USER-DISABLED)."""
        if self.disabled:
            raise ConflictError("USER-DISABLED", f"user {self.username} is disabled")

    def disable(self, *, meta: Meta) -> None:
        """No more sign-ins; every session of the user ends at once."""
        _require_manager(meta)
        self.check_live()
        _require_reason(meta, "disabled")
        self._disabled(meta=meta)

    @event("Disabled")
    def _disabled(self, *, meta: Meta) -> None:
        self.disabled = True

    def reset(self, *, password_hash: str, meta: Meta) -> None:
        """A new initial password: it must be changed, the lock is lifted, sessions end."""
        _require_manager(meta)
        self.check_live()
        _require_reason(meta, "reset")
        self._reset(password_hash=password_hash, meta=meta)

    @event("PasswordReset")
    def _reset(self, *, password_hash: str, meta: Meta) -> None:
        self.password_hash = password_hash
        self.must_change_password = True
        self.locked_until = None
        self.generation += 1

    def change_password(self, *, password_hash: str, meta: Meta) -> None:
        """The user chose a new password (checked against the policy by the caller)."""
        self.check_live()
        self._password_changed(password_hash=password_hash, meta=meta)

    @event("PasswordChanged")
    def _password_changed(self, *, password_hash: str, meta: Meta) -> None:
        self.password_hash = password_hash
        self.must_change_password = False
        self.generation += 1

    def rehash(self, *, password_hash: str, meta: Meta) -> None:
        """The same password hashed with the hasher's current parameters (at a sign-in)."""
        self._rehashed(password_hash=password_hash, meta=meta)

    @event("PasswordRehashed")
    def _rehashed(self, *, password_hash: str, meta: Meta) -> None:
        self.password_hash = password_hash

    def enroll_totp(self, *, totp_sealed: str, meta: Meta) -> None:
        """From now on a sign-in needs a code from this secret (a new one replaces the old)."""
        _require_manager(meta, self.username)
        self.check_live()
        self._totp_enrolled(totp_sealed=totp_sealed, meta=meta)

    @event("TotpEnrolled")
    def _totp_enrolled(self, *, totp_sealed: str, meta: Meta) -> None:
        self.totp_sealed = totp_sealed

    def lock_out(self, *, until: datetime, failures: int, meta: Meta) -> None:
        """Too many failures in a row: no sign-in until ``until``."""
        self._locked_out(until=until, failures=failures, meta=meta)

    @event("LockedOut")
    def _locked_out(self, *, until: datetime, failures: int, meta: Meta) -> None:
        self.locked_until = until


class UserDirectory(Aggregate):
    """The usernames in creation order, so accounts can be listed."""

    @staticmethod
    def create_id() -> UUID:
        """There is one directory."""
        return USER_DIRECTORY_ID

    @event("Opened")
    def __init__(self, *, meta: Meta) -> None:
        self.users: dict[str, str] = {}

    def add(self, *, user_id: UUID, username: str, meta: Meta) -> None:
        """List a new account."""
        if username in self.users.values():
            raise ConflictError("USER-EXISTS", f"a user named {username} exists", "username")
        self._added(user_id=user_id, username=username, meta=meta)

    @event("Added")
    def _added(self, *, user_id: UUID, username: str, meta: Meta) -> None:
        self.users[str(user_id)] = username


class SignInFailures(Aggregate):
    """One run of failed sign-ins on an account, until a sign-in succeeds or it changes."""

    @staticmethod
    def create_id(user_id: UUID, account_version: int) -> UUID:
        """One run per account version: a lockout (or any change) starts a new run."""
        return uuid.uuid5(user_id, f"failures/{account_version}")

    @event("Started")
    def __init__(self, *, user_id: UUID, account_version: int, meta: Meta) -> None:
        self.user_id = user_id
        self.count = 0

    def fail(self, *, at: datetime, factor: str, meta: Meta) -> int:
        """One more failed attempt (``factor``: what was wrong); the failures in a row."""
        self._failed(user_id=self.user_id, at=at, factor=factor, meta=meta)
        return self.count

    @event("Failed")
    def _failed(self, *, user_id: UUID, at: datetime, factor: str, meta: Meta) -> None:
        self.count += 1

    def clear(self, *, meta: Meta) -> None:
        """A sign-in succeeded: the failures before it no longer count."""
        if self.count:
            self._cleared(user_id=self.user_id, meta=meta)

    @event("Cleared")
    def _cleared(self, *, user_id: UUID, meta: Meta) -> None:
        self.count = 0


class CodeUse(Aggregate):
    """A one-time code accepted at a sign-in: each code is accepted once.

    Its id is the account and the code's time step, so a code seen (or captured) is worth
    nothing again.
    """

    @staticmethod
    def id_for(user_id: UUID, step: int) -> UUID:
        """The id of a code's use: one per account and time step."""
        return uuid.uuid5(user_id, f"totp-step:{step}")

    @event("Accepted")
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002 - the library's name for an id the caller chooses
        user_id: UUID,
        step: int,
        meta: Meta,
    ) -> None:
        self.user_id = user_id
        self.step = step


class ConsoleSession(Aggregate):
    """One sign-in. Its id is a keyed hash of the cookie's token, which is never stored."""

    @event("Opened")
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002 - the library's name for an id the caller chooses
        user_id: UUID,
        username: str,
        generation: int,
        at: datetime,
        client: str,
        meta: Meta,
    ) -> None:
        self.user_id = user_id
        self.username = username
        self.generation = generation
        self.opened_at = at
        self.seen_at = at
        self.closed = False

    def touch(self, *, at: datetime, meta: Meta) -> None:
        """Still in use at ``at`` (the idle timer starts again).

        It names no user (``user_id``): a long session's touches stay in the session's own
        trail, out of the user's. Opening, renewing and closing name the user.
        """
        self._touched(at=at, meta=meta)

    @event("Touched")
    def _touched(self, *, at: datetime, meta: Meta) -> None:
        self.seen_at = at

    def renew(self, *, generation: int, at: datetime, meta: Meta) -> None:
        """The user changed the password in this session: it stays open, others end."""
        self._renewed(user_id=self.user_id, generation=generation, at=at, meta=meta)

    @event("Renewed")
    def _renewed(self, *, user_id: UUID, generation: int, at: datetime, meta: Meta) -> None:
        self.generation = generation
        self.seen_at = at

    def close(self, *, at: datetime, meta: Meta) -> None:
        """Signed out."""
        if self.closed:
            return
        self._closed(user_id=self.user_id, at=at, meta=meta)

    @event("Closed")
    def _closed(self, *, user_id: UUID, at: datetime, meta: Meta) -> None:
        self.closed = True


def _roles() -> str:
    return ", ".join(sorted(r.value for r in CLIENT_ROLES))
