"""The words of an evidence pack: its README and the standard-library script that checks it."""

# Full-width punctuation in the Chinese summary is intended.
# ruff: noqa: RUF001
from __future__ import annotations

from typing import Any, Final

FORMAT: Final = "disburse-evidence-pack-v1"

# -- the pack's own words ---------------------------------------------------------------------

#: ``verify_pack.py``: the check the README describes, with the standard library only.
VERIFY_SCRIPT: Final = r'''"""Check a disburse evidence pack (see README.txt).

Usage: python3 verify_pack.py PACK.zip   (or, in the unzipped folder: python3 verify_pack.py .)
"""

import csv
import hashlib
import io
import json
import pathlib
import sys
import zipfile

PACK = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
FILES = {"README.txt", "verify_pack.py", "digest.json", "events.jsonl", "events.csv",
         "events.xlsx", "chain.csv"}
EVENT = ("originator_id", "originator_version", "topic", "state_sha256")


def sha256(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


def read(name):
    if PACK.is_dir():
        return (PACK / name).read_bytes()
    with zipfile.ZipFile(PACK) as pack:
        return pack.read(name)


problems, hashes = [], {}
listed = json.loads(read("manifest.json"))["files"]
if set(listed) != FILES:
    problems.append(f"manifest.json lists {sorted(listed)}, not {sorted(FILES)}")
for name in FILES & set(listed):
    if sha256(read(name)) != listed[name]["sha256"]:
        problems.append(f"{name}: not the file manifest.json lists (its sha256 differs)")
head = json.loads(read("digest.json"))
for row in csv.DictReader(io.StringIO(read("chain.csv").decode("utf-8-sig"))):
    at, previous = row["position"], row["previous_hash"]
    digest = sha256("\n".join(row[field] for field in EVENT))
    if sha256(f"{at}\n{digest}\n{previous}") != row["hash"]:
        problems.append(f"chain.csv position {at}: the hash does not recompute")
    if hashes.get(row["previous_position"], previous) != previous:
        problems.append(f"chain.csv position {at}: not linked to {row['previous_position']}")
    if at == str(head["position"]) and row["hash"] != head["hash"]:
        problems.append(f"chain.csv position {at}: not the head hash in digest.json")
    hashes[at] = row["hash"]
print("\n".join(problems) or f"OK: {len(hashes)} chain rows recompute; files match manifest.json")
sys.exit(1 if problems else 0)
'''

_MASKED: Final = """\
Personal data is masked as in the ledger's audit trail: resident ID numbers are left out
(resident_id_masked shows the first four and the last four characters), the names of
people show their first character only (张**), bank accounts their last four digits,
and birth dates their year only. The pack can go to people who need the facts, not the
identities. Keyed hashes of ID numbers and of API keys, and request fingerprints, are
never exported."""
_FULL: Final = """\
THIS PACK HOLDS FULL IDENTITIES: resident ID numbers, names and bank accounts in full,
decoded from the ledger for an exporter whose role may see them. Keep it as personal
data (PIPL): for the case it was made for only, not forwarded, deleted when done. Keyed
hashes of ID numbers and of API keys, and request fingerprints, are never exported."""
_ZH_MASKED: Final = "身份证号、姓名、银行账号和出生日期已按审计轨迹的规则脱敏。"
_ZH_FULL: Final = "本包含完整的身份证号、姓名和银行账号，请按个人信息保护法妥善保管。"


