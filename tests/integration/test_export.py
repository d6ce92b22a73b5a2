"""Evidence packs: the events of an entity, actor or region, with their chain, on both stores."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from disburse.audit import export
from disburse.audit.digest import Digest, Signer, generate_signing_key
from disburse.audit.export import Selection, local_day_bounds, write_pack
from disburse.domain.errors import InvalidInputError
from disburse.domain.identity import mask_resident_id
from disburse.persistence.chain import ALGORITHM, GENESIS
from tests import factories as f

if TYPE_CHECKING:
    from pathlib import Path
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from disburse.audit.export import PackSummary
    from disburse.readside.views import Views

SHANGHAI = ZoneInfo("Asia/Shanghai")
FILES = {
    "README.txt",
    "verify_pack.py",
    "digest.json",
    "manifest.json",
    "events.jsonl",
    "events.csv",
    "events.xlsx",
    "chain.csv",
}


@dataclass(frozen=True)
class Pack:
    """A written pack, read back."""

    raw: bytes
    summary: PackSummary

    @property
    def files(self) -> dict[str, bytes]:
        with zipfile.ZipFile(io.BytesIO(self.raw)) as pack:
            return {name: pack.read(name) for name in pack.namelist()}

    def text(self, name: str) -> str:
        return self.files[name].decode("utf-8")

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text("events.jsonl").splitlines()]

    def rows(self, name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(self.files[name].decode("utf-8-sig"))))

    @property
    def manifest(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.text("manifest.json"))
        return result

    def sheet(self, title: str) -> list[list[object]]:
        book = openpyxl.load_workbook(io.BytesIO(self.files["events.xlsx"]), read_only=True)
        return [list(row) for row in book[title].iter_rows(values_only=True)]


def pack(
    ledger: Ledger,
    views: Views,
    selection: Selection,
    *,
    full_identity: bool = False,
    scope: str = "",
    signer: Signer | None = None,
) -> Pack:
    out = io.BytesIO()
    summary = write_pack(
        ledger,
        views,
        selection,
        out,
        full_identity=full_identity,
        zone=SHANGHAI,
        scope=scope,
        exporter="inspector-1",
        signer=signer,
    )
    return Pack(out.getvalue(), summary)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- what a pack holds ----------------------------------------------------------------------


def test_an_entity_pack_holds_the_entitys_trail_in_log_order_and_every_file(
    ledger: Ledger, views: Views
) -> None:
    story = f.money_story(ledger)

    written = pack(ledger, views, Selection(entity_id=story.paid))

    trail = views.audit.trail(story.paid)
    assert set(written.files) == FILES
    assert [(e["position"], e["event_type"]) for e in written.events] == [
        (e.position, e.event_type) for e in trail
    ]
    assert written.summary.events == len(trail) == 11
    assert (written.summary.first_position, written.summary.last_position) == (
        trail[0].position,
        trail[-1].position,
    )
    recovery = next(e for e in written.events if e["event_type"] == "Payout.RecoveryOrdered")
    assert recovery["reason"] == "worked 15 days"
    assert recovery["actor"] == "finance-1"
    assert recovery["role"] == "finance"
    assert recovery["payload"]["case_reference"] == "CASE-1"
    assert set(recovery) >= {
        "position",
        "entity_id",
        "entity_type",
        "version",
        "event_type",
        "recorded_at",
        "actor",
        "role",
        "client",
        "request_id",
        "reason",
        "rule_ids",
        "policy_version",
        "payload",
    }
    manifest = written.manifest
    assert manifest["selection"]["entity_id"] == str(story.paid)
    assert manifest["exporter"] == "inspector-1"
    assert manifest["algorithm"] == ALGORITHM
    assert manifest["counts"]["events"] == 11
    assert manifest["counts"]["by_event_type"]["Payout.Paid"] == 1
    assert manifest["zone"] == "Asia/Shanghai"


def test_the_digest_is_the_chains_head_when_the_pack_was_made(ledger: Ledger, views: Views) -> None:
    story = f.money_story(ledger)

    written = pack(ledger, views, Selection(entity_id=story.paid))

    digest = Digest.from_json(written.text("digest.json"))
    head = ledger.store.chained.chain_head()
    assert head is not None
    assert (digest.position, digest.hash) == (head.position, head.hash)
    assert written.summary.digest == digest
    assert written.manifest["head"] == {"position": head.position, "hash": head.hash}
    assert digest.check_signature() is False


def test_a_signer_signs_the_packs_digest(ledger: Ledger, views: Views) -> None:
    signer = Signer(generate_signing_key())

    written = pack(ledger, views, Selection(actor_id="system"), signer=signer)

    digest = Digest.from_json(written.text("digest.json"))
    assert digest.check_signature(signer.public_key) is True
    assert "(signed)" in written.text("README.txt")


def test_nothing_after_the_digest_is_exported(
    ledger: Ledger, views: Views, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = f.money_story(ledger)
    views.catch_up()
    trail = views.audit.trail(story.paid)
    cut = trail[5].position
    link = ledger.store.chained.link_at(cut)
    assert link is not None
    monkeypatch.setattr(
        export, "take_digest", lambda _recorder, _signer: Digest(cut, link.hash, "2024-03-01")
    )

    written = pack(ledger, views, Selection(entity_id=story.paid))

    assert [e["position"] for e in written.events] == [e.position for e in trail[:6]]
    assert written.summary.last_position == cut


def test_the_chain_rows_recompute_with_hashlib_and_match_the_stored_links(
    ledger: Ledger, views: Views
) -> None:
    story = f.money_story(ledger)

    payout = pack(ledger, views, Selection(entity_id=story.paid))
    system = pack(ledger, views, Selection(actor_id="system"))  # from the first event on

    chained = ledger.store.chained
    for written in (payout, system):
        rows = written.rows("chain.csv")
        assert [int(r["position"]) for r in rows] == [e["position"] for e in written.events]
        for row, event in zip(rows, written.events, strict=True):
            digest = sha256(
                f"{row['originator_id']}\n{row['originator_version']}\n{row['topic']}\n"
                f"{row['state_sha256']}"
            )
            link = chained.link_at(int(row["position"]))
            assert link is not None
            assert sha256(f"{row['position']}\n{digest}\n{row['previous_hash']}") == row["hash"]
            assert row["hash"] == link.hash
            assert int(row["previous_position"]) == link.previous
            previous = chained.link_at(link.previous)
            assert row["previous_hash"] == (GENESIS if previous is None else previous.hash)
            assert (row["originator_id"], row["originator_version"]) == (
                event["entity_id"],
                str(event["version"]),
            )
    first = system.rows("chain.csv")[0]
    assert (first["position"], first["previous_position"]) == ("1", "0")
    assert first["previous_hash"] == GENESIS


def test_the_manifest_holds_the_sha256_of_every_other_file(ledger: Ledger, views: Views) -> None:
    story = f.money_story(ledger)

    written = pack(ledger, views, Selection(entity_id=story.person))

    files = written.files
    listed = written.manifest["files"]
    assert set(listed) == FILES - {"manifest.json"}
    for name, entry in listed.items():
        assert entry == {
            "sha256": hashlib.sha256(files[name]).hexdigest(),
            "bytes": len(files[name]),
        }


def test_an_actor_pack_holds_only_what_that_actor_recorded(ledger: Ledger, views: Views) -> None:
    story = f.money_story(ledger)
    ledger.payouts.approve(f.finance("finance-2"), story.pending)

    written = pack(ledger, views, Selection(actor_id="finance-2"))

    assert [(e["event_type"], e["entity_id"]) for e in written.events] == [
        ("Fund.Committed", str(story.place.fund_id)),
        ("Payout.Approved", str(story.pending)),
    ]
    assert {e["actor"] for e in written.events} == {"finance-2"}


def test_a_region_pack_holds_the_regions_events_and_not_the_neighbours(
    ledger: Ledger, views: Views
) -> None:
    here = f.register(ledger)
    there = f.register(ledger, region=f.OTHER_COUNTY)

    written = pack(ledger, views, Selection(region=f.COUNTY))

    assert {e["region_code"] for e in written.events} == {f.COUNTY}
    assert str(here) in {e["entity_id"] for e in written.events}
    assert str(there) not in {e["entity_id"] for e in written.events}
    city = pack(ledger, views, Selection(region="220200"))  # the city stands for 2202
    assert {str(here), str(there)} <= {e["entity_id"] for e in city.events}
    assert city.manifest["selection"]["region"] == "2202"


def test_the_exporters_scope_leaves_out_events_of_other_regions(
    ledger: Ledger, views: Views
) -> None:
    here = f.register(ledger)
    there = f.register(ledger, region=f.OTHER_COUNTY)

    everything = pack(ledger, views, Selection(actor_id="clerk-1"))
    scoped = pack(ledger, views, Selection(actor_id="clerk-1"), scope=f.COUNTY)

    assert {str(here), str(there)} <= {e["entity_id"] for e in everything.events}
    assert str(there) not in {e["entity_id"] for e in scoped.events}
    assert str(here) in {e["entity_id"] for e in scoped.events}
    assert {e["region_code"] for e in scoped.events} <= {f.COUNTY, ""}
    outside = pack(ledger, views, Selection(region=f.OTHER_COUNTY), scope=f.COUNTY)
    assert outside.events == []


# -- dates are local days -------------------------------------------------------------------


def test_a_date_is_a_local_calendar_day_in_the_packs_zone() -> None:
    since, until = local_day_bounds(date(2024, 3, 2), date(2024, 3, 2), SHANGHAI)

    assert since is not None
    assert until is not None
    assert since.astimezone(UTC) == datetime(2024, 3, 1, 16, tzinfo=UTC)
    assert until.astimezone(UTC) == datetime(2024, 3, 2, 15, 59, 59, 999_999, tzinfo=UTC)
    assert local_day_bounds(None, None, SHANGHAI) == (None, None)


def test_an_event_at_17h_utc_belongs_to_the_next_day_in_shanghai(
    ledger: Ledger, views: Views, monkeypatch: pytest.MonkeyPatch
) -> None:
    def registered_at(moment: datetime) -> UUID:
        monkeypatch.setattr("eventsourcing.domain.datetime_now_with_tzinfo", lambda: moment)
        person = f.register(ledger)
        monkeypatch.undo()
        return person

    late_first = registered_at(datetime(2024, 3, 1, 15, 30, tzinfo=UTC))  # 23:30 on 1 March
    early_second = registered_at(datetime(2024, 3, 1, 17, 0, tzinfo=UTC))  # 01:00 on 2 March

    first = pack(
        ledger,
        views,
        Selection(region=f.COUNTY, date_from=date(2024, 3, 1), date_to=date(2024, 3, 1)),
    )
    second = pack(ledger, views, Selection(region=f.COUNTY, date_from=date(2024, 3, 2)))
    both = pack(ledger, views, Selection(region=f.COUNTY, date_to=date(2024, 3, 2)))

    assert [e["entity_id"] for e in first.events] == [str(late_first)]
    assert str(early_second) in [e["entity_id"] for e in second.events]
    assert str(late_first) not in [e["entity_id"] for e in second.events]
    assert [e["entity_id"] for e in both.events] == [str(late_first), str(early_second)]
    [row] = [r for r in second.rows("events.csv") if r["entity_id"] == str(early_second)]
    assert row["recorded_at"].startswith("2024-03-01T17:00:00")
    assert row["recorded_at_local"] == "2024-03-02T01:00:00+08:00"


# -- personal data --------------------------------------------------------------------------


def test_a_pack_is_masked_unless_full_identity_is_asked_for(ledger: Ledger, views: Views) -> None:
    rid, account = f.resident_id(), "6222020287654321"
    person = f.register(ledger, rid=rid, account=account)

    masked = pack(ledger, views, Selection(entity_id=person))
    full = pack(ledger, views, Selection(entity_id=person), full_identity=True)

    [registered] = masked.events
    assert "resident_id" not in registered["payload"]
    assert registered["payload"]["resident_id_masked"] == mask_resident_id(rid)
    assert registered["payload"]["name"] == "测**"
    assert registered["payload"]["bank_account"] == "************4321"
    assert registered["payload"]["birth_date"] == "1980-**-**"
    texts = [masked.text(n) for n in ("events.jsonl", "events.csv", "chain.csv")]
    texts.append(json.dumps(masked.sheet("events"), default=str, ensure_ascii=False))
    assert not [t for t in texts for secret in (rid, account, "测试人") if secret in t]
    [shown] = full.events
    assert shown["payload"]["resident_id"] == rid
    assert shown["payload"]["name"] == "测试人"
    assert shown["payload"]["bank_account"] == account
    assert "id_hash" not in shown["payload"]
    assert ledger.keys.resident_id_hash(rid) not in full.text("events.jsonl")
    assert rid in full.text("events.csv")
    assert "FULL IDENTITIES" in full.text("README.txt")
    assert "FULL IDENTITIES" not in masked.text("README.txt")
    assert full.manifest["full_identity"] is True


def test_an_erased_identity_reads_erased_in_either_pack(ledger: Ledger, views: Views) -> None:
    rid = f.resident_id()
    person = f.register(ledger, rid=rid)
    ledger.people.erase_identity(
        f.clerk(), person, legal_basis="PIPL art. 47", reason="the person asked"
    )

    masked = pack(ledger, views, Selection(entity_id=person))
    full = pack(ledger, views, Selection(entity_id=person), full_identity=True)

    for written in (masked, full):
        registered = next(e for e in written.events if e["event_type"] == "Person.Registered")
        assert registered["payload"]["name"] == "[erased]"
        assert registered["payload"]["bank_account"] == "[erased]"
        assert rid not in written.text("events.jsonl")
    full_registered = next(e for e in full.events if e["event_type"] == "Person.Registered")
    assert full_registered["payload"]["resident_id"] == "[erased]"


# -- spreadsheets ---------------------------------------------------------------------------


def test_the_csv_has_a_bom_fen_and_yuan_and_the_workbook_the_same_rows(
    ledger: Ledger, views: Views
) -> None:
    story = f.money_story(ledger)

    written = pack(ledger, views, Selection(entity_id=story.paid))

    assert written.files["events.csv"].startswith(b"\xef\xbb\xbf")
    rows = written.rows("events.csv")
    requested = next(r for r in rows if r["event_type"] == "Payout.Requested")
    assert (requested["amount_fen"], requested["amount_yuan"]) == ("150000", "1500.00")
    approved = next(r for r in rows if r["event_type"] == "Payout.Approved")
    assert (approved["amount_fen"], approved["amount_yuan"]) == ("", "")
    header, *cells = written.sheet("events")
    assert header == list(export.CSV_COLUMNS)
    columns = list(export.CSV_COLUMNS)
    assert [_as_csv(dict(zip(columns, row, strict=True))) for row in cells] == rows
    chain_header, *chain_cells = written.sheet("chain")
    assert chain_header == list(export.CHAIN_COLUMNS)
    assert [
        {k: "" if v is None else str(v) for k, v in zip(export.CHAIN_COLUMNS, row, strict=True)}
        for row in chain_cells
    ] == written.rows("chain.csv")


def _as_csv(row: dict[str, Any]) -> dict[str, str]:
    """A workbook row as the CSV writes it (yuan as a number with two decimals)."""
    shown = {k: "" if v is None else str(v) for k, v in row.items()}
    if row["amount_yuan"] is not None:
        shown["amount_yuan"] = str(Decimal(str(row["amount_yuan"])).quantize(Decimal("0.01")))
    return shown


def test_text_a_spreadsheet_would_run_as_a_formula_is_shown_as_text(
    ledger: Ledger, views: Views
) -> None:
    story = f.money_story(ledger)
    reason = '=HYPERLINK("http://example.com","duplicate")'
    ledger.payouts.reject(f.finance(), story.pending, reason=reason)

    written = pack(ledger, views, Selection(entity_id=story.pending))

    [rejected] = [e for e in written.events if e["event_type"] == "Payout.Rejected"]
    assert rejected["reason"] == reason  # the exact record
    [row] = [r for r in written.rows("events.csv") if r["event_type"] == "Payout.Rejected"]
    assert row["reason"] == f"'{reason}"
    header, *cells = written.sheet("events")
    column = header.index("reason")
    assert f"'{reason}" in [row[column] for row in cells]


# -- checking a pack ------------------------------------------------------------------------


def run_verify(path: Path, script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter, our own script
        [sys.executable, str(script), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def rewritten(raw: bytes, changes: dict[str, bytes]) -> bytes:
    """The pack with some files replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as old, zipfile.ZipFile(out, "w") as new:
        for name in old.namelist():
            new.writestr(name, changes.get(name, old.read(name)))
    return out.getvalue()


