"""Pages written from the views' rows (api/pages.py) say what the models said, field by field."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from disburse.domain.meta import Role
from disburse.readside.base import jsonable
from tests import factories as f

if TYPE_CHECKING:
    from disburse.readside.audit_queries import AuditEntry
    from tests.api_support import Api


def test_the_queue_page_equals_the_payouts_as_the_queries_read_them(api: Api) -> None:
    """Every field of every queued payout, evidence included, as QueuedPayout holds it."""
    story = f.money_story(api.ledger)
    f.requested_stipends(api.ledger, story.place, 3)
    api.catch_up()
    for status in (None, "paid", "failed", "rejected", "recovered", "recovery_ordered"):
        query = "" if status is None else f"&status={status}"
        page = api.get(f"/v1/payouts?limit=1000{query}", Role.FINANCE).json()
        expected = [
            {
                "payout_id": p.payout_id,
                "kind": p.kind.value,
                "programme": p.programme,
                "beneficiary_id": p.beneficiary_id,
                "fund_id": p.fund_id,
                "region_code": p.region_code,
                "period": p.period,
                "amount_fen": p.amount_fen,
                "status": p.status.value,
                "requested_at": p.requested_at.isoformat(),
                "open_objections": p.open_objections,
                "explanation": p.explanation,
                "evidence": None
                if p.evidence is None
                else jsonable(dataclasses.asdict(p.evidence)),
                "version": p.version,
            }
            for p in api.views.queue.pending(limit=1000, status=status)
        ]
        assert page["items"] == expected
        assert page["total"] == len(expected)


def test_feed_and_trail_pages_equal_the_entries_as_the_queries_read_them(api: Api) -> None:
    """Payloads and rule IDs spliced in as stored read back as the decoded entries."""
    story = f.money_story(api.ledger)
    api.catch_up()
    feed = api.get("/v1/events?limit=1000", Role.INSPECTOR).json()["items"]
    trail = api.get(f"/v1/audit/trail/{story.paid}", Role.INSPECTOR).json()["items"]
    for items, entries in (
        (feed, api.views.audit.feed(limit=1000, scope=f.COUNTY)),
        (trail, api.views.audit.trail(story.paid, limit=200, scope=f.COUNTY)),
    ):
        assert items == [_entry(e) for e in entries]


def _entry(entry: AuditEntry) -> dict[str, Any]:
    fields: dict[str, Any] = dict(vars(entry))
    return fields | {"recorded_at": entry.recorded_at.isoformat(), "rule_ids": list(entry.rule_ids)}
