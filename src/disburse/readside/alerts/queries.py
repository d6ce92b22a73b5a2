"""Questions inspectors ask of the alerts view."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from disburse.domain.errors import InvalidInputError
from disburse.domain.regions import check_region_scope
from disburse.readside.listing import RULE, check_page, region_clause

if TYPE_CHECKING:
    from disburse.readside.db import Row, Tx, ViewDB

STATES = ("open", "confirmed", "dismissed")
#: The order alerts are listed in (unique: an alert is one rule, subject and generation).
_ORDER = "raised_position, rule_id, subject_key, generation"
_EXISTS = "SELECT 1 AS found FROM alerts WHERE alert_id = :id"


@dataclass(frozen=True)
class Alert:
    """One alert: the rule, what it is about, the evidence, and its state."""

    alert_id: UUID
    rule_id: str
    subject_type: str
    subject_id: str
    person_id: str | None
    region_code: str  # where it was raised
    summary: str
    evidence: tuple[int, ...]  # positions of the events in the log
    raised_at: str
    raised_position: int
    generation: int  # > 1: raised again after a dismissal, for new evidence
    state: str  # open, confirmed or dismissed
    resolved_by: str | None
    resolution: str | None
    resolved_at: str | None
    #: Every region it concerns, ``region_code`` included, sorted.
    regions: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: Row, regions: tuple[str, ...] = ()) -> Alert:
        """From a row of the ``alerts`` table and the regions filed for it."""
        return cls(
            alert_id=UUID(row["alert_id"]),
            rule_id=row["rule_id"],
            subject_type=row["subject_type"],
            subject_id=row["subject_id"],
            person_id=row["person_id"],
            region_code=row["region_code"],
            summary=row["summary"],
            evidence=tuple(json.loads(row["evidence"])),
            raised_at=row["raised_at"],
            raised_position=int(row["raised_position"]),
            generation=int(row["generation"]),
            state=row["state"],
            resolved_by=row["resolved_by"],
            resolution=row["resolution"],
            resolved_at=row["resolved_at"],
            regions=tuple(sorted({row["region_code"], *regions})),
        )


class AlertQueries:
    """Reads of the alerts view."""

    def __init__(self, db: ViewDB) -> None:
        self.db = db

    def find(
        self,
        *,
        rule: str | None = None,
        state: str | None = None,
        region: str | None = None,
        person_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
        after: UUID | None = None,
    ) -> list[Alert]:
        """Alerts, oldest first, filtered by rule, state, region (code or prefix), person.

        ``after``: keyset paging, the alerts after that one (the last of the page before)
        in this order; a page costs the same however deep, and alerts raised meanwhile
        never shift it. An ``after`` that names no alert is ``InvalidInputError``
        (LIST-FILTER). ``offset`` still works, and reads every row it skips.
        """
        check_page(limit, None)
        conditions = ["1 = 1"]
        params: dict[str, object] = {"limit": limit, "offset": offset}
        if rule is not None:
            conditions.append("rule_id = :rule")
            params["rule"] = rule
        if state is not None:
            conditions.append("state = :state")
            params["state"] = state
        clause, values = region_clause("region_code", region)
        if clause:
            # an alert's own region is filed in alert_regions too (findings._file_under_regions)
            conditions.append(f"alert_id IN (SELECT alert_id FROM alert_regions WHERE {clause})")
            params.update(values)
        if person_id is not None:
            conditions.append("person_id = :person")
            params["person"] = person_id
        if after is not None:
            conditions.append(f"({_ORDER}) > (SELECT {_ORDER} FROM alerts WHERE alert_id = :after)")
            params["after"] = str(after)
        with self.db.read() as tx:
            rows = tx.all(
                f"SELECT * FROM alerts WHERE {' AND '.join(conditions)}"
                f" ORDER BY {_ORDER} LIMIT :limit OFFSET :offset",
                params,
            )
            # an after naming no alert reads as the end of the list: tell them apart
            if not rows and after is not None and tx.one(_EXISTS, {"id": str(after)}) is None:
                raise InvalidInputError(RULE, "after names no alert", "after")
            regions = _regions_of(tx, [r["alert_id"] for r in rows])
        return [Alert.from_row(r, regions.get(r["alert_id"], ())) for r in rows]

    def raised_after(self, position: int, *, limit: int = 1000) -> list[Alert]:
        """Alerts raised (or raised again) by events after ``position``, oldest first."""
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT * FROM alerts WHERE raised_position > :p"
                " ORDER BY raised_position, rule_id, subject_key, generation LIMIT :limit",
                {"p": position, "limit": limit},
            )
            regions = _regions_of(tx, [r["alert_id"] for r in rows])
        return [Alert.from_row(r, regions.get(r["alert_id"], ())) for r in rows]

    def get(self, alert_id: UUID) -> Alert | None:
        """One alert, or None."""
        with self.db.read() as tx:
            row = tx.one("SELECT * FROM alerts WHERE alert_id = :id", {"id": str(alert_id)})
            regions = _regions_of(tx, [str(alert_id)])
        return None if row is None else Alert.from_row(row, regions.get(str(alert_id), ()))

    def rule_of(self, alert_id: UUID) -> str | None:
        """The rule of an alert (for resolving it), or None if there is no such alert."""
        alert = self.get(alert_id)
        return None if alert is None else alert.rule_id

    def counts(self, region: str = "") -> dict[tuple[str, str], int]:
        """Number of alerts per (rule, state) inside a region prefix."""
        check_region_scope(region, field="region")
        clause, params = region_clause("r.region_code", region)
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT a.rule_id, a.state, COUNT(DISTINCT a.alert_id) AS n FROM alert_regions r"
                f" JOIN alerts a ON a.alert_id = r.alert_id WHERE {clause or '1 = 1'}"
                " GROUP BY a.rule_id, a.state ORDER BY a.rule_id, a.state",
                params,
            )
        return {(r["rule_id"], r["state"]): int(r["n"]) for r in rows}


def _regions_of(tx: Tx, alert_ids: list[str]) -> dict[str, tuple[str, ...]]:
    """The regions filed for each of these alerts."""
    if not alert_ids:
        return {}
    names = {f"a{i}": alert_id for i, alert_id in enumerate(alert_ids)}
    rows = tx.all(
        "SELECT alert_id, region_code FROM alert_regions"
        f" WHERE alert_id IN ({', '.join(':' + name for name in names)})"
        " ORDER BY alert_id, region_code",
        names,
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["alert_id"], []).append(row["region_code"])
    return {alert_id: tuple(regions) for alert_id, regions in found.items()}
