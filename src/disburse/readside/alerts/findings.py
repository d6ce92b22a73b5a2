"""Findings become alerts.

An alert is raised once per subject, grows with new evidence, and is never raised again
for evidence an inspector has already dismissed.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.readside.base import Position, dumps

if TYPE_CHECKING:
    from collections.abc import Iterable

    from disburse.readside.db import Tx

ALERT_NAMESPACE = uuid.UUID("8f6c1f0e-3a51-4f55-9a0e-6c1f52a8e010")

ALERTS_DDL = (
    "CREATE TABLE IF NOT EXISTS alerts ("
    " alert_id TEXT PRIMARY KEY, rule_id TEXT NOT NULL, subject_type TEXT NOT NULL,"
    " subject_id TEXT NOT NULL, subject_key TEXT NOT NULL, generation INTEGER NOT NULL,"
    " region_code TEXT NOT NULL, person_id TEXT, summary TEXT NOT NULL,"
    " evidence TEXT NOT NULL, raised_at TEXT NOT NULL, raised_position BIGINT NOT NULL,"
    " updated_position BIGINT NOT NULL, state TEXT NOT NULL, resolved_by TEXT,"
    " resolved_role TEXT, resolution TEXT, resolved_at TEXT, resolved_position BIGINT,"
    " UNIQUE (rule_id, subject_key, generation))",
    "CREATE INDEX IF NOT EXISTS alerts_by_rule ON alerts (rule_id, state)",
    "CREATE INDEX IF NOT EXISTS alerts_by_region ON alerts (region_code, state)",
    # Every region an alert concerns (the region it was raised in, the home region of its
    # person, the region of each claim in its evidence): inspectors of each may see it.
    "CREATE TABLE IF NOT EXISTS alert_regions (alert_id TEXT NOT NULL,"
    " region_code TEXT NOT NULL, PRIMARY KEY (alert_id, region_code))",
    "CREATE INDEX IF NOT EXISTS alert_regions_by_region ON alert_regions (region_code)",
    # The list's order, and its filters (rule and region are served above).
    "CREATE INDEX IF NOT EXISTS alerts_listed"
    " ON alerts (raised_position, rule_id, subject_key, generation)",
    "CREATE INDEX IF NOT EXISTS alerts_by_state ON alerts (state, raised_position)",
    "CREATE INDEX IF NOT EXISTS alerts_by_person ON alerts (person_id)",
    "CREATE INDEX IF NOT EXISTS alert_regions_listed ON alert_regions (region_code, alert_id)",
)


@dataclass(frozen=True)
class Finding:
    """Something a fraud rule saw: which rule, about what, and the events that show it."""

    rule_id: str
    subject_type: str  # person, post, payout, grant, application, account
    subject_id: str
    key: str  # what makes two findings the same alert (with the rule)
    region_code: str
    person_id: str | None
    summary: str
    evidence: tuple[int, ...]
    #: Other regions the finding concerns (e.g. those of the claims in its evidence).
    regions: tuple[str, ...] = ()


def alert_id_for(rule_id: str, key: str, generation: int) -> uuid.UUID:
    """Deterministic, so a rebuilt view names its alerts as the live one did."""
    return uuid.uuid5(ALERT_NAMESPACE, f"{rule_id}:{key}:{generation}")


def record(tx: Tx, findings: Iterable[Finding], where: Position) -> None:
    """Raise, extend or skip an alert for each finding.

    - no alert yet: raise one (open);
    - an open or confirmed alert: add the new evidence to it;
    - a dismissed alert: raise a new one only if the finding brings evidence the
      inspector has not seen; the same evidence is never raised again.
    """
    for finding in findings:
        _record_one(tx, finding, where)


def _record_one(tx: Tx, finding: Finding, where: Position) -> None:
    latest = tx.one(
        "SELECT alert_id, generation, state, evidence FROM alerts"
        " WHERE rule_id = :rule AND subject_key = :key ORDER BY generation DESC LIMIT 1",
        {"rule": finding.rule_id, "key": finding.key},
    )
    evidence = set(finding.evidence)
    if latest is None:
        _raise(tx, finding, 1, sorted(evidence), where)
        return
    seen = set(json.loads(latest["evidence"]))
    if evidence <= seen:
        return
    merged = sorted(seen | evidence)
    if latest["state"] == "dismissed":
        _raise(tx, finding, int(latest["generation"]) + 1, merged, where)
        return
    _file_under_regions(tx, str(latest["alert_id"]), finding)
    tx.write(
        "UPDATE alerts SET evidence = :evidence, summary = :summary,"
        " updated_position = :position WHERE alert_id = :id",
        {
            "evidence": dumps(merged),
            "summary": finding.summary,
            "position": where.position,
            "id": latest["alert_id"],
        },
    )


def _file_under_regions(tx: Tx, alert_id: str, finding: Finding) -> None:
    """Add the regions a finding concerns to its alert: its own, its person's home, others."""
    regions = {finding.region_code, *finding.regions}
    if finding.person_id is not None:
        person = tx.one(
            "SELECT home_region FROM alert_people WHERE person_id = :id",
            {"id": finding.person_id},
        )
        if person is not None:
            regions.add(person["home_region"])
    for region in sorted(regions):
        tx.write(
            "INSERT INTO alert_regions (alert_id, region_code) VALUES (:id, :region)"
            " ON CONFLICT (alert_id, region_code) DO NOTHING",
            {"id": alert_id, "region": region},
        )


def _raise(tx: Tx, finding: Finding, generation: int, evidence: list[int], where: Position) -> None:
    alert_id = str(alert_id_for(finding.rule_id, finding.key, generation))
    _file_under_regions(tx, alert_id, finding)
    tx.write(
        "INSERT INTO alerts (alert_id, rule_id, subject_type, subject_id, subject_key,"
        " generation, region_code, person_id, summary, evidence, raised_at, raised_position,"
        " updated_position, state) VALUES (:id, :rule, :subject_type, :subject_id, :key,"
        " :generation, :region, :person, :summary, :evidence, :at, :position, :position,"
        " 'open')",
        {
            "id": alert_id,
            "rule": finding.rule_id,
            "subject_type": finding.subject_type,
            "subject_id": finding.subject_id,
            "key": finding.key,
            "generation": generation,
            "region": finding.region_code,
            "person": finding.person_id,
            "summary": finding.summary,
            "evidence": dumps(evidence),
            "at": where.at,
            "position": where.position,
        },
    )


def resolve(tx: Tx, alert_id: str, state: str, event_meta: object, where: Position) -> None:
    """Record an inspector's decision (from an ``AlertCase.Resolved`` event)."""
    tx.write(
        "UPDATE alerts SET state = :state, resolved_by = :by, resolved_role = :role,"
        " resolution = :reason, resolved_at = :at, resolved_position = :position"
        " WHERE alert_id = :id",
        {
            "state": state,
            "by": getattr(event_meta, "actor_id", None),
            "role": str(getattr(event_meta, "role", "")),
            "reason": getattr(event_meta, "reason", None),
            "at": where.at,
            "position": where.position,
            "id": alert_id,
        },
    )
