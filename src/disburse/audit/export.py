# The README's Chinese summary is written with full-width punctuation, as Chinese is.
"""Evidence packs: the events of one entity, actor or region, with what proves them, in a zip.

A pack holds the events (``events.jsonl``, and flat for spreadsheets: ``events.csv``,
``events.xlsx``), each event's link in the hash chain (``chain.csv``), the chain's head
when the pack was made (``digest.json``), a manifest with the SHA-256 of every file, a
README in plain words and ``verify_pack.py``, the standard-library check it describes.

The selection is read from the audit view a page at a time and written through
temporary files, so memory stays flat however many events are exported. Every event
exported lies at or before the digest's position: the pack is one consistent moment.

Over 400 lines on purpose: the files of one pack are written in one pass over the
selection, so their rows always agree; the pack's texts live in ``pack_text.py``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import zipfile
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Final

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from disburse.audit.days import check_day, end_of_day, start_of_day
from disburse.audit.digest import Digest, Signer, take_digest
from disburse.audit.pack_text import FORMAT, VERIFY_SCRIPT, readme
from disburse.domain.errors import InvalidInputError
from disburse.domain.regions import check_region_scope, region_scope
from disburse.domain.text import readable_data
from disburse.persistence.chain import ALGORITHM, GENESIS, state_digest
from disburse.readside.redact import identified_fields

if TYPE_CHECKING:
    from collections.abc import Iterator
    from uuid import UUID
    from zoneinfo import ZoneInfo

    from eventsourcing.persistence import Notification
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from disburse.application.ledger import Ledger
    from disburse.persistence.chain import Link
    from disburse.persistence.recorders import ChainedRecorder
    from disburse.readside.audit_queries import AuditEntry
    from disburse.readside.views import Views

#: Audit entries read from the view at a time.
PAGE: Final = 1000
#: Positions at most this far apart are read from the store in one query.
_RUN_GAP: Final = 8
#: Never exported, whatever the exporter may see: keyed hashes and request fingerprints.
CSV_COLUMNS: Final = (
    "position",
    "recorded_at",
    "recorded_at_local",
    "entity_type",
    "entity_id",
    "version",
    "event_type",
    "actor",
    "role",
    "client",
    "request_id",
    "reason",
    "rule_ids",
    "policy_version",
    "region_code",
    "amount_fen",
    "amount_yuan",
    "payload",
)
CHAIN_COLUMNS: Final = (
    "position",
    "originator_id",
    "originator_version",
    "topic",
    "state_sha256",
    "previous_position",
    "previous_hash",
    "hash",
)
_XLSX_TEXT_MAX: Final = 32_767  # characters in one spreadsheet cell
_CUT: Final = " ... [cut: the whole payload is in events.jsonl]"
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_RULE: Final = "EXPORT-SELECTION"


@dataclass(frozen=True)
class Selection:
    """Which events a pack holds: one entity's, one actor's or one region's, within dates.

    Exactly one of ``entity_id``, ``actor_id`` and ``region`` (a 2/4/6-digit region, or a
    6-digit code standing for its city or province); ``date_from`` and ``date_to`` are
    inclusive calendar days in the pack's time zone. ``InvalidInputError``
    (``EXPORT-SELECTION``, ``EXPORT-DATES``, ``DATE-RANGE``, ``REGION-CODE``) otherwise.
    """

    entity_id: UUID | None = None
    actor_id: str | None = None
    region: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def __post_init__(self) -> None:
        given = [n for n in ("entity_id", "actor_id", "region") if getattr(self, n) is not None]
        if len(given) != 1:
            raise InvalidInputError(
                _RULE,
                "select the events of exactly one entity_id, actor_id or region, "
                f"not {' and '.join(given) or 'none'}",
                field=given[1] if len(given) > 1 else "selection",
            )
        if self.actor_id is not None and not self.actor_id.strip():
            raise InvalidInputError(_RULE, "an actor_id is not blank", field="actor_id")
        if self.region is not None:
            if self.region == "":
                raise InvalidInputError(_RULE, "a region is 2, 4 or 6 digits", field="region")
            object.__setattr__(self, "region", region_scope(self.region, "region"))
        for name in ("date_from", "date_to"):
            day = getattr(self, name)
            if day is not None:
                check_day(day, name)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidInputError(
                "EXPORT-DATES",
                f"date_from {self.date_from} is after date_to {self.date_to}",
                field="date_from",
            )

    def as_dict(self) -> dict[str, str | None]:
        """JSON-ready (as the manifest states it)."""
        return {
            "entity_id": None if self.entity_id is None else str(self.entity_id),
            "actor_id": self.actor_id,
            "region": self.region,
            "date_from": None if self.date_from is None else self.date_from.isoformat(),
            "date_to": None if self.date_to is None else self.date_to.isoformat(),
        }


@dataclass(frozen=True)
class PackSummary:
    """What was written: how many events, their first and last positions, the head digest."""

    events: int
    first_position: int | None
    last_position: int | None
    digest: Digest


def local_day_bounds(
    date_from: date | None, date_to: date | None, zone: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """The first and last moments (inclusive) of local calendar days in ``zone``.

    2024-03-02 in Asia/Shanghai runs from 2024-03-01T16:00Z to just before 2024-03-02T16:00Z.
    Days out of range are ``DATE-RANGE`` (:mod:`disburse.audit.days`).
    """
    since = None if date_from is None else start_of_day(date_from, zone, "date_from")
    until = None
    if date_to is not None:
        until = end_of_day(date_to, zone, "date_to") - timedelta(microseconds=1)
    return since, until


def write_pack(
    ledger: Ledger,
    views: Views,
    selection: Selection,
    out: BinaryIO,
    *,
    full_identity: bool,
    zone: ZoneInfo,
    scope: str = "",
    exporter: str,
    signer: Signer | None = None,
) -> PackSummary:
    """Write the evidence pack of ``selection`` to ``out`` (a zip); returns what it holds.

    ``scope`` is the exporter's region ("" for everywhere): events of other regions are
    left out as the audit trail leaves them out. ``full_identity`` shows resident IDs,
    names and bank accounts in full (decoded from the store); otherwise the pack holds the
    audit view's masked payloads. The chain's head is taken first (signed with
    ``signer``), the audit view brought up to it, and nothing after it is exported.
    """
    check_region_scope(scope, "scope")
    recorder = ledger.store.chained
    digest = take_digest(recorder, signer)
    views.projector.catch_up(until=digest.position, names=["audit"])
    exported_at = datetime.now(UTC)
    with ExitStack() as stack:
        spools = {name: stack.enter_context(tempfile.TemporaryFile()) for name in _SPOOLED}
        jsonl = io.TextIOWrapper(spools["events.jsonl"], encoding="utf-8", newline="")
        events_csv = io.TextIOWrapper(spools["events.csv"], encoding="utf-8-sig", newline="")
        chain_csv = io.TextIOWrapper(spools["chain.csv"], encoding="utf-8", newline="")
        events_rows, chain_rows = csv.writer(events_csv), csv.writer(chain_csv)
        book = Workbook(write_only=True)
        sheet, chain_sheet = book.create_sheet("events"), book.create_sheet("chain")
        events_rows.writerow(CSV_COLUMNS)
        chain_rows.writerow(CHAIN_COLUMNS)
        sheet.append(list(CSV_COLUMNS))
        chain_sheet.append(list(CHAIN_COLUMNS))
        count, first, last = 0, None, None
        by_type: dict[str, int] = {}
        for entry, stored in _selected(
            views,
            recorder=recorder,
            selection=selection,
            scope=scope,
            zone=zone,
            up_to=digest.position,
        ):
            payload = entry.payload
            if full_identity and stored.notification is not None:
                # decoded from the store: text an older release took is shown as the views
                # show it (a NUL or lone surrogate as U+FFFD), so every file can hold it
                payload = readable_data(
                    identified_fields(
                        vars(ledger.store.mapper.to_domain_event(stored.notification))
                    )
                )
            jsonl.write(json.dumps(_record(entry, payload), ensure_ascii=False) + "\n")
            row = _flat(entry, payload, zone)
            events_rows.writerow(row)
            sheet.append(_xlsx_row(sheet, row))
            link_row = _chain_row(entry, stored)
            chain_rows.writerow(link_row)
            chain_sheet.append(link_row)
            count, first, last = count + 1, first or entry.position, entry.position
            by_type[entry.event_type] = by_type.get(entry.event_type, 0) + 1
        for text in (jsonl, events_csv, chain_csv):
            text.flush()
            text.detach()
        book.save(spools["events.xlsx"])
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "selection": selection.as_dict(),
            "scope": scope,
            "full_identity": full_identity,
            "zone": zone.key or str(zone),
            "exporter": exporter,
            "exported_at": exported_at.isoformat(timespec="seconds"),
            "counts": {"events": count, "by_event_type": dict(sorted(by_type.items()))},
            "first_position": first,
            "last_position": last,
            "algorithm": ALGORITHM,
            "head": {"position": digest.position, "hash": digest.hash},
            "files": {},
        }
        text_files = {
            "README.txt": readme(manifest, signed=digest.signature is not None).encode(),
            "verify_pack.py": VERIFY_SCRIPT.encode(),
            "digest.json": digest.to_json().encode(),
        }
        t = exported_at
        stamp = (t.year, t.month, t.day, t.hour, t.minute, t.second)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as pack:
            for name, data in text_files.items():
                manifest["files"][name] = _add(pack, name, io.BytesIO(data), stamp)
            for name, spool in spools.items():
                manifest["files"][name] = _add(pack, name, spool, stamp)
            body = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
            _add(pack, "manifest.json", io.BytesIO(body.encode()), stamp)
    return PackSummary(count, first, last, digest)


_SPOOLED: Final = ("events.jsonl", "events.csv", "events.xlsx", "chain.csv")


@dataclass(frozen=True)
class _Stored:
    """An exported event as the store holds it, and its link (None where missing)."""

    notification: Notification | None
    link: Link | None
    previous_hash: str


def _selected(
    views: Views,
    *,
    recorder: ChainedRecorder,
    selection: Selection,
    scope: str,
    zone: ZoneInfo,
    up_to: int,
) -> Iterator[tuple[AuditEntry, _Stored]]:
    """The selected entries up to ``up_to``, in log order, each with its stored event."""
    since, until = local_day_bounds(selection.date_from, selection.date_to, zone)
    audit = views.audit
    if selection.entity_id is not None:
        query = partial(audit.trail, selection.entity_id)
    elif selection.actor_id is not None:
        query = partial(audit.by_actor, selection.actor_id)
    else:
        query = partial(audit.in_region, selection.region or "")
    after = 0
    while True:
        page = query(since=since, until=until, after_position=after, limit=PAGE, scope=scope)
        wanted = [e for e in page if e.position <= up_to]
        stored = _stored(recorder, [e.position for e in wanted])
        yield from ((entry, stored[entry.position]) for entry in wanted)
        if len(page) < PAGE or len(wanted) < len(page):
            return
        after = page[-1].position


def _stored(recorder: ChainedRecorder, positions: list[int]) -> dict[int, _Stored]:
    """The stored events and links at ``positions`` (ascending), read in runs of near ones."""
    notifications: dict[int, Notification] = {}
    links: dict[int, Link] = {}
    index = 0
    while index < len(positions):
        end = index
        while end + 1 < len(positions) and positions[end + 1] - positions[end] <= _RUN_GAP:
            end += 1
        start, stop = positions[index], positions[end]
        found = recorder.select_notifications(start, stop - start + 1, stop=stop)
        notifications.update((n.id, n) for n in found)
        near = recorder.select_links(max(start - 2, 0), stop - start + 2)  # and the one before
        links.update((k.position, k) for k in near)
        index = end + 1
    result: dict[int, _Stored] = {}
    for position in positions:
        link = links.get(position)
        previous_hash = ""
        if link is not None and link.previous == 0:
            previous_hash = GENESIS
        elif link is not None:
            before = links.get(link.previous) or recorder.link_at(link.previous)
            previous_hash = "" if before is None else before.hash
        result[position] = _Stored(notifications.get(position), link, previous_hash)
    return result


def _record(entry: AuditEntry, payload: dict[str, Any]) -> dict[str, object]:
    """One line of ``events.jsonl``."""
    return {
        "position": entry.position,
        "entity_id": entry.entity_id,
        "entity_type": entry.entity_type,
        "version": entry.version,
        "event_type": entry.event_type,
        "recorded_at": entry.recorded_at.isoformat(),
        "actor": entry.actor_id,
        "role": entry.role,
        "client": entry.client_id,
        "request_id": entry.request_id,
        "reason": entry.reason,
        "rule_ids": list(entry.rule_ids),
        "policy_version": entry.policy_version,
        "region_code": entry.region_code,
        "via": entry.via,
        "payload": payload,
    }


def _flat(entry: AuditEntry, payload: dict[str, Any], zone: ZoneInfo) -> list[object]:
    """One row of ``events.csv`` (values in the order of :data:`CSV_COLUMNS`)."""
    amount = payload.get("amount_fen")
    fen = amount if isinstance(amount, int) and not isinstance(amount, bool) else None
    return [
        entry.position,
        entry.recorded_at.isoformat(),
        entry.recorded_at.astimezone(zone).isoformat(timespec="seconds"),
        entry.entity_type,
        entry.entity_id,
        entry.version,
        entry.event_type,
        *map(spreadsheet_text, (entry.actor_id, entry.role, entry.client_id, entry.request_id)),
        None if entry.reason is None else spreadsheet_text(entry.reason),
        spreadsheet_text(" ".join(entry.rule_ids)),
        None if entry.policy_version is None else spreadsheet_text(entry.policy_version),
        entry.region_code,
        fen,
        None if fen is None else Decimal(fen).scaleb(-2),
        spreadsheet_text(json.dumps(payload, ensure_ascii=False, sort_keys=True)),
    ]


def spreadsheet_text(value: str) -> str:
    """Text a spreadsheet shows as it is: never run as a formula, no control characters."""
    clean = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return f"'{clean}" if clean.startswith(_FORMULA_START) else clean


def _xlsx_row(sheet: WriteOnlyWorksheet, row: list[object]) -> list[object]:
    """A CSV row as workbook cells: yuan shown with two decimals, long payloads cut."""
    cells: list[object] = list(row)
    yuan = CSV_COLUMNS.index("amount_yuan")
    amount = cells[yuan]
    if isinstance(amount, Decimal):
        cell = WriteOnlyCell(sheet)
        cell.value = amount
        cell.number_format = "0.00"
        cells[yuan] = cell
    payload = str(cells[-1])
    if len(payload) > _XLSX_TEXT_MAX:
        cells[-1] = payload[: _XLSX_TEXT_MAX - len(_CUT)] + _CUT
    return cells


def _chain_row(entry: AuditEntry, stored: _Stored) -> list[object]:
    """One row of ``chain.csv``: what recomputes the event's link (blank where missing)."""
    n, link = stored.notification, stored.link
    return [
        entry.position,
        entry.entity_id if n is None else str(n.originator_id),
        entry.version if n is None else n.originator_version,
        "" if n is None else n.topic,
        "" if n is None else state_digest(n.state),
        "" if link is None else link.previous,
        stored.previous_hash,
        "" if link is None else link.hash,
    ]


def _add(
    pack: zipfile.ZipFile, name: str, source: IO[bytes], stamp: tuple[int, int, int, int, int, int]
) -> dict[str, object]:
    """Copy ``source`` (from its start) into the pack; returns its size and SHA-256."""
    size = source.seek(0, io.SEEK_END)
    source.seek(0)
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.file_size = size  # lets zipfile choose ZIP64 for large files up front
    hasher = hashlib.sha256()
    with pack.open(info, "w") as target:
        while chunk := source.read(1 << 16):
            hasher.update(chunk)
            target.write(chunk)
    return {"sha256": hasher.hexdigest(), "bytes": size}