def test_verify_pack_passes_on_a_pack_and_fails_on_a_tampered_one(
    ledger: Ledger, views: Views, tmp_path: Path
) -> None:
    story = f.money_story(ledger)
    written = pack(ledger, views, Selection(entity_id=story.paid))
    script = tmp_path / "verify_pack.py"
    script.write_bytes(written.files["verify_pack.py"])
    good = tmp_path / "pack.zip"
    good.write_bytes(written.raw)

    passed = run_verify(good, script)

    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.startswith("OK: 11 chain rows recompute")
    assert written.text("verify_pack.py") in written.text("README.txt")

    events = written.text("events.jsonl").replace("worked 15 days", "worked 22 days")
    edited = tmp_path / "edited.zip"
    edited.write_bytes(rewritten(written.raw, {"events.jsonl": events.encode()}))
    failed = run_verify(edited, script)
    assert failed.returncode == 1
    assert "events.jsonl: not the file manifest.json lists" in failed.stdout

    # a forger who also fixes the manifest is caught by the chain
    rows = written.text("chain.csv").splitlines()
    position, rest = rows[3].split(",", 1)
    forged_chain = "\n".join([*rows[:3], f"{position},{rest.replace('Payout', 'Fund', 1)}"])
    forged_chain += "\n" + "\n".join(rows[4:]) + "\n"
    manifest = written.manifest
    manifest["files"]["chain.csv"]["sha256"] = hashlib.sha256(forged_chain.encode()).hexdigest()
    forged = tmp_path / "forged.zip"
    forged.write_bytes(
        rewritten(
            written.raw,
            {"chain.csv": forged_chain.encode(), "manifest.json": json.dumps(manifest).encode()},
        )
    )
    caught = run_verify(forged, script)
    assert caught.returncode == 1
    assert f"chain.csv position {position}: the hash does not recompute" in caught.stdout


