"""What of an event may be shown outside the ledger: its fields, without personal data.

Generic over events: every field of the event is kept (as JSON-ready values) except the
event envelope (who, when, which stream) and a small, explicit set of personal fields,
which are dropped or masked wherever they occur, nested values included. A new event is
covered as long as its personal fields use these names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from disburse.domain.person import ERASED
from disburse.readside.base import event_type, jsonable

if TYPE_CHECKING:
    from collections.abc import Mapping

#: The envelope: shown in columns of their own (``meta``) or not at all.
ENVELOPE: Final = frozenset(
    {"meta", "originator_id", "originator_version", "timestamp", "originator_topic"}
)
#: Credentials: console users' password hashes and sealed TOTP secrets.
CREDENTIALS: Final = frozenset({"password_hash", "totp_sealed"})
#: Never shown: the resident ID (``resident_id_masked`` is shown instead) and its keyed hash.
#: Never shown: identity numbers and their hashes, API key hashes, the fingerprints
#: and idempotency keys of recorded requests (they identify a client's requests), and
#: credentials.
DROPPED: Final = frozenset(
    {"resident_id", "id_hash", "key_hash", "fingerprint", "key", *CREDENTIALS}
)
#: Never shown, even to roles that see personal data in full.
SECRETS: Final = frozenset({"id_hash", "key_hash", "fingerprint", "key", *CREDENTIALS})
#: Bank account numbers: only the last four digits are shown.
ACCOUNT_FIELDS: Final = frozenset({"bank_account", "account"})
#: Birth dates: only the year is shown. With ``home_region`` (the ID's address code, as a
#: rule) and the last four characters in ``resident_id_masked``, the full date would spell
#: out the whole resident ID.
BIRTH_DATE_FIELDS: Final = frozenset({"birth_date"})
#: Fields holding a natural person's name, by aggregate (organisation names are public).
PERSON_NAME_FIELDS: Final = {"Person": frozenset({"name"})}

_ACCOUNT_TAIL = 4
#: Exact types that are already JSON values (subclasses, such as enums, are converted).
_PLAIN: Final = frozenset({int, bool, float})
_SEQUENCES: Final = frozenset({list, tuple})


def mask_account(account: str) -> str:
    """Every character but the last four masked: ``6222020212345678`` -> ``************5678``."""
    if account == ERASED:
        return account
    if len(account) <= _ACCOUNT_TAIL:
        return "*" * len(account)
    return "*" * (len(account) - _ACCOUNT_TAIL) + account[-_ACCOUNT_TAIL:]


def mask_name(name: str) -> str:
    """The first character and a fixed mask (the length is not shown): ``张三丰`` -> ``张**``."""
    return f"{name[:1]}**" if name and name != ERASED else name


def mask_birth_date(iso_date: str) -> str:
    """The year only: ``1980-05-17`` -> ``1980-**-**``."""
    return f"{iso_date[:4]}-**-**"


def public_payload(event: object) -> dict[str, object]:
    """The event's own fields as JSON-ready values, with personal data dropped or masked."""
    return public_fields(event_type(event).partition(".")[0], vars(event))


def public_fields(kind: str, fields: Mapping[str, object]) -> dict[str, object]:
    """Fields of an event or aggregate of ``kind`` (``Person``...), personal data masked."""
    names = PERSON_NAME_FIELDS.get(kind, frozenset())
    payload: dict[str, object] = {}
    for field, value in fields.items():
        if field in ENVELOPE or field in DROPPED:
            continue
        if field in names and isinstance(value, str):
            payload[field] = mask_name(value)
        else:
            payload[field] = _public(field, value)
    return payload


def _public(field: str, value: object) -> object:
    """``_redacted(field, jsonable(value))`` in one pass, without copying plain values.

    Every event's fields pass here (the audit view shows them all), so the common exact
    types take a short path; anything else takes the two steps it names.
    """
    kind = type(value)
    if kind is str and isinstance(value, str):
        return _public_text(field, value)
    if value is None or kind in _PLAIN:
        return value
    if kind is dict and isinstance(value, dict):
        return {key: _public(key, v) for k, v in value.items() if (key := str(k)) not in DROPPED}
    if kind in _SEQUENCES and isinstance(value, list | tuple):
        return [_public(field, v) for v in value]
    return _redacted(field, jsonable(value))


def _public_text(field: str, value: str) -> str:
    if field in ACCOUNT_FIELDS:
        return mask_account(value)
    if field in BIRTH_DATE_FIELDS:
        return mask_birth_date(value)
    return value


def identified_fields(fields: Mapping[str, object]) -> dict[str, object]:
    """Fields as JSON-ready values, personal data in full (for roles that may see it).

    Keyed hashes and API key material are left out all the same: they identify nothing
    to a reader, and would let one confirm guesses.
    """
    return {
        field: _without_secrets(jsonable(value))
        for field, value in fields.items()
        if field not in ENVELOPE and field not in SECRETS
    }


def _without_secrets(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items() if k not in SECRETS}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def _redacted(field: str, value: object) -> object:
    """``value`` (already JSON-ready) with personal fields inside it dropped or masked."""
    if field in ACCOUNT_FIELDS and isinstance(value, str):
        return mask_account(value)
    if field in BIRTH_DATE_FIELDS and isinstance(value, str):
        return mask_birth_date(value)
    if isinstance(value, dict):
        return {k: _redacted(k, v) for k, v in value.items() if k not in DROPPED}
    if isinstance(value, list):
        return [_redacted(field, v) for v in value]
    return value