def readme(manifest: dict[str, Any], *, signed: bool) -> str:
    """``README.txt``: what the pack is, what is masked and why, and how to check it."""
    selection = manifest["selection"]
    chosen = next(f"{k} {v}" for k, v in selection.items() if v and not k.startswith("date"))
    dates = f"from {selection['date_from'] or 'the start'} to {selection['date_to'] or 'the end'}"
    head, events = manifest["head"], manifest["counts"]["events"]
    positions = (
        f"log positions {manifest['first_position']} to {manifest['last_position']}"
        if events
        else "none matched"
    )
    full = manifest["full_identity"]
    return f"""\
disburse evidence pack ({FORMAT})

WHAT THIS IS
Events of the disburse subsidy ledger, as its audit trail records them, with what proves
they are the ledger's.

  selected        {chosen}
  dates           {dates} (calendar days in {manifest["zone"]})
  region scope    {manifest["scope"] or "all regions"} (the exporter's)
  exported by     {manifest["exporter"]} at {manifest["exported_at"]}
  events          {events}, {positions}
  chain head      position {head["position"]}, hash {head["hash"]}

  events.jsonl    one JSON object per event, in log order: the exact record
  events.csv      the same events as flat columns (UTF-8 with BOM, for Excel)
  events.xlsx     the same as a workbook: sheet "events", and sheet "chain" (chain.csv)
  chain.csv       each event's link in the ledger's hash chain (see CHECKING THE PACK)
  digest.json     the chain's head when the pack was made{" (signed)" if signed else ""}
  manifest.json   the selection, the exporter, the time, and the SHA-256 of every file
  verify_pack.py  the check below, as a script

recorded_at is UTC, recorded_at_local is in {manifest["zone"]}. Amounts are integer fen
(1 yuan = 100 fen); amount_yuan is the same amount in yuan. In the CSV and the workbook,
text that would begin with = + - or @ starts with ' instead, so a spreadsheet shows it
rather than running it as a formula, and a payload too long for a workbook cell is cut
short there: events.jsonl is always exact. An identity erased under the law reads
[erased].

PERSONAL DATA
{_FULL if full else _MASKED}

CHECKING THE PACK
Every event of the ledger has a link in a hash chain, written with the event:

  digest = sha256("{{originator_id}}\\n{{originator_version}}\\n{{topic}}\\n{{state_sha256}}")
  hash   = sha256("{{position}}\\n{{digest}}\\n{{previous_hash}}")

state_sha256 is the SHA-256 of the event as stored (encrypted); the payloads in this
pack are decoded copies of it. previous_hash is the hash of the link before, which may
belong to an event outside this pack. With Python 3 and nothing else installed,

  python3 verify_pack.py PACK.zip      (or in the unzipped folder: python3 verify_pack.py .)

recomputes every row of chain.csv, checks that rows following one another are linked
and that the head's row (if exported) matches digest.json, checks every file against
manifest.json, and prints OK or what differs. This is verify_pack.py:

{VERIFY_SCRIPT}
WHAT THE CHECK PROVES
It proves that the pack is whole and agrees with itself; it cannot prove the pack came
from the ledger, since whoever could rewrite the pack could recompute it. A digest kept
outside the system ties it to the ledger:
1. Compare digest.json with a digest kept elsewhere (one an inspector took earlier with
   `disburse audit digest`, or one in the ledger's published digest log): at the same
   position, the hashes must be equal.
2. On the live ledger, run
       disburse audit verify --from-digest digest.json
   It recomputes the whole chain from the stored events and confirms that the log still
   holds exactly the history digest.json names. The hash of each row of chain.csv can
   then be compared with the ledger's link at that position.
3. A signed digest.json also names the installation that issued it: add
   --public-key KEY, with the key the installation gave you (not the one in the file).

中文摘要
这是 disburse 补贴台账的证据包：所选事件（events.jsonl、events.csv、events.xlsx）、每个事件
在哈希链中的链接（chain.csv）、导出时的链头摘要（digest.json）及各文件的 SHA-256
（manifest.json）。金额单位为分（amount_fen），amount_yuan 为对应的元。
{_ZH_FULL if full else _ZH_MASKED}
用 Python 3 运行 verify_pack.py 可重新计算 chain.csv 的每一行并核对各文件；在线上系统运行
disburse audit verify --from-digest digest.json，可证明台账仍完整保留该摘要所指的全部历史。
"""
