"""Personal data sealed under one key per person, so that it can be erased by destroying the key.

Every stored event is encrypted with the store's key; on top of that, the identity fields
of a person's events (resident ID, its masked form, name, bank account) are sealed with
AES-256-GCM under a random key of that person's own. The person keys are kept wrapped
(encrypted with a key derived from the store's secret) in ``ledger_person_keys``, outside
the events and so outside the hash chain. Destroying a person's key (crypto-shredding)
leaves every event, every hash and every amount as it was, and the identity unreadable:
sealed fields then read as :data:`ERASED`.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, TypeGuard

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Mapper

from disburse.domain.errors import ConflictError
from disburse.domain.person import ERASED, IDENTITY_FIELDS

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

    from eventsourcing.domain import DomainEventProtocol
    from eventsourcing.persistence import StoredEvent

    from disburse.persistence.recorders import ChainedRecorder

_ENVELOPE: Final = "sealed_v1"
_NONCE_BYTES = 12
_KEY_BYTES = 32


def sealed_fields(event: object) -> tuple[str, ...]:
    """The fields of ``event`` that are sealed under its person's key."""
    cls = type(event)
    if not cls.__module__.startswith("disburse.domain."):
        return ()
    return IDENTITY_FIELDS.get(cls.__qualname__, ())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class PersonKeys:
    """Per-person data keys: created on first use, cached briefly, destroyed on erasure.

    Another process that read a key keeps it for at most ``cache_seconds`` after the key
    is destroyed; this process forgets it at once.
    """

    def __init__(
        self, recorder: ChainedRecorder, wrapping_key: bytes, cache_seconds: float = 60.0
    ) -> None:
        self._recorder = recorder
        self._wrap = AESGCM(wrapping_key)
        self._cache_seconds = cache_seconds
        self._cache: dict[UUID, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def for_reading(self, subject: UUID) -> bytes | None:
        """The person's key, or None if it was destroyed (or never made)."""
        cached = self._cached(subject)
        if cached is not None:
            return cached
        stored = self._recorder.person_key(subject)
        return self._remember(subject, stored) if isinstance(stored, bytes) else None

    def for_writing(self, subject: UUID) -> bytes:
        """The person's key, made now if it does not exist; refused once destroyed."""
        cached = self._cached(subject)
        if cached is not None:
            return cached
        stored = self._recorder.person_key(subject)
        if stored is None:
            self._recorder.add_person_key(subject, self._fresh(subject), _now())
            stored = self._recorder.person_key(subject)  # a racing writer's key wins
        if not isinstance(stored, bytes):
            raise ConflictError(
                "PERSON-ERASED", f"the identity of person {subject} was erased", "person_id"
            )
        return self._remember(subject, stored)

    def prepare(self, subjects: Iterable[UUID]) -> None:
        """Make the keys these people lack, all in one transaction (a bulk write's people).

        :meth:`for_writing` then finds every key: a chunk of new people costs one
        transaction for their keys, not one each. Keys destroyed stay destroyed.
        """
        missing = [
            subject
            for subject in dict.fromkeys(subjects)
            if self._cached(subject) is None and self._recorder.person_key(subject) is None
        ]
        if missing:
            self._recorder.add_person_keys(
                [(subject, self._fresh(subject), _now()) for subject in missing]
            )

    def _fresh(self, subject: UUID) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        fresh = AESGCM.generate_key(bit_length=_KEY_BYTES * 8)
        return nonce + self._wrap.encrypt(nonce, fresh, str(subject).encode())

    def _cached(self, subject: UUID) -> bytes | None:
        with self._lock:
            cached = self._cache.get(subject)
        return cached[0] if cached is not None and cached[1] > time.monotonic() else None

    def _remember(self, subject: UUID, wrapped: bytes) -> bytes:
        key = self._unwrap(subject, wrapped)
        with self._lock:
            if len(self._cache) > 100_000:  # noqa: PLR2004 - bound the cache, not the store
                self._cache.clear()
            self._cache[subject] = (key, time.monotonic() + self._cache_seconds)
        return key

    def destroy(self, subject: UUID) -> bool:
        """Destroy the person's key (irreversible); True if a live key was destroyed."""
        destroyed = self._recorder.destroy_person_key(subject, _now())
        with self._lock:
            self._cache.pop(subject, None)
        return destroyed

    def _unwrap(self, subject: UUID, wrapped: bytes) -> bytes:
        nonce, body = wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:]
        return self._wrap.decrypt(nonce, body, str(subject).encode())


def seal(key: bytes, subject: UUID, field: str, value: object) -> dict[str, str]:
    """``value`` (JSON-ready) encrypted under the person's key, bound to its person and field."""
    nonce = os.urandom(_NONCE_BYTES)
    body = AESGCM(key).encrypt(nonce, json.dumps(value).encode(), f"{subject}/{field}".encode())
    return {_ENVELOPE: base64.b64encode(nonce + body).decode()}


def is_sealed(value: object) -> TypeGuard[dict[str, str]]:
    """Whether a stored field value is a sealed envelope."""
    return isinstance(value, dict) and _ENVELOPE in value


def unseal(key: bytes | None, subject: UUID, field: str, value: object) -> object:
    """The plain value; :data:`ERASED` without the key; unsealed values pass through."""
    if not is_sealed(value):
        return value  # written before sealing existed
    if key is None:
        return ERASED
    raw = base64.b64decode(value[_ENVELOPE])
    try:
        plain = AESGCM(key).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], f"{subject}/{field}".encode()
        )
    except InvalidTag:
        return ERASED
    return json.loads(plain)


class SealingMapper(Mapper[Any]):
    """The library's mapper, sealing and unsealing personal fields around it."""

    keys: PersonKeys | None = None

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        """Seal the personal fields, then transcode, compress and encrypt as usual."""
        fields = sealed_fields(domain_event)
        if fields and self.keys is not None:
            state = dict(vars(domain_event))
            subject = state["originator_id"]
            key = self.keys.for_writing(subject)
            for name in fields:
                state[name] = seal(key, subject, name, state[name])
            sealed = object.__new__(type(domain_event))
            object.__setattr__(sealed, "__dict__", state)
            domain_event = sealed
        return super().to_stored_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        """Decode as usual, then unseal (or mark erased) the personal fields."""
        event = super().to_domain_event(stored_event)
        fields = sealed_fields(event)
        if fields:
            state = vars(event)
            subject = state["originator_id"]
            # Only a sealed field needs the key (events from before sealing carry none).
            sealed = any(is_sealed(state[name]) for name in fields)
            key = self.keys.for_reading(subject) if sealed and self.keys is not None else None
            for name in fields:
                state[name] = unseal(key, subject, name, state[name])
        return event