def test_verify_pack_checks_an_unzipped_folder_too(
    ledger: Ledger, views: Views, tmp_path: Path
) -> None:
    story = f.money_story(ledger)
    written = pack(ledger, views, Selection(entity_id=story.person))
    with zipfile.ZipFile(io.BytesIO(written.raw)) as archive:
        archive.extractall(tmp_path)

    result = run_verify(tmp_path, tmp_path / "verify_pack.py")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")


def test_the_readme_explains_the_pack_in_english_and_chinese(ledger: Ledger, views: Views) -> None:
    story = f.money_story(ledger)

    readme = pack(ledger, views, Selection(entity_id=story.paid)).text("README.txt")

    assert f"entity_id {story.paid}" in readme
    assert "masked" in readme
    assert "disburse audit verify --from-digest digest.json" in readme
    assert 'sha256("{position}\\n{digest}\\n{previous_hash}")' in readme
    assert "中文摘要" in readme
    assert "已按审计轨迹的规则脱敏" in readme


# -- edges ----------------------------------------------------------------------------------


def test_an_empty_selection_is_a_valid_pack_with_no_events(
    ledger: Ledger, views: Views, tmp_path: Path
) -> None:
    written = pack(ledger, views, Selection(actor_id="nobody"))

    assert written.events == []
    assert written.rows("events.csv") == []
    assert written.rows("chain.csv") == []
    assert written.sheet("events") == [list(export.CSV_COLUMNS)]
    assert (written.summary.events, written.summary.first_position) == (0, None)
    assert written.manifest["counts"]["events"] == 0
    path = tmp_path / "empty.zip"
    path.write_bytes(written.raw)
    script = tmp_path / "verify_pack.py"
    script.write_bytes(written.files["verify_pack.py"])
    assert run_verify(path, script).returncode == 0


