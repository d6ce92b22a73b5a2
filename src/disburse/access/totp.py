"""TOTP second factor (RFC 6238, via pyotp): secrets sealed in events, codes checked.

A secret is stored only sealed (AES-256-GCM under a key derived from the ledger's secret,
bound to the account's id), so neither a copy of the events nor a view can show it.
"""

from __future__ import annotations

import base64
import hmac
import os
from datetime import datetime
from typing import TYPE_CHECKING

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from uuid import UUID

ISSUER = "disburse"
_NONCE = 12
#: Codes of the step before and after the current one are accepted (clock drift).
DRIFT_STEPS = 1


def new_secret() -> str:
    """A new random base32 secret (160 bits)."""
    return pyotp.random_base32(length=32)


def seal(key: bytes, user_id: UUID, secret: str) -> str:
    """The secret encrypted for this account: ``base64(nonce + ciphertext)``."""
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), user_id.bytes)
    return base64.b64encode(nonce + sealed).decode()


def unseal(key: bytes, user_id: UUID, sealed: str) -> str | None:
    """The secret, or None if it was not sealed with this key for this account."""
    raw = base64.b64decode(sealed)
    try:
        return AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], user_id.bytes).decode()
    except InvalidTag:
        return None


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (usually from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def step_of(secret: str, code: str, at: datetime) -> int | None:
    """The time step whose code ``code`` is, within one step of ``at``; None if none."""
    code = code.strip()
    if not (code.isascii() and code.isdigit()):
        return None
    generator = pyotp.TOTP(secret)
    now = generator.timecode(at)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(generator.generate_otp(step), code):
            return step
    return None
