r"""Head digests: the chain's head (position and hash), optionally signed with Ed25519.

An inspector keeps a digest outside the system; later, ``disburse audit verify
--from-digest FILE`` proves the current log still holds exactly that history. A signed
digest also proves which installation issued it: the signature covers
``"{algorithm}\\n{position}\\n{hash}\\n{taken_at}"`` under the key whose public half is
in the digest (pin it with ``--public-key``: anyone can sign with a key of their own).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from disburse.persistence.chain import ALGORITHM, GENESIS
from disburse.settings import ConfigurationError

if TYPE_CHECKING:
    from disburse.persistence.recorders import ChainedRecorder
    from disburse.settings import Settings

SEED_BYTES = 32
_HEX64 = re.compile(r"[0-9a-f]{64}")


class DigestError(ValueError):
    """A digest that cannot be read or whose signature does not hold."""


@dataclass(frozen=True)
class Digest:
    """The chain's head at one moment."""

    position: int
    hash: str
    taken_at: str
    algorithm: str = ALGORITHM
    signature: str | None = None  # base64 Ed25519 signature of ``message``
    public_key: str | None = None  # base64 raw Ed25519 public key

    @property
    def message(self) -> bytes:
        """What the signature covers."""
        return f"{self.algorithm}\n{self.position}\n{self.hash}\n{self.taken_at}".encode()

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (the digest file's content)."""
        return asdict(self)

    def to_json(self) -> str:
        """The digest file's text."""
        return json.dumps(self.as_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Digest:
        """Read a digest file; ``DigestError`` says what is wrong with it."""
        try:
            data = json.loads(text)
            position, hash_ = data["position"], data["hash"]
            signature, public_key = data.get("signature"), data.get("public_key")
            digest = cls(
                position=position,
                hash=hash_,
                taken_at=str(data["taken_at"]),
                algorithm=str(data.get("algorithm", ALGORITHM)),
                signature=signature,
                public_key=public_key,
            )
        except (ValueError, KeyError, TypeError) as error:
            raise DigestError(f"not a disburse digest: {error}") from None
        if digest.algorithm != ALGORITHM:
            raise DigestError(f"unknown chain algorithm {digest.algorithm!r} (want {ALGORITHM})")
        if type(position) is not int or position < 0:
            raise DigestError("a digest names a position: a whole number >= 0")
        if not isinstance(hash_, str) or not _HEX64.fullmatch(hash_):
            raise DigestError("a digest names a hash: 64 lower-case hex digits")
        if not all(v is None or isinstance(v, str) for v in (signature, public_key)):
            raise DigestError("a digest's signature and public key are base64 text")
        return digest

    def check_signature(self, pinned_public_key: str | None = None) -> bool:
        """Whether the digest is signed (False if not); ``DigestError`` if the signature fails.

        With ``pinned_public_key``, the digest must be signed by that key.
        """
        if self.signature is None or self.public_key is None:
            if pinned_public_key is not None:
                raise DigestError("the digest is not signed, but a public key was given")
            return False
        if pinned_public_key is not None and pinned_public_key.strip() != self.public_key:
            raise DigestError("the digest was signed by another key than the one given")
        try:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key))
            key.verify(base64.b64decode(self.signature), self.message)
        except (InvalidSignature, ValueError, binascii.Error):
            raise DigestError("the digest's signature does not verify: it was altered") from None
        return True


class Signer:
    """Signs digests with an Ed25519 key (base64 of its 32-byte seed)."""

    def __init__(self, seed_b64: str) -> None:
        try:
            seed = base64.b64decode(seed_b64.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise DigestError("the signing key is not base64") from None
        if len(seed) != SEED_BYTES:
            raise DigestError(f"the signing key must decode to {SEED_BYTES} bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)

    @property
    def public_key(self) -> str:
        """Base64 raw public key: what inspectors pin."""
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    def sign(self, digest: Digest) -> Digest:
        """The digest with its signature and public key."""
        unsigned = Digest(digest.position, digest.hash, digest.taken_at, digest.algorithm)
        signature = base64.b64encode(self._key.sign(unsigned.message)).decode()
        return Digest(
            digest.position,
            digest.hash,
            digest.taken_at,
            digest.algorithm,
            signature=signature,
            public_key=self.public_key,
        )


def generate_signing_key() -> str:
    """A new Ed25519 seed, base64: for ``DISBURSE_AUDIT_SIGNING_KEY``."""
    raw = Ed25519PrivateKey.generate().private_bytes_raw()
    return base64.b64encode(raw).decode()


def take_digest(recorder: ChainedRecorder, signer: Signer | None = None) -> Digest:
    """The current head (position 0 and the genesis hash for an empty store)."""
    head = recorder.chain_head()
    digest = Digest(
        position=head.position if head else 0,
        hash=head.hash if head else GENESIS,
        taken_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return signer.sign(digest) if signer else digest


def publish_digest(recorder: ChainedRecorder, signer: Signer | None = None) -> Digest | None:
    """Append the current head to the store's digest log; None if the store is empty."""
    digest = take_digest(recorder, signer)
    if digest.position == 0:
        return None
    recorder.append_digest(
        digest.position, digest.hash, digest.taken_at, digest.signature, digest.public_key
    )
    return digest


def signer_for(settings: Settings) -> Signer | None:
    """The digest signer configured by ``DISBURSE_AUDIT_SIGNING_KEY``, if any."""
    key = settings.audit_signing_key
    if key is None:
        return None
    try:
        return Signer(key.get_secret_value())
    except DigestError as error:
        raise ConfigurationError(f"DISBURSE_AUDIT_SIGNING_KEY: {error}") from None
