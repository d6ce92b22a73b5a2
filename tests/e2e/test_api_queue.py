"""The payout queue's paging: keyset (``after``) pages give what offset pages give."""

from __future__ import annotations

from typing import TYPE_CHECKING

from disburse.domain.meta import Role
from tests import factories as f

if TYPE_CHECKING:
    from tests.api_support import Api


def test_keyset_pages_list_the_queue_once_in_order(api: Api) -> None:
    ledger = api.ledger
    place = f.county(ledger)
    requested = [str(p) for p in f.requested_stipends(ledger, place, 5)]
    api.catch_up()
    listed = api.get("/v1/payouts?limit=100", Role.FINANCE).json()
    assert [i["payout_id"] for i in listed["items"]] == requested
    assert listed["next_after"] is None  # one page holds them all

    pages, after = [], None
    while True:
        query = "/v1/payouts?limit=2" + ("" if after is None else f"&after={after}")
        page = api.get(query, Role.FINANCE).json()
        assert page["total"] == 5
        pages.append([i["payout_id"] for i in page["items"]])
        after = page["next_after"]
        if after is None:
            break
    assert pages == [requested[0:2], requested[2:4], requested[4:5]]
    refused = api.get("/v1/payouts?after=-1", Role.FINANCE)
    assert refused.status_code == 422
    assert refused.json()["field"] == "query.after"