def test_pages_of_the_view_and_runs_of_the_store_give_the_same_pack(
    ledger: Ledger, views: Views, monkeypatch: pytest.MonkeyPatch
) -> None:
    f.money_story(ledger)
    whole = pack(ledger, views, Selection(region=f.COUNTY))

    monkeypatch.setattr(export, "PAGE", 3)
    monkeypatch.setattr(export, "_RUN_GAP", 1)
    paged = pack(ledger, views, Selection(region=f.COUNTY))

    assert len(whole.events) > 9
    assert paged.events == whole.events
    assert paged.rows("chain.csv") == whole.rows("chain.csv")
    assert paged.rows("events.csv") == whole.rows("events.csv")


@pytest.mark.parametrize(
    ("selection", "rule", "field"),
    [
        ({}, "EXPORT-SELECTION", "selection"),
        ({"actor_id": "clerk-1", "region": f.COUNTY}, "EXPORT-SELECTION", "region"),
        ({"actor_id": "  "}, "EXPORT-SELECTION", "actor_id"),
        ({"region": ""}, "EXPORT-SELECTION", "region"),
        ({"region": "99"}, "REGION-CODE", "region"),
        (
            {"actor_id": "clerk-1", "date_from": date(2024, 3, 2), "date_to": date(2024, 3, 1)},
            "EXPORT-DATES",
            "date_from",
        ),
        ({"actor_id": "clerk-1", "date_from": date.min}, "DATE-RANGE", "date_from"),
        ({"actor_id": "clerk-1", "date_to": date.max}, "DATE-RANGE", "date_to"),
    ],
)
def test_a_selection_that_makes_no_sense_is_refused(
    selection: dict[str, Any], rule: str, field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        Selection(**selection)

    assert (refused.value.rule_id, refused.value.field) == (rule, field)


def test_a_bad_exporter_scope_is_refused_before_anything_is_written(
    ledger: Ledger, views: Views
) -> None:
    out = io.BytesIO()
    with pytest.raises(InvalidInputError) as refused:
        write_pack(
            ledger,
            views,
            Selection(actor_id="clerk-1"),
            out,
            full_identity=False,
            zone=SHANGHAI,
            scope="2x",
            exporter="inspector-1",
        )

    assert (refused.value.rule_id, refused.value.field) == ("REGION-CODE", "scope")
    assert out.getvalue() == b""


class _Pipe(io.RawIOBase):
    """An output that cannot seek, as a streamed HTTP response."""

    def __init__(self) -> None:
        self.written = bytearray()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: Any) -> int:
        self.written += bytes(data)
        return len(data)


def test_a_pack_can_be_streamed_to_an_output_that_cannot_seek(ledger: Ledger, views: Views) -> None:
    story = f.money_story(ledger)
    pipe = _Pipe()
    stream = io.BufferedWriter(pipe)

    summary = write_pack(
        ledger,
        views,
        Selection(entity_id=story.paid),
        stream,
        full_identity=False,
        zone=SHANGHAI,
        exporter="inspector-1",
    )
    stream.flush()

    assert not stream.seekable()
    with zipfile.ZipFile(io.BytesIO(bytes(pipe.written))) as archive:
        assert archive.testzip() is None
        assert set(archive.namelist()) == FILES
        assert len(archive.read("events.jsonl").splitlines()) == summary.events == 11
