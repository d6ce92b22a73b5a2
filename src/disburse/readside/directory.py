"""The directory: people, posts, funds and payment batches, for finding them by what they are.

One row per person, post, fund and batch, with the columns the list endpoints filter on
and a ``position`` (the log position of the event that created the row) to page by.

Privacy (docs/architecture.md, "Privacy in the views"): a person's name and resident ID
are kept only sealed (AES-256-GCM under a key derived from the store's secret, never the
hash key), so the list can show them as ``GET /v1/people/{id}`` does without the view
holding them readable. Searching by name reads ``directory_names``: the keyed hashes of
the name's first 1 to :data:`NAME_PREFIX_MAX` characters, never the text. Erasing a
person's identity removes both. A resident ID is found by the person id it maps to.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from typing import TYPE_CHECKING, Any, ClassVar

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from disburse.domain.batch import Outcome
from disburse.domain.person import ERASED
from disburse.domain.text import readable
from disburse.readside.base import Position, View, handles

if TYPE_CHECKING:
    from disburse.readside.db import Tx

#: Names are searched by their first 1 to 16 characters.
NAME_PREFIX_MAX = 16
_NONCE_BYTES = 12


def name_key(name: str) -> str:
    """A name as it is compared: as views store text (see ``readable``), NFC, trimmed, folded."""
    return unicodedata.normalize("NFC", readable(name)).strip().casefold()


class Seal:
    """Seals and opens the directory's personal fields; hashes name prefixes.

    Sealing is deterministic (the nonce is a keyed hash of the row's id and the text), so
    a rebuilt view holds the same bytes as the live one.
    """

    def __init__(self, secret: bytes) -> None:
        self._cipher = AESGCM(hmac.new(secret, b"directory/seal", hashlib.sha256).digest())
        self._nonce_key = hmac.new(secret, b"directory/nonce", hashlib.sha256).digest()
        self._name_key = hmac.new(secret, b"directory/name-prefix", hashlib.sha256).digest()

    def seal(self, row_id: str, fields: dict[str, str]) -> str:
        """The fields as hex text, readable only with the key."""
        stored = {key: readable(value) for key, value in fields.items()}
        plain = json.dumps(stored, sort_keys=True, ensure_ascii=False).encode()
        nonce = hmac.new(self._nonce_key, row_id.encode() + b"\0" + plain, hashlib.sha256)
        iv = nonce.digest()[:_NONCE_BYTES]
        return (iv + self._cipher.encrypt(iv, plain, row_id.encode())).hex()

    def open(self, row_id: str, sealed: str) -> dict[str, str]:
        """The fields :meth:`seal` sealed for this row."""
        raw = bytes.fromhex(sealed)
        plain = self._cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], row_id.encode())
        found: dict[str, str] = json.loads(plain)
        return found

    def name_prefix(self, prefix: str) -> str:
        """The keyed hash a name prefix is stored and searched as."""
        return hmac.new(self._name_key, name_key(prefix).encode(), hashlib.sha256).hexdigest()

    def name_prefixes(self, name: str) -> list[str]:
        """The hashes of a name's first 1 to :data:`NAME_PREFIX_MAX` characters."""
        key = name_key(name)
        return [self.name_prefix(key[:n]) for n in range(1, min(len(key), NAME_PREFIX_MAX) + 1)]


class DirectoryView(View):
    """People, posts, funds and batches, as the list and search endpoints find them."""

    name: ClassVar[str] = "directory"
    tables: ClassVar[tuple[str, ...]] = (
        "directory_people",
        "directory_names",
        "directory_posts",
        "directory_funds",
        "directory_batches",
    )
    schema: ClassVar[tuple[str, ...]] = (
        "CREATE TABLE IF NOT EXISTS directory_people (person_id TEXT PRIMARY KEY,"
        " position BIGINT NOT NULL UNIQUE, home_region TEXT NOT NULL,"
        " poverty_status TEXT NOT NULL, labour_capacity TEXT NOT NULL,"
        " public_payroll INTEGER NOT NULL, died_on TEXT, resident_id_masked TEXT NOT NULL,"
        " sealed TEXT, registered_via TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS directory_people_region"
        " ON directory_people (home_region, position)",
        "CREATE INDEX IF NOT EXISTS directory_people_status"
        " ON directory_people (poverty_status, home_region, position)",
        "CREATE INDEX IF NOT EXISTS directory_people_client"
        " ON directory_people (registered_via, position)",
        "CREATE TABLE IF NOT EXISTS directory_names (prefix_hash TEXT NOT NULL,"
        " position BIGINT NOT NULL, person_id TEXT NOT NULL, PRIMARY KEY (prefix_hash, position))",
        "CREATE INDEX IF NOT EXISTS directory_names_person ON directory_names (person_id)",
        "CREATE TABLE IF NOT EXISTS directory_posts (post_id TEXT PRIMARY KEY,"
        " position BIGINT NOT NULL UNIQUE, region_code TEXT NOT NULL, site_id TEXT NOT NULL,"
        " fund_id TEXT NOT NULL, title TEXT NOT NULL, stipend_fen BIGINT NOT NULL,"
        " part_time INTEGER NOT NULL, status TEXT NOT NULL, holder_id TEXT, exited_on TEXT)",
        "CREATE INDEX IF NOT EXISTS directory_posts_region"
        " ON directory_posts (region_code, position)",
        "CREATE INDEX IF NOT EXISTS directory_posts_status"
        " ON directory_posts (status, region_code, position)",
        "CREATE INDEX IF NOT EXISTS directory_posts_holder ON directory_posts (holder_id)",
        "CREATE INDEX IF NOT EXISTS directory_posts_site ON directory_posts (site_id, position)",
        "CREATE INDEX IF NOT EXISTS directory_posts_fund ON directory_posts (fund_id, position)",
        "CREATE TABLE IF NOT EXISTS directory_funds (fund_id TEXT PRIMARY KEY,"
        " position BIGINT NOT NULL UNIQUE, source TEXT NOT NULL, region_code TEXT NOT NULL,"
        " year INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS directory_funds_region"
        " ON directory_funds (region_code, position)",
        "CREATE INDEX IF NOT EXISTS directory_funds_source"
        " ON directory_funds (source, year, position)",
        "CREATE INDEX IF NOT EXISTS directory_funds_year ON directory_funds (year, position)",
        "CREATE TABLE IF NOT EXISTS directory_batches (batch_id TEXT PRIMARY KEY,"
        " position BIGINT NOT NULL UNIQUE, fund_id TEXT NOT NULL, region_code TEXT NOT NULL,"
        " count INTEGER NOT NULL, total_fen BIGINT NOT NULL, results INTEGER NOT NULL,"
        " state TEXT NOT NULL, released_at TEXT NOT NULL, released_on TEXT NOT NULL,"
        " released_by TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS directory_batches_fund"
        " ON directory_batches (fund_id, position)",
        "CREATE INDEX IF NOT EXISTS directory_batches_region"
        " ON directory_batches (region_code, position)",
        "CREATE INDEX IF NOT EXISTS directory_batches_state ON directory_batches (state, position)",
        "CREATE INDEX IF NOT EXISTS directory_batches_day"
        " ON directory_batches (released_on, position)",
    )

    def __init__(self, seal: Seal) -> None:
        self._seal = seal

    # -- people -----------------------------------------------------------------------------

    @handles("Person.Registered")
    def _registered(self, tx: Tx, event: Any, where: Position) -> None:
        person_id = str(event.originator_id)
        readable = event.name != ERASED
        tx.write(
            "INSERT INTO directory_people (person_id, position, home_region, poverty_status,"
            " labour_capacity, public_payroll, died_on, resident_id_masked, sealed,"
            " registered_via) VALUES (:p, :at, :region, :poverty, :labour, :payroll, NULL,"
            " :masked, :sealed, :via)",
            {
                "p": person_id,
                "at": where.position,
                "region": event.home_region,
                "poverty": str(event.poverty_status),
                "labour": str(event.labour_capacity),
                "payroll": int(bool(event.public_payroll)),
                "masked": event.resident_id_masked,
                "sealed": self._seal.seal(
                    person_id, {"name": event.name, "resident_id": event.resident_id}
                )
                if readable
                else None,
                "via": event.meta.client_id,
            },
        )
        for prefix in self._seal.name_prefixes(event.name) if readable else ():
            tx.write(
                "INSERT INTO directory_names (prefix_hash, position, person_id)"
                " VALUES (:h, :at, :p)",
                {"h": prefix, "at": where.position, "p": person_id},
            )

    @handles("Person.StatusChanged")
    def _status(self, tx: Tx, event: Any, _where: Position) -> None:
        tx.write(
            "UPDATE directory_people SET poverty_status = COALESCE(:poverty, poverty_status),"
            " labour_capacity = COALESCE(:labour, labour_capacity),"
            " public_payroll = COALESCE(:payroll, public_payroll) WHERE person_id = :p",
            {
                "p": str(event.originator_id),
                "poverty": None if event.poverty_status is None else str(event.poverty_status),
                "labour": None if event.labour_capacity is None else str(event.labour_capacity),
                "payroll": None if event.public_payroll is None else int(event.public_payroll),
            },
        )

    @handles("Person.DeathRecorded")
    def _died(self, tx: Tx, event: Any, _where: Position) -> None:
        tx.write(
            "UPDATE directory_people SET died_on = :d WHERE person_id = :p",
            {"p": str(event.originator_id), "d": event.died_on.isoformat()},
        )

    @handles("Person.IdentityErased")
    def _erased(self, tx: Tx, event: Any, _where: Position) -> None:
        person_id = str(event.originator_id)
        tx.write(
            "UPDATE directory_people SET sealed = NULL, resident_id_masked = :erased"
            " WHERE person_id = :p",
            {"p": person_id, "erased": ERASED},
        )
        tx.write("DELETE FROM directory_names WHERE person_id = :p", {"p": person_id})

    # -- posts ------------------------------------------------------------------------------

    @handles("Post.Created")
    def _post(self, tx: Tx, event: Any, where: Position) -> None:
        tx.write(
            "INSERT INTO directory_posts (post_id, position, region_code, site_id, fund_id,"
            " title, stipend_fen, part_time, status, holder_id, exited_on) VALUES (:p, :at,"
            " :region, :site, :fund, :title, :stipend, :part, 'vacant', NULL, NULL)",
            {
                "p": str(event.originator_id),
                "at": where.position,
                "region": event.region_code,
                "site": str(event.site_id),
                "fund": str(event.fund_id),
                "title": event.title,
                "stipend": event.stipend_fen,
                "part": int(bool(event.part_time)),
            },
        )

    @handles("Post.Appointed")
    def _appointed(self, tx: Tx, event: Any, _where: Position) -> None:
        tx.write(
            "UPDATE directory_posts SET status = 'held', holder_id = :h, exited_on = NULL"
            " WHERE post_id = :p",
            {"p": str(event.originator_id), "h": str(event.person_id)},
        )

    @handles("Post.Exited")
    def _exited(self, tx: Tx, event: Any, _where: Position) -> None:
        tx.write(
            "UPDATE directory_posts SET status = 'vacant', holder_id = NULL, exited_on = :e"
            " WHERE post_id = :p",
            {"p": str(event.originator_id), "e": event.effective_on.isoformat()},
        )

    # -- funds and batches ------------------------------------------------------------------

    @handles("Fund.Allocated")
    def _fund(self, tx: Tx, event: Any, where: Position) -> None:
        tx.write(
            "INSERT INTO directory_funds (fund_id, position, source, region_code, year)"
            " VALUES (:f, :at, :source, :region, :year)",
            {
                "f": str(event.originator_id),
                "at": where.position,
                "source": str(event.source),
                "region": event.region_code,
                "year": event.year,
            },
        )

    @handles("PaymentBatch.Released")
    def _batch(self, tx: Tx, event: Any, where: Position) -> None:
        fund = tx.one(
            "SELECT region_code FROM directory_funds WHERE fund_id = :f", {"f": str(event.fund_id)}
        )
        tx.write(
            "INSERT INTO directory_batches (batch_id, position, fund_id, region_code, count,"
            " total_fen, results, state, released_at, released_on, released_by) VALUES (:b,"
            " :at, :f, :region, :count, :total, 0, 'open', :when, :day, :by)",
            {
                "b": str(event.originator_id),
                "at": where.position,
                "f": str(event.fund_id),
                "region": "" if fund is None else fund["region_code"],
                "count": event.count,
                "total": event.total_fen,
                "when": where.at,
                "day": where.at[:10],
                "by": event.meta.actor_id,
            },
        )

    @handles("PaymentBatch.ResultRecorded")
    def _result(self, tx: Tx, event: Any, _where: Position) -> None:
        if Outcome(event.outcome) is Outcome.REVERSED:
            return  # a reversal follows a result already counted
        tx.write(
            "UPDATE directory_batches SET results = results + 1, state = CASE WHEN"
            " results + 1 >= count THEN 'complete' ELSE 'open' END WHERE batch_id = :b",
            {"b": str(event.originator_id)},
        )
