"""Keys: the event cipher key, the keyed hashes and sealing keys, all derived from one secret."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.settings import ConfigurationError

if TYPE_CHECKING:
    from pathlib import Path

    from disburse.settings import Settings

SECRET_BYTES = 32


@dataclass(frozen=True)
class KeyRing:
    """Derived keys. The secret itself is never stored in events or logs."""

    secret: bytes

    def _derive(self, purpose: str) -> bytes:
        return hmac.new(self.secret, f"disburse/{purpose}/v1".encode(), hashlib.sha256).digest()

    @property
    def cipher_key(self) -> str:
        """Base64 AES-256 key for the library's ``AESCipher`` (encrypts stored events)."""
        return base64.b64encode(self._derive("event-cipher")).decode()

    @property
    def person_key_wrap(self) -> str:
        """Base64 AES-256 key that wraps the per-person keys personal data is sealed with."""
        return base64.b64encode(self._derive("person-key-wrap")).decode()

    @property
    def directory_key(self) -> bytes:
        """Key of the directory view: seals its names and resident IDs, hashes name prefixes."""
        return self._derive("directory")

    def resident_id_hash(self, resident_id: str) -> str:
        """Keyed hash used to match people without storing or indexing the raw ID."""
        return hmac.new(
            self._derive("resident-id"), resident_id.encode(), hashlib.sha256
        ).hexdigest()

    def api_key_hash(self, api_key: str) -> str:
        """Keyed hash of an API key: all the ledger keeps of a key."""
        return hmac.new(self._derive("api-key"), api_key.encode(), hashlib.sha256).hexdigest()

    def account_hash(self, account: str) -> str:
        """Keyed hash of a bank account: views match shared accounts without storing them."""
        return hmac.new(self._derive("bank-account"), account.encode(), hashlib.sha256).hexdigest()

    def session_hash(self, token: str) -> bytes:
        """Keyed hash of a console session's token: the session is stored under it."""
        return hmac.new(self._derive("console-session"), token.encode(), hashlib.sha256).digest()

    def csrf_token(self, token: str) -> str:
        """The CSRF token of a console session: derived from its token, stable while it lasts."""
        digest = hmac.new(self._derive("console-csrf"), token.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    @property
    def totp_key(self) -> bytes:
        """AES-256 key that seals console users' TOTP secrets inside their events."""
        return self._derive("totp-secret")

    @property
    def fingerprint(self) -> str:
        """Identifies the key (not secret): shown by ``disburse init`` to check backups."""
        return self._derive("fingerprint").hex()[:16]


def generate_secret() -> str:
    """A new secret, base64-encoded, suitable for ``DISBURSE_SECRET_KEY``."""
    return base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _decode(text: str, origin: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{origin} is not base64") from None
    if len(raw) != SECRET_BYTES:
        raise ConfigurationError(f"{origin} must decode to {SECRET_BYTES} bytes, not {len(raw)}")
    return raw


def _read_or_create(path: Path) -> bytes:
    """Read the key file, or create it (mode 0600) if it does not exist yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(generate_secret() + "\n")
    return _decode(path.read_text(), f"key file {path}")


def load_keys(settings: Settings) -> KeyRing:
    """The key ring for these settings.

    A configured ``DISBURSE_SECRET_KEY`` wins. Without one, production refuses to start;
    development keeps a generated key beside the database (``disburse.db.key``).
    """
    if settings.secret_key is not None:
        return KeyRing(_decode(settings.secret_key.get_secret_value(), "DISBURSE_SECRET_KEY"))
    if settings.env == "production":
        raise ConfigurationError(
            "DISBURSE_SECRET_KEY is required when DISBURSE_ENV=production "
            "(generate one with `disburse keys generate` and keep it in your secret store)"
        )
    store = settings.store
    path = settings.key_file or store.default_key_file()
    if path is None:
        return KeyRing(secrets.token_bytes(SECRET_BYTES))
    if not path.exists() and store.path is not None and store.path.exists():
        raise ConfigurationError(
            f"the store {store.describe()} exists but its key file {path} is missing: restore "
            "the key file from your backup, or set DISBURSE_SECRET_KEY to the store's key"
        )
    return KeyRing(_read_or_create(path))
