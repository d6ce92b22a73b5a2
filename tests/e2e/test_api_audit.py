"""Tamper evidence over HTTP: digests, verification, the ledger as of a day, erasure.

The real app over a real store (SQLite and PostgreSQL). Who may call each route is
checked in ``test_api_access``; these tests check what the routes answer. Tampering is
done straight in the database (sqlite3 / psycopg), as someone with access to it could.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from pydantic import SecretStr

from disburse.api.app import create_app
from disburse.audit import asof
from disburse.audit.digest import (
    Digest,
    DigestError,
    Signer,
    generate_signing_key,
    publish_digest,
)
from disburse.bootstrap import System
from disburse.domain.meta import Role
from disburse.persistence.chain import ALGORITHM
from tests import factories as f
from tests.api_support import Api, make_keys, running_api
from tests.e2e.test_api_lifecycle import STIPEND, County, expect, person_body, refused

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from eventsourcing.domain import DomainEvent
    from httpx2 import Response

    from disburse.application.ledger import Ledger
    from disburse.persistence.chain import Link
    from disburse.readside.views import Views
    from disburse.settings import Settings
    from tests.api_support import LogTrap

SHANGHAI = ZoneInfo("Asia/Shanghai")
BUDGET = 100_000_000
#: A day whose end the tests choose (an instant between two events); any other day ends
#: as configured.
THEN = date(2000, 1, 1)


def tomorrow() -> date:
    """A day whose end is after everything the test records (the service's zone)."""
    return datetime.now(SHANGHAI).date() + timedelta(days=1)


def sixteen_utc(day: date) -> str:
    """The end of ``day`` in Shanghai, as the API writes it."""
    return datetime(day.year, day.month, day.day, 16, tzinfo=UTC).isoformat()


def head_link(api: Api) -> Link:
    link = api.ledger.store.chained.chain_head()
    assert link is not None
    return link


def events_of(api: Api, entity_id: str) -> list[DomainEvent]:
    return list(cast("Iterable[DomainEvent]", api.ledger.store.events.get(UUID(entity_id))))


def between(earlier: DomainEvent, later: DomainEvent) -> datetime:
    assert earlier.timestamp < later.timestamp
    return earlier.timestamp + (later.timestamp - earlier.timestamp) / 2


@pytest.fixture
def day_ends(monkeypatch: pytest.MonkeyPatch) -> dict[date, datetime]:
    """Days whose end is the instant set here; every other day ends as configured."""
    cuts: dict[date, datetime] = {}
    real = asof.end_of_day

    def end_of_day(day: date, zone: ZoneInfo) -> datetime:
        return cuts[day] if day in cuts else real(day, zone)

    monkeypatch.setattr(asof, "end_of_day", end_of_day)
    return cuts


def as_of(api: Api, day: date | str, entity_id: str, role: Role = Role.FINANCE) -> Response:
    return api.get(f"/v1/audit/as-of?date={day}&entity_id={entity_id}", role)


def verify(api: Api, query: str = "", role: Role = Role.INSPECTOR) -> dict[str, Any]:
    return expect(api.get(f"/v1/audit/verify{query}", role), 200)


def cut_tail(settings: Settings, after: int) -> None:
    """Delete the events after ``after`` and their links, as someone with the database could."""
    store = settings.store
    if store.kind == "sqlite":
        assert store.path is not None
        with closing(sqlite3.connect(store.path, isolation_level=None, timeout=30)) as conn:
            conn.execute("DELETE FROM stored_events WHERE rowid > ?", (after,))
            conn.execute("DELETE FROM ledger_chain WHERE position > ?", (after,))
        return
    events, chain = (sql.Identifier(store.schema, t) for t in ("ledger_events", "ledger_chain"))
    with psycopg.connect(
        host=store.host, port=store.port, user=store.user, dbname=store.dbname, autocommit=True
    ) as pg:
        pg.execute(sql.SQL("DELETE FROM {} WHERE notification_id > %s").format(events), (after,))
        pg.execute(sql.SQL("DELETE FROM {} WHERE position > %s").format(chain), (after,))


def tamper(settings: Settings, position: int) -> None:
    """Flip one bit of the stored (encrypted) state of the event at ``position``."""

    def flipped(state: bytes) -> bytes:
        return state[:-1] + bytes([state[-1] ^ 1])

    store = settings.store
    if store.kind == "sqlite":
        assert store.path is not None
        with closing(sqlite3.connect(store.path, isolation_level=None, timeout=30)) as conn:
            (state,) = conn.execute(
                "SELECT state FROM stored_events WHERE rowid = ?", (position,)
            ).fetchone()
            conn.execute(
                "UPDATE stored_events SET state = ? WHERE rowid = ?", (flipped(state), position)
            )
        return
    table = sql.Identifier(store.schema, "ledger_events")
    with psycopg.connect(
        host=store.host, port=store.port, user=store.user, dbname=store.dbname, autocommit=True
    ) as pg:
        row = pg.execute(
            sql.SQL("SELECT state FROM {} WHERE notification_id = %s").format(table), (position,)
        ).fetchone()
        assert row is not None
        pg.execute(
            sql.SQL("UPDATE {} SET state = %s WHERE notification_id = %s").format(table),
            (flipped(bytes(row[0])), position),
        )


# -- digests ----------------------------------------------------------------------------------


def test_the_digest_is_the_head_of_the_chain_unsigned_without_a_key(api: Api) -> None:
    County(api).open_fund()
    link = head_link(api)

    for role in (Role.INSPECTOR, Role.ADMIN):
        body = expect(api.get("/v1/audit/digest", role), 200)
        assert (body["position"], body["hash"]) == (link.position, link.hash)
        assert body["algorithm"] == ALGORITHM
        assert (body["signature"], body["public_key"]) == (None, None)
        taken_at = datetime.fromisoformat(body["taken_at"])
        assert taken_at.utcoffset() == timedelta(0)
        assert abs(datetime.now(UTC) - taken_at) < timedelta(minutes=5)
        assert Digest(**body).check_signature() is False


@pytest.fixture
def signing_key() -> str:
    return generate_signing_key()


@pytest.fixture
def signed_api(
    ledger: Ledger, views: Views, settings: Settings, signing_key: str, log_trap: LogTrap
) -> Iterator[Api]:
    """The app of an installation that signs its digests."""
    assert log_trap is not None
    signing = settings.model_copy(update={"audit_signing_key": SecretStr(signing_key)})
    with running_api(System(signing, ledger, views)) as running:
        yield running


def test_a_digest_is_signed_when_the_service_has_a_signing_key(
    signed_api: Api, signing_key: str
) -> None:
    County(signed_api).open_fund()
    public_key = Signer(signing_key).public_key

    body = expect(signed_api.get("/v1/audit/digest", Role.INSPECTOR), 200)

    digest = Digest(**body)
    assert (digest.position, digest.hash) == (
        head_link(signed_api).position,
        head_link(signed_api).hash,
    )
    assert digest.public_key == public_key
    assert digest.check_signature(public_key) is True
    forged = Digest(**(body | {"position": body["position"] + 1}))
    with pytest.raises(DigestError, match="does not verify"):
        forged.check_signature(public_key)
    with pytest.raises(DigestError, match="another key"):
        digest.check_signature(Signer(generate_signing_key()).public_key)


# -- verification -----------------------------------------------------------------------------


def test_verify_is_ok_on_an_untouched_store_and_says_whether_it_extends_a_digest(
    api: Api,
) -> None:
    county = County(api)
    county.open_fund()
    earlier = expect(api.get("/v1/audit/digest", Role.INSPECTOR), 200)
    county.open_fund(source="east_west")
    county.person()
    link = head_link(api)
    assert link.position > earlier["position"]

    plain = verify(api)
    as_admin = verify(api, role=Role.ADMIN)
    extended = verify(api, f"?position={earlier['position']}&hash={earlier['hash']}")
    rewritten = verify(api, f"?position={earlier['position']}&hash={'0' * 64}")
    truncated = verify(api, f"?position={link.position + 5}&hash={link.hash}")

    assert plain == {
        "ok": True,
        "checked": link.position,
        "head": {"position": link.position, "hash": link.hash},
        "digests_checked": 0,
        "extends_digest": None,
        "finding": None,
    }
    assert as_admin == plain
    assert extended == plain | {"extends_digest": True}
    assert (rewritten["ok"], rewritten["extends_digest"]) == (False, False)
    assert rewritten["finding"]["kind"] == "digest-mismatch"
    assert rewritten["finding"]["position"] == earlier["position"]
    assert (truncated["ok"], truncated["extends_digest"]) == (False, False)
    assert truncated["finding"]["kind"] == "truncated"
    assert truncated["finding"]["position"] == link.position + 1


def test_verify_names_the_position_of_an_event_altered_in_the_database(
    api: Api, settings: Settings
) -> None:
    county = County(api)
    fund_id = county.open_fund()
    position = int(county.created[fund_id].headers["X-Ledger-Position"])
    [stored] = api.ledger.store.chained.select_stored(position - 1, 1)
    assert (stored.id, UUID(str(stored.originator_id))) == (position, UUID(fund_id))
    county.person()  # the altered event is not the last one
    head = head_link(api).position
    before = api.ledger.store.chained.link_at(position - 1)
    assert before is not None

    tamper(settings, position)
    report = verify(api)

    assert report["ok"] is False
    assert report["finding"]["position"] == position
    assert report["finding"]["kind"] == "modified"
    assert fund_id.replace("-", "") in report["finding"]["detail"].replace("-", "")
    assert report["checked"] == position - 1
    assert report["head"] == {"position": position - 1, "hash": before.hash}
    assert head > position


def test_verify_reports_truncated_when_the_tail_after_a_published_digest_was_cut(
    api: Api, settings: Settings
) -> None:
    """Every digest in the digest log is checked: one beyond the log's end is truncated."""
    county = County(api)
    county.open_fund()
    for _ in range(4):
        county.person()
    published = publish_digest(api.ledger.store.chained)  # as the service's publisher does
    assert published is not None
    end = published.position - 10

    cut_tail(settings, end)
    report = verify(api)

    assert report["ok"] is False
    assert report["finding"]["kind"] == "truncated"
    assert report["finding"]["position"] == end + 1
    assert f"position {published.position}" in report["finding"]["detail"]
    assert report["checked"] == end


def test_verify_takes_both_position_and_hash_of_a_digest_or_neither(api: Api) -> None:
    link = head_link(api)

    only_position = refused(
        api.get(f"/v1/audit/verify?position={link.position}", Role.INSPECTOR), 422, "AUDIT-DIGEST"
    )
    only_hash = refused(
        api.get(f"/v1/audit/verify?hash={link.hash}", Role.INSPECTOR), 422, "AUDIT-DIGEST"
    )
    malformed = [
        refused(api.get(f"/v1/audit/verify?position=1&hash={bad}", Role.INSPECTOR), 422, rule)
        for bad, rule in (
            ("xyz", "REQUEST-SCHEMA"),
            (link.hash.upper(), "REQUEST-SCHEMA"),
            (link.hash[:-1], "REQUEST-SCHEMA"),
        )
    ]
    negative = refused(
        api.get(f"/v1/audit/verify?position=-1&hash={link.hash}", Role.INSPECTOR),
        422,
        "REQUEST-SCHEMA",
    )

    assert only_position["field"] == "hash"
    assert only_hash["field"] == "position"
    assert [problem["field"] for problem in malformed] == ["query.hash"] * 3
    assert negative["field"] == "query.position"


# -- as of a day ------------------------------------------------------------------------------


def test_a_fund_as_of_an_earlier_cut_has_its_state_and_balances_of_then(
    api: Api, day_ends: dict[date, datetime]
) -> None:
    county = County(api)
    fund_id = county.open_fund()
    jan = county.stipend(fund_id)
    expect(county.approve(jan.payout_id), 200)
    _, paid = county.pay(fund_id, jan.payout_id, STIPEND, "BOC-1")
    expect(paid, 200)
    allocated, committed, paid_event = events_of(api, fund_id)
    day_ends[THEN] = between(committed, paid_event)
    assert allocated.timestamp < committed.timestamp

    then = expect(as_of(api, THEN, fund_id), 200)
    now = expect(as_of(api, tomorrow(), fund_id), 200)
    as_inspector = expect(as_of(api, THEN, fund_id, Role.INSPECTOR), 200)

    assert then["as_of"] == THEN.isoformat()
    assert then["cut"] == day_ends[THEN].isoformat()
    assert (then["entity_id"], then["entity_type"], then["region"]) == (fund_id, "Fund", None)
    assert (then["version"], then["later_events"]) == (2, 1)
    assert (now["version"], now["later_events"]) == (3, 0)
    fields = ("allocated_fen", "committed_fen", "paid_fen", "recovered_fen")
    assert [then["state"][k] for k in fields] == [BUDGET, STIPEND, 0, 0]
    assert [now["state"][k] for k in fields] == [BUDGET, 0, STIPEND, 0]
    assert then["balances"] == {
        "allocated_fen": BUDGET,
        "available_fen": BUDGET - STIPEND,
        "committed_fen": STIPEND,
        "paid_fen": 0,
        "recovered_fen": 0,
        "recovery_outstanding_fen": 0,
        "balanced": True,
    }
    assert now["balances"] == then["balances"] | {"committed_fen": 0, "paid_fen": STIPEND}
    assert now["cut"] == sixteen_utc(tomorrow())
    assert as_inspector == then


def test_a_person_as_of_a_day_is_masked_for_finance_and_in_full_for_inspectors(
    api: Api,
) -> None:
    rid = f.resident_id()
    account = "6222020255556666"
    person_id = County(api).person(rid=rid, account=account)

    finance = expect(as_of(api, tomorrow(), person_id, Role.FINANCE), 200)
    inspector = expect(as_of(api, tomorrow(), person_id, Role.INSPECTOR), 200)

    for body in (finance, inspector):
        assert (body["entity_type"], body["version"], body["later_events"]) == ("Person", 1, 0)
        assert body["balances"] is None
        assert "id_hash" not in body["state"]
        assert body["state"]["home_region"] == f.COUNTY
    assert inspector["state"]["resident_id"] == rid
    assert inspector["state"]["name"] == "王五"
    assert inspector["state"]["bank_account"] == account
    assert inspector["state"]["birth_date"] == "1980-05-17"
    assert "resident_id" not in finance["state"]
    assert finance["state"]["name"] == "王**"
    assert finance["state"]["bank_account"] == "************6666"
    assert finance["state"]["birth_date"] == "1980-**-**"
    assert finance["state"]["resident_id_masked"] == inspector["state"]["resident_id_masked"]
    text = str(finance)
    assert rid not in text
    assert account not in text
    refused(as_of(api, tomorrow(), person_id, Role.CLERK), 403, "ROLE-FORBIDDEN")


def test_a_region_code_as_of_a_day_gives_the_regions_balances(api: Api) -> None:
    county = County(api)
    county.open_fund(amount_fen=1_000)
    county.open_fund(source="east_west", amount_fen=234)
    day = tomorrow()

    body = expect(as_of(api, day, f.COUNTY), 200)

    assert body["region"] == f.COUNTY
    assert (body["entity_id"], body["entity_type"], body["version"], body["state"]) == (
        None,
        None,
        None,
        None,
    )
    assert body["later_events"] is None
    assert body["cut"] == sixteen_utc(day)
    assert body["balances"] == {
        "allocated_fen": 1_234,
        "available_fen": 1_234,
        "committed_fen": 0,
        "paid_fen": 0,
        "recovered_fen": 0,
        "recovery_outstanding_fen": 0,
        "balanced": True,
    }


def test_as_of_refuses_a_day_before_the_entity_and_a_target_that_is_no_entity(
    api: Api,
) -> None:
    fund_id = County(api).open_fund()
    long_ago = datetime.now(SHANGHAI).date() - timedelta(days=2)

    before = refused(as_of(api, long_ago, fund_id), 404, "ENTITY-NOT-FOUND")
    unknown = refused(as_of(api, tomorrow(), str(UUID(int=7))), 404, "ENTITY-NOT-FOUND")
    garbage = refused(as_of(api, tomorrow(), "not-an-entity"), 422, "AS-OF-TARGET")
    bad_region = refused(as_of(api, tomorrow(), "2202211"), 422, "AS-OF-TARGET")
    bad_day = refused(as_of(api, "2024-02-30", fund_id), 422, "REQUEST-SCHEMA")
    no_day = refused(
        api.get(f"/v1/audit/as-of?entity_id={fund_id}", Role.FINANCE), 422, "REQUEST-SCHEMA"
    )

    assert before["field"] == unknown["field"] == "entity_id"
    assert garbage["field"] == bad_region["field"] == "entity_id"
    assert bad_day["field"] == no_day["field"] == "query.date"


def test_a_day_whose_end_is_no_instant_is_refused_with_date_range_naming_the_query_field(
    api: Api,
) -> None:
    """9999-12-31 has no end and 0001-01-01 no start in Shanghai: 422, not an overflow."""
    fund_id = County(api).open_fund()

    def export(query: str) -> Response:
        return api.get(f"/v1/audit/export?region={f.COUNTY}&{query}", Role.INSPECTOR)

    fund = refused(as_of(api, "9999-12-31", fund_id), 422, "DATE-RANGE")
    region = refused(as_of(api, "9999-12-31", f.COUNTY), 422, "DATE-RANGE")
    since = refused(export("from=0001-01-01&to=0001-01-02"), 422, "DATE-RANGE")
    until = refused(export("to=9999-12-31"), 422, "DATE-RANGE")

    assert fund["field"] == region["field"] == "query.date"
    assert (since["field"], until["field"]) == ("query.from", "query.to")
    assert "0001-01-02 to 9999-12-30" in fund["detail"]
    # The first and last days in range answer.
    assert expect(as_of(api, "9999-12-30", fund_id), 200)["version"] >= 1
    assert expect(as_of(api, "9999-12-30", f.COUNTY), 200)["region"] == f.COUNTY
    assert export("from=0001-01-02&to=9999-12-30").status_code == 200


# -- erasure ----------------------------------------------------------------------------------


def erasure(reason: str = "court order 2024-17") -> dict[str, str]:
    return {"legal_basis": "PIPL art. 47", "reason": reason}


def test_an_erasure_destroys_the_identity_for_good_and_keeps_the_chain(
    api: Api, day_ends: dict[date, datetime]
) -> None:
    county = County(api)
    rid = f.resident_id()
    person_id = county.person(rid=rid)
    path = f"/v1/people/{person_id}/erasure"
    registered_at = events_of(api, person_id)[0].timestamp

    # A refused request erases nothing.
    no_basis = refused(api.post(path, Role.ADMIN, {"reason": "court order"}), 422, "REQUEST-SCHEMA")
    blank_basis = refused(
        api.post(path, Role.ADMIN, erasure() | {"legal_basis": "  "}), 422, "PERSON-ERASURE-BASIS"
    )
    assert no_basis["field"] == "body.legal_basis"
    assert blank_basis["field"] == "legal_basis"
    assert expect(api.get(f"/v1/people/{person_id}", Role.CLERK), 200)["resident_id"] == rid
    refused(
        api.post(f"/v1/people/{UUID(int=9)}/erasure", Role.ADMIN, erasure()),
        404,
        "PERSON-NOT-FOUND",
    )

    erased = api.post(path, Role.ADMIN, erasure())
    assert expect(erased, 200) == {"person_id": person_id, "key_destroyed": True}
    again = api.post(path, Role.ADMIN, erasure("retry"))
    assert expect(again, 200) == {"person_id": person_id, "key_destroyed": False}

    person = expect(api.get(f"/v1/people/{person_id}", Role.CLERK), 200)
    assert (person["resident_id"], person["resident_id_masked"], person["name"]) == (
        "[erased]",
        "[erased]",
        "[erased]",
    )
    assert rid not in str(person)
    for fact in (
        {"kind": "income", "month": "2024-02", "amount_fen": 1000, "source": "farm"},
        {"kind": "bank_account", "bank_account": "6222020277778888", "reason": "new card"},
    ):
        refused(
            api.post(f"/v1/people/{person_id}/facts", Role.CLERK, {"fact": fact}),
            409,
            "PERSON-ERASED",
        )
    # The key is gone: even the registration, read as it stood before the erasure, and by
    # an inspector who sees identities in full, no longer yields them.
    day_ends[THEN] = registered_at + timedelta(microseconds=1)
    before = expect(as_of(api, THEN, person_id, Role.INSPECTOR), 200)
    assert (before["version"], before["later_events"]) == (1, 1)
    assert before["state"]["resident_id"] == "[erased]"
    assert before["state"]["name"] == "[erased]"
    assert before["state"]["bank_account"] == "[erased]"
    assert before["state"]["home_region"] == f.COUNTY  # what is not identity stays

    position = again.headers["X-Ledger-Position"]
    trail = expect(
        api.get(f"/v1/audit/trail/{person_id}", Role.INSPECTOR, **{"X-Min-Position": position}),
        200,
    )
    by_type = {entry["event_type"]: entry for entry in trail["items"]}
    assert [entry["event_type"] for entry in trail["items"]] == [
        "Person.Registered",
        "Person.IdentityErased",
    ]
    shown = by_type["Person.Registered"]["payload"]
    assert (shown["name"], shown["resident_id_masked"], shown["bank_account"]) == (
        "[erased]",
        "[erased]",
        "[erased]",
    )
    erasure_entry = by_type["Person.IdentityErased"]
    assert erasure_entry["reason"] == "court order 2024-17"
    assert erasure_entry["payload"]["legal_basis"] == "PIPL art. 47"
    assert (erasure_entry["actor_id"], erasure_entry["role"]) == ("admin-county", "admin")
    assert erasure_entry["request_id"] == erased.headers["X-Request-Id"]
    assert rid not in str(trail)

    report = verify(api)
    assert report["ok"] is True
    assert report["checked"] == head_link(api).position


def test_an_erasure_touches_no_one_else(api: Api) -> None:
    county = County(api)
    erased_id = county.person()
    kept_rid = f.resident_id()
    kept_id = county.person(rid=kept_rid)

    expect(api.post(f"/v1/people/{erased_id}/erasure", Role.ADMIN, erasure()), 200)

    kept = expect(api.get(f"/v1/people/{kept_id}", Role.CLERK), 200)
    assert (kept["resident_id"], kept["name"]) == (kept_rid, "王五")
    body = person_body(f.resident_id())
    assert expect(api.post("/v1/people", Role.CLERK, body), 201)["id"] not in {erased_id, kept_id}


@pytest.fixture
def lagging_api(
    ledger: Ledger, views: Views, settings: Settings, log_trap: LogTrap
) -> Iterator[Api]:
    """The app without its own projector: views follow the log only when a worker runs."""
    assert log_trap is not None
    keys = make_keys(ledger)
    app = create_app(System(settings, ledger, views), projector=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client=client, ledger=ledger, views=views, keys=keys)


def test_as_of_keeps_an_entity_of_another_region_out_of_reach_while_the_views_lag(
    lagging_api: Api, ledger: Ledger, views: Views
) -> None:
    stranger = str(f.register(ledger, region=f.OTHER_COUNTY))
    worker = threading.Timer(1.0, views.catch_up)  # the views catch up during the request
    worker.start()
    try:
        lagging = as_of(lagging_api, tomorrow(), stranger, Role.INSPECTOR)
    finally:
        worker.join()
    refused(lagging, 403, "REGION-SCOPE")


def test_an_erased_persons_account_reads_erased(api: Api) -> None:
    person_id = County(api).person()
    expect(api.post(f"/v1/people/{person_id}/erasure", Role.ADMIN, erasure()), 200)
    person = expect(api.get(f"/v1/people/{person_id}", Role.CLERK), 200)
    assert person["bank_account_masked"] == "[erased]"


def test_an_erased_person_as_of_now_reads_erased_to_finance_too(api: Api) -> None:
    person_id = County(api).person()
    expect(api.post(f"/v1/people/{person_id}/erasure", Role.ADMIN, erasure()), 200)
    full = expect(as_of(api, tomorrow(), person_id, Role.INSPECTOR), 200)["state"]
    masked = expect(as_of(api, tomorrow(), person_id, Role.FINANCE), 200)["state"]
    assert (full["name"], full["bank_account"]) == ("[erased]", "[erased]")
    assert (masked["name"], masked["bank_account"]) == ("[erased]", "[erased]")


def test_samples_and_erasures_are_idempotent_requests(api: Api) -> None:
    person = f.register(api.ledger)
    calls = (
        ("/v1/audit/samples", Role.INSPECTOR, {"rate": 0.5, "seed": "s", "reason": "review"}),
        (f"/v1/people/{person}/erasure", Role.ADMIN, {"legal_basis": "b", "reason": "r"}),
    )
    for path, role, body in calls:
        first = api.post(path, role, body, **{"Idempotency-Key": f"key-{role.value}"})
        written = api.ledger.store.recorder.max_notification_id()
        retry = api.post(path, role, body, **{"Idempotency-Key": f"key-{role.value}"})
        assert first.status_code in {200, 201}, first.text
        assert (retry.status_code, retry.json()) == (first.status_code, first.json())
        assert retry.headers["Idempotent-Replayed"] == "true"
        assert api.ledger.store.recorder.max_notification_id() == written
