"""``disburse audit`` run as a real process, on SQLite and PostgreSQL.

keygen, digest, verify (and its exit codes: 0 intact, 1 broken or digest refused, 2 a
digest file that cannot be read or invalid settings), as-of and erase. The store is
set up in-process; the commands read and write it from their own process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from disburse.audit.digest import Digest, Signer, generate_signing_key, take_digest
from disburse.audit.verify import verify
from tests import factories as f
from tests.e2e.test_api_audit import cut_tail, tamper
from tests.e2e.test_cli import DISBURSE

if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path

    from disburse.application.ledger import Ledger
    from disburse.settings import Settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
BUDGET = 100_000_000
SEED = generate_signing_key()
PUBLIC_KEY = Signer(SEED).public_key
OTHER_PUBLIC_KEY = Signer(generate_signing_key()).public_key


class Cli:
    """Runs ``disburse`` against one store, as an operator's shell would."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.env = env

    def __call__(
        self, *args: str, stdin: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("DISBURSE_")}
        return subprocess.run(  # noqa: S603 - our own console script
            [DISBURSE, *args],
            cwd=self.cwd,
            env=clean | {"COLUMNS": "200"} | self.env | env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def json(self, *args: str, **env: str) -> Any:
        """The JSON a command printed; it must have succeeded."""
        done = self(*args, **env)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def tomorrow(zone: ZoneInfo = SHANGHAI) -> date:
    return datetime.now(zone).date() + timedelta(days=1)


def head(ledger: Ledger) -> tuple[int, str]:
    link = ledger.store.chained.chain_head()
    assert link is not None
    return link.position, link.hash


# -- without a store --------------------------------------------------------------------------


def test_keygen_prints_a_signing_key_and_the_public_key_to_pin(tmp_path: Path) -> None:
    done = Cli(tmp_path, {})("audit", "keygen")

    assert done.returncode == 0, done.stderr
    seed = re.search(r"^DISBURSE_AUDIT_SIGNING_KEY=(\S+)$", done.stdout, re.MULTILINE)
    public = re.search(r"public key \(give it to inspectors\): (\S+)", done.stdout)
    assert seed is not None
    assert public is not None
    assert Signer(seed.group(1)).public_key == public.group(1)
    assert seed.group(1) != SEED
    assert not list(tmp_path.iterdir())  # no store, no key file


def test_settings_and_arguments_that_cannot_work_exit_2(tmp_path: Path) -> None:
    cli = Cli(tmp_path, {"DISBURSE_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}"})

    bad_key = cli("audit", "digest", DISBURSE_AUDIT_SIGNING_KEY="not a key")
    short_key = cli("audit", "digest", DISBURSE_AUDIT_SIGNING_KEY="c2hvcnQ=")
    bad_zone = cli("audit", "as-of", "2024-03-31", f.COUNTY, DISBURSE_TIMEZONE="Mars/Olympus")
    bad_day = cli("audit", "as-of", "2024-02-30", f.COUNTY)
    no_file = cli("audit", "verify", "--from-digest", str(tmp_path / "missing.json"))
    no_basis = cli(
        "audit", "erase", "00000000-0000-0000-0000-000000000001", "--yes", "--reason", "x"
    )

    for done in (bad_key, short_key, bad_zone, bad_day, no_file, no_basis):
        assert done.returncode == 2, (done.args, done.stdout, done.stderr)
    assert "invalid settings" in bad_key.stderr
    assert "DISBURSE_AUDIT_SIGNING_KEY" in bad_key.stderr
    assert "32 bytes" in short_key.stderr
    assert "unknown time zone 'Mars/Olympus'" in bad_zone.stderr
    assert "invalid date '2024-02-30'" in bad_day.stderr
    assert "cannot read the digest" in no_file.stderr
    assert "--legal-basis" in no_basis.stderr
    assert not (tmp_path / "ledger.db").exists()  # refused before the store was opened


# -- digest -----------------------------------------------------------------------------------


def test_digest_prints_the_head_signed_with_the_key_and_publishes_it_when_asked(
    ledger: Ledger, cli: Cli, tmp_path: Path
) -> None:
    f.county(ledger)
    position, hash_ = head(ledger)
    out = tmp_path / "digest.json"

    plain = cli("audit", "digest", "--out", str(out))
    signed = cli("audit", "digest", "--publish", DISBURSE_AUDIT_SIGNING_KEY=SEED)

    assert plain.returncode == 0, plain.stderr
    assert out.read_text(encoding="utf-8") == plain.stdout
    unsigned = Digest.from_json(plain.stdout)
    assert (unsigned.position, unsigned.hash) == (position, hash_)
    assert unsigned.check_signature() is False
    assert signed.returncode == 0, signed.stderr
    digest = Digest.from_json(signed.stdout)
    assert (digest.position, digest.hash, digest.public_key) == (position, hash_, PUBLIC_KEY)
    assert digest.check_signature(PUBLIC_KEY) is True
    assert ledger.store.chained.select_digests(0, 10) == [
        (position, hash_, digest.taken_at, digest.signature, PUBLIC_KEY)
    ]
    assert verify(ledger.store.chained).digests_checked == 1


# -- verify -----------------------------------------------------------------------------------


def test_verify_an_intact_log_against_a_digest_kept_outside(
    ledger: Ledger, cli: Cli, tmp_path: Path
) -> None:
    signed = tmp_path / "signed.json"
    signed.write_text(take_digest(ledger.store.chained, Signer(SEED)).to_json(), encoding="utf-8")
    kept = Digest.from_json(signed.read_text(encoding="utf-8"))
    f.county(ledger)  # the log grows after the digest was taken
    position, hash_ = head(ledger)

    intact = cli("audit", "verify")
    report = cli.json(
        "audit", "verify", "--json", "--from-digest", str(signed), "--public-key", PUBLIC_KEY
    )
    pinned_by_env = cli(
        "audit", "verify", "--from-digest", str(signed), DISBURSE_AUDIT_PUBLIC_KEY=PUBLIC_KEY
    )

    assert intact.returncode == 0, intact.stderr
    assert f"events checked: {position}" in intact.stdout
    assert f"head: position {position}, hash {hash_}" in intact.stdout
    assert "chain intact" in intact.stdout
    assert "extends the digest" not in intact.stdout
    assert report == {
        "ok": True,
        "checked": position,
        "head": {"position": position, "hash": hash_},
        "digests_checked": 0,
        "extends_digest": True,
        "finding": None,
    }
    assert pinned_by_env.returncode == 0, pinned_by_env.stderr
    assert f"the log extends the digest of {kept.taken_at}" in pinned_by_env.stdout
    assert f"(position {kept.position})" in pinned_by_env.stdout
    assert "chain intact" in pinned_by_env.stdout


def test_a_digest_that_does_not_hold_is_refused_before_the_log_is_read(tmp_path: Path) -> None:
    store = tmp_path / "ledger.db"
    cli = Cli(tmp_path, {"DISBURSE_DATABASE_URL": f"sqlite:///{store}"})
    taken = Digest(position=7, hash="ab" * 32, taken_at="2024-03-01T08:00:00+00:00")
    files = {
        "signed": Signer(SEED).sign(taken).to_json(),
        "unsigned": taken.to_json(),
        "altered": json.dumps(Signer(SEED).sign(taken).as_dict() | {"position": 8}),
        "garbage": "position: 7\n",
    }
    for name, text in files.items():
        (tmp_path / f"{name}.json").write_text(text, encoding="utf-8")

    def verify_with(name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return cli("audit", "verify", "--from-digest", str(tmp_path / f"{name}.json"), *args, **env)

    other_key = verify_with("signed", "--public-key", OTHER_PUBLIC_KEY)
    other_by_env = verify_with("signed", DISBURSE_AUDIT_PUBLIC_KEY=OTHER_PUBLIC_KEY)
    # --public-key wins over the environment's key.
    flag_over_env = verify_with(
        "signed", "--public-key", OTHER_PUBLIC_KEY, DISBURSE_AUDIT_PUBLIC_KEY=PUBLIC_KEY
    )
    altered = verify_with("altered")
    not_signed = verify_with("unsigned", "--public-key", PUBLIC_KEY)
    garbage = verify_with("garbage")

    for done in (other_key, other_by_env, flag_over_env):
        assert done.returncode == 1, done.stderr
        assert "digest refused" in done.stderr
        assert "signed by another key" in done.stderr
    assert altered.returncode == 1
    assert "does not verify: it was altered" in altered.stderr
    assert not_signed.returncode == 1
    assert "the digest is not signed, but a public key was given" in not_signed.stderr
    assert garbage.returncode != 0
    assert "not a disburse digest" in garbage.stderr
    assert not store.exists()  # refused before the store was opened


def test_verify_exits_1_naming_the_position_of_an_event_altered_in_the_database(
    ledger: Ledger, cli: Cli, settings: Settings, tmp_path: Path
) -> None:
    kept = tmp_path / "digest.json"
    kept.write_text(take_digest(ledger.store.chained).to_json(), encoding="utf-8")
    fund_id = f.county(ledger).fund_id
    [allocated] = [
        n
        for n in ledger.store.chained.select_stored(0, 10_000)
        if str(n.originator_id).replace("-", "") == fund_id.hex
    ]
    f.register(ledger)  # the altered event is not the last one

    tamper(settings, allocated.id)
    text = cli("audit", "verify")
    as_json = cli("audit", "verify", "--json", "--from-digest", str(kept))

    assert text.returncode == 1
    assert f"BROKEN at position {allocated.id} (modified)" in text.stdout
    assert "chain intact" not in text.stdout
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert report["checked"] == allocated.id - 1
    assert report["finding"]["position"] == allocated.id
    assert report["finding"]["kind"] == "modified"
    assert report["extends_digest"] is True  # the digest predates the altered event


def test_verify_exits_1_truncated_after_the_last_10_events_since_digest_publish_were_cut(
    ledger: Ledger, cli: Cli, settings: Settings
) -> None:
    """``digest --publish``, then the tail is cut in the database: not "chain intact"."""
    f.county(ledger)
    for _ in range(8):
        f.register(ledger)
    published = cli("audit", "digest", "--publish")
    assert published.returncode == 0, published.stderr
    position = Digest.from_json(published.stdout).position
    assert position > 10

    cut_tail(settings, position - 10)
    text = cli("audit", "verify")

    assert text.returncode == 1, text.stdout
    assert f"BROKEN at position {position - 9} (truncated)" in text.stdout
    assert f"position {position}" in text.stdout
    assert "chain intact" not in text.stdout


# -- as-of ------------------------------------------------------------------------------------


def test_as_of_prints_a_fund_a_person_and_a_region_as_they_stood(ledger: Ledger, cli: Cli) -> None:
    place = f.county(ledger, budget_fen=BUDGET)
    ledger.funds.top_up(f.finance(), place.fund_id, amount_fen=500, reason="supplementary")
    rid = f.resident_id()
    account = "6222020299990000"
    person = str(f.register(ledger, rid=rid, account=account))
    day = tomorrow()
    fund = str(place.fund_id)

    found = cli.json("audit", "as-of", day.isoformat(), fund, "--json")
    in_utc = cli.json(
        "audit", "as-of", tomorrow(ZoneInfo("UTC")).isoformat(), fund, "--json",
        DISBURSE_TIMEZONE="UTC",
    )  # fmt: skip
    masked = cli.json("audit", "as-of", day.isoformat(), person, "--json")
    full = cli.json("audit", "as-of", day.isoformat(), person, "--json", "--full-identity")
    region = cli.json("audit", "as-of", day.isoformat(), f.COUNTY, "--json")
    table = cli("audit", "as-of", day.isoformat(), fund)

    totals = {
        "allocated_fen": BUDGET + 500,
        "available_fen": BUDGET + 500,
        "committed_fen": 0,
        "paid_fen": 0,
        "recovered_fen": 0,
        "recovery_outstanding_fen": 0,
        "balanced": True,
    }
    assert found["as_of"] == day.isoformat()
    assert found["cut"] == datetime(day.year, day.month, day.day, 16, tzinfo=UTC).isoformat()
    assert (found["entity_id"], found["entity_type"]) == (fund, "Fund")
    assert (found["version"], found["later_events"]) == (2, 0)
    assert found["state"]["allocated_fen"] == BUDGET + 500
    assert found["balances"] == totals
    utc_day = tomorrow(ZoneInfo("UTC")) + timedelta(days=1)
    assert (
        in_utc["cut"] == datetime(utc_day.year, utc_day.month, utc_day.day, tzinfo=UTC).isoformat()
    )
    assert in_utc["state"] == found["state"]
    assert region == {"as_of": day.isoformat(), "region": f.COUNTY, "balances": totals}

    for shown in (masked, full):
        assert (shown["entity_type"], shown["version"]) == ("Person", 1)
        assert "balances" not in shown
        assert "id_hash" not in shown["state"]
    assert full["state"]["resident_id"] == rid
    assert full["state"]["bank_account"] == account
    assert "resident_id" not in masked["state"]
    assert masked["state"]["name"] == "测**"
    assert masked["state"]["bank_account"] == "************0000"
    assert rid not in json.dumps(masked)

    assert table.returncode == 0, table.stderr
    assert f"as of the end of {day.isoformat()} (Asia/Shanghai)" in table.stdout
    assert "Fund" in table.stdout
    assert str(BUDGET + 500) in table.stdout


def test_as_of_refuses_a_day_before_the_entity_and_a_target_that_is_no_entity(
    ledger: Ledger, cli: Cli
) -> None:
    fund = str(f.county(ledger).fund_id)
    long_ago = datetime.now(SHANGHAI).date() - timedelta(days=2)

    before = cli("audit", "as-of", long_ago.isoformat(), fund)
    garbage = cli("audit", "as-of", tomorrow().isoformat(), "not-an-entity")

    assert before.returncode == 1
    assert "refused ENTITY-NOT-FOUND (entity_id)" in before.stderr
    assert fund in before.stderr
    assert garbage.returncode == 1
    assert "refused AS-OF-TARGET (entity_id)" in garbage.stderr


def test_a_day_whose_end_is_no_instant_exits_2_with_one_line_and_writes_nothing(
    ledger: Ledger, cli: Cli
) -> None:
    """as-of 9999-12-31 and export --from 0001-01-01 name DATE-RANGE, not a traceback."""
    f.county(ledger)
    pack = ("audit", "export", "--region", f.COUNTY, "--out", "pack.zip")

    runs = {
        "date": cli("audit", "as-of", "9999-12-31", f.COUNTY),
        "--from": cli(*pack, "--from", "0001-01-01", "--to", "0001-01-02"),
        "--to": cli(*pack, "--to", "9999-12-31"),
    }

    for option, done in runs.items():
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(f"invalid {option} DATE-RANGE: ")
        assert line.endswith("out of range: a day is from 0001-01-02 to 9999-12-30")
    assert not (cli.cwd / "pack.zip").exists()


# -- erase ------------------------------------------------------------------------------------


def erasure_events(ledger: Ledger, person: UUID) -> list[Any]:
    return [
        e
        for e in ledger.store.events.get(person)
        if type(e).__qualname__ == "Person.IdentityErased"
    ]


def test_erase_destroys_the_key_once_after_confirmation(ledger: Ledger, cli: Cli) -> None:
    person = f.register(ledger)
    kept = f.register(ledger)
    target = str(person)
    args = ("audit", "erase", target, "--legal-basis", "PIPL art. 47", "--reason", "court order")

    declined = cli(*args, stdin="n\n")
    assert declined.returncode == 1
    assert "Aborted" in declined.stdout + declined.stderr
    assert ledger.store.chained.person_key(person) not in (None, False)
    assert erasure_events(ledger, person) == []
    blank = cli("audit", "erase", target, "--legal-basis", " ", "--reason", "x", "--yes")
    assert blank.returncode == 1
    assert "refused PERSON-ERASURE-BASIS (legal_basis)" in blank.stderr
    unknown = cli(
        "audit", "erase", str(UUID(int=1)), "--legal-basis", "b", "--reason", "r", "--yes"
    )
    assert unknown.returncode == 1
    assert "refused PERSON-NOT-FOUND" in unknown.stderr

    erased = cli(*args, stdin="y\n")
    again = cli(*args, "--yes")

    assert erased.returncode == 0, erased.stderr
    assert f"identity of {target} erased (key destroyed)" in erased.stdout
    assert again.returncode == 0, again.stderr
    assert "the key was already destroyed" in again.stdout
    assert ledger.store.chained.person_key(person) is False
    assert ledger.store.chained.person_key(kept) not in (None, False)
    [event] = erasure_events(ledger, person)  # recorded once, though asked twice
    assert event.legal_basis == "PIPL art. 47"
    assert event.meta.reason == "court order"
    assert event.meta.actor_id.startswith("cli:")
    assert ledger.people.get(person).name == "[erased]"
    assert ledger.people.get(kept).name == "测试人"
    assert verify(ledger.store.chained).ok
    assert cli("audit", "verify").returncode == 0
