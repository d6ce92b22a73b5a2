"""Tamper evidence over HTTP: the chain's head and its verification, time travel, erasure.

The ledger as of a date, evidence packs and review samples for inspectors; the erasure
of an identity (crypto-shredding) for administrators.

Over 400 lines on purpose: the audit surface of the API in one place, so an inspector's
routes share one set of role checks and date rules.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, BinaryIO, cast
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from disburse.api.commands import run_command
from disburse.api.deps import (
    ENTITY,
    QUERY,
    Admin,
    Inspector,
    Overseer,
    command,
    creation,
    problems,
    state,
    wait_for_head,
)
from disburse.api.problems import ApiError
from disburse.api.responses import JSONResponse
from disburse.api.routes.balances import TotalsOut, totals_out
from disburse.api.schemas import Input
from disburse.api.security import Principal, allow, deny
from disburse.audit.asof import end_of_day, entity_as_of, parse_target, region_as_of
from disburse.audit.days import check_day
from disburse.audit.digest import Digest, signer_for, take_digest
from disburse.audit.export import Selection, write_pack
from disburse.audit.sampling import draw_sample
from disburse.audit.verify import verify as verify_chain
from disburse.domain.meta import Role
from disburse.domain.person import Person
from disburse.domain.text import Code, Label, Reason
from disburse.readside.audit_queries import INSPECTORS_ONLY
from disburse.readside.balance_queries import Totals

router = APIRouter(tags=["audit"])

#: Inspectors, and administrators who run the installation, check the chain.
Auditor = Annotated[Principal, Depends(allow(Role.INSPECTOR, Role.ADMIN))]


class DigestOut(BaseModel):
    """The chain's head: keep it outside the system to check the log against it later."""

    position: int = Field(description="Log position of the last chained event (0: empty).")
    hash: str = Field(description="Chain hash at that position (SHA-256, hex).")
    taken_at: str = Field(description="When the digest was taken (UTC, ISO 8601).")
    algorithm: str = Field(description="The chain's hashing scheme (docs/audit.md).")
    signature: str | None = Field(
        description="Base64 Ed25519 signature of the digest, if the service signs digests."
    )
    public_key: str | None = Field(description="Base64 Ed25519 public key that signed it.")


class HeadOut(BaseModel):
    """A position in the chain and its hash."""

    position: int = Field(description="Log position of the last event checked.")
    hash: str = Field(description="Chain hash at that position.")


class FindingOut(BaseModel):
    """The first place where the log differs from what was chained."""

    position: int = Field(description="Log position where the first break was found.")
    kind: str = Field(
        description="modified, reordered, deleted, inserted, unchained, link-altered, "
        "digest-mismatch or truncated (docs/audit.md)."
    )
    detail: str = Field(description="What was found, in words.")


class VerifyOut(BaseModel):
    """The outcome of recomputing the whole chain from the stored events."""

    ok: bool = Field(description="Nothing was found, and the log extends the digest given.")
    checked: int = Field(description="Events whose link was recomputed and matched.")
    head: HeadOut = Field(description="The last position checked and its hash.")
    digests_checked: int = Field(description="Entries of the store's digest log checked.")
    extends_digest: bool | None = Field(
        description="Whether the log extends the digest given (null: none was given)."
    )
    finding: FindingOut | None = Field(description="The first break, if any.")


class BalancesAsOfOut(TotalsOut):
    """Balances in fen as of the cut, and whether they add up."""

    balanced: bool = Field(description="allocated = available + committed + paid - recovered.")


class AsOfOut(BaseModel):
    """An entity (or a region's balances) as it stood at the end of a day."""

    as_of: date = Field(description="The day asked for.")
    cut: str = Field(description="The end of that day in the service's time zone, in UTC.")
    entity_id: UUID | None = Field(description="The entity, if one was asked for.")
    entity_type: str | None = Field(description="Its aggregate (Person, Fund, Payout...).")
    version: int | None = Field(description="Its version at the cut.")
    later_events: int | None = Field(description="How many of its events came after the cut.")
    state: dict[str, Any] | None = Field(
        description="Its fields at the cut (personal data masked unless the key sees it)."
    )
    region: str | None = Field(description="The region scope, if one was asked for.")
    balances: BalancesAsOfOut | None = Field(
        description="A fund's or region's balances at the cut."
    )


def _totals(totals: Totals) -> BalancesAsOfOut:
    return BalancesAsOfOut(**totals_out(totals).model_dump(), balanced=totals.balanced)


@router.get("/v1/audit/digest", response_model=DigestOut, responses=ENTITY)
def get_digest(request: Request, who: Auditor) -> JSONResponse:  # noqa: ARG001 - role check
    """The chain's head now, signed if the service has a signing key."""
    shared = state(request)
    found = take_digest(shared.ledger.store.chained, signer_for(shared.settings))
    return JSONResponse(DigestOut.model_validate(found.as_dict()).model_dump(mode="json"))


@router.get("/v1/audit/verify", response_model=VerifyOut, responses=problems(404, 422))
def verify_log(
    request: Request,
    who: Auditor,  # noqa: ARG001 - role check
    position: Annotated[
        int | None,
        Query(ge=0, le=2**63 - 1, description="Position of a digest taken earlier."),
    ] = None,
    hash_: Annotated[
        Code | None,
        Query(
            alias="hash",
            pattern="^[0-9a-f]{64}$",
            description="Hash of that digest: the log must extend it.",
        ),
    ] = None,
) -> JSONResponse:
    """Recompute the whole chain from the stored events (as `disburse audit verify`).

    The answer is 200 either way: ``ok`` false and ``finding`` name the first position
    where an event was modified, deleted, inserted or reordered. Takes about a second
    per 50,000 events.
    """
    if (position is None) != (hash_ is None):
        raise ApiError(
            422,
            "AUDIT-DIGEST",
            "give both position and hash of the digest, or neither",
            field="hash" if hash_ is None else "position",
        )
    expected = (
        None
        if position is None or hash_ is None
        else Digest(position=position, hash=hash_, taken_at="(given)")
    )
    settings = state(request).settings
    signer = signer_for(settings)
    pinned = settings.audit_public_key or (signer.public_key if signer else None)
    report = verify_chain(
        state(request).ledger.store.chained, from_digest=expected, pinned_public_key=pinned
    )
    return JSONResponse(VerifyOut.model_validate(report.as_dict()).model_dump(mode="json"))


@router.get("/v1/audit/as-of", response_model=AsOfOut, responses=QUERY)
def as_of(
    request: Request,
    who: Overseer,
    day: Annotated[date, Query(alias="date", description="The day (YYYY-MM-DD); its end.")],
    entity_id: Annotated[
        Code,
        Query(
            min_length=2,
            max_length=36,
            description="An entity id, or a region code (2, 4 or 6 digits) for its balances.",
        ),
    ],
) -> JSONResponse:
    """An entity as it stood at the end of a day, rebuilt from its events up to then.

    For a fund or a region, the balances as of then as well. A day out of range is 422
    ``DATE-RANGE``.
    """
    check_day(day, "query.date")
    shared = state(request)
    views = shared.views
    zone = shared.settings.zone
    target = parse_target(entity_id)
    # The views first: the region check reads what the audit view learnt of the entity.
    wait_for_head(request, "audit", "balances")
    if isinstance(target, UUID):
        region = views.audit.region_of(str(target))
        if region:
            who.require_region(region, "the entity")
        found = entity_as_of(
            shared.ledger.store,
            views.balances,
            target,
            day,
            zone,
            full_identity=who.sees_resident_ids,
        )
        if found.entity_type in INSPECTORS_ONLY and who.role is not Role.INSPECTOR:
            deny(
                who,
                "ROLE-FORBIDDEN",
                f"a {found.entity_type} is read as of a date by inspectors only",
                "entity_id",
            )
        stated = found.state.get("region_code") or found.state.get("home_region")
        if isinstance(stated, str) and stated:
            who.require_region(stated, "the entity")
        body = AsOfOut(
            as_of=day,
            cut=found.cut.isoformat(),
            entity_id=found.entity_id,
            entity_type=found.entity_type,
            version=found.version,
            later_events=found.later_events,
            state=found.state,
            region=None,
            balances=_totals(found.balances.totals) if found.balances else None,
        )
    else:
        who.require_region(target, "the region asked for")
        balance = region_as_of(views.balances, target, day, zone)
        body = AsOfOut(
            as_of=day,
            cut=end_of_day(day, zone).isoformat(),
            entity_id=None,
            entity_type=None,
            version=None,
            later_events=None,
            state=None,
            region=balance.scope,
            balances=_totals(balance.totals),
        )
    return JSONResponse(body.model_dump(mode="json"))


class ErasureIn(Input):
    """Why an identity may be erased."""

    legal_basis: Label = Field(
        min_length=1, max_length=500, description="The provision that allows the erasure."
    )
    reason: Reason = Field(min_length=1, max_length=2000, description="Why, for the audit trail.")


class ErasureOut(BaseModel):
    """The erasure done."""

    person_id: UUID = Field(
        description="The person whose identity was erased (the path's person_id)."
    )
    key_destroyed: bool = Field(
        description="Whether the key was destroyed by this request (false: it already was)."
    )


@command(router, "/v1/people/{person_id}/erasure", ErasureOut)
def erase_identity(person_id: UUID, body: ErasureIn, request: Request, who: Admin) -> JSONResponse:
    """Erase a person's identity for good, where the law allows it (crypto-shredding).

    Records who erased it, why and under which provision, then destroys the person's key:
    their resident ID, name and bank account become unreadable in every event; amounts,
    dates, statuses and the hash chain stay. Further commands for the person are refused
    (409 PERSON-ERASED). Cannot be undone.
    """
    people = state(request).ledger.people
    ctx = who.context()
    person = state(request).ledger.store.load(Person, person_id, "person")
    who.require_region(person.home_region, "the person")
    return run_command(
        request,
        who,
        lambda: people.erase_identity(
            ctx, person_id, legal_basis=body.legal_basis, reason=body.reason
        ),
        lambda destroyed: ErasureOut(person_id=person_id, key_destroyed=destroyed),
        payload=body,
        target=person_id,
    )


#: An evidence pack is written to disk past this size while it is made, then streamed.
_PACK_IN_MEMORY = 16 * 2**20


@router.get(
    "/v1/audit/export",
    response_class=Response,
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The evidence pack (docs/audit.md#evidence-packs).",
        },
        **QUERY,
    },
)
def export_evidence_pack(
    request: Request,
    who: Inspector,
    entity_id: Annotated[
        UUID | None, Query(description="Events of this entity and of others naming it.")
    ] = None,
    actor_id: Annotated[
        Code | None,
        Query(min_length=1, max_length=200, description="Events this actor recorded."),
    ] = None,
    region: Annotated[
        Code | None,
        Query(pattern="^[0-9]{2,6}$", description="Events of this region (2, 4 or 6 digits)."),
    ] = None,
    date_from: Annotated[
        date | None, Query(alias="from", description="First day (in the service's time zone).")
    ] = None,
    date_to: Annotated[
        date | None, Query(alias="to", description="Last day (in the service's time zone).")
    ] = None,
) -> Response:
    """An evidence pack (zip) of the events selected.

    It holds the events, their chain hashes, CSV and XLSX sheets, the head digest, a
    manifest and a README on re-checking it.

    Select exactly one of ``entity_id``, ``actor_id`` or ``region`` (422
    ``EXPORT-SELECTION``), optionally within ``from``/``to`` (``EXPORT-DATES``). Only
    events of the key's region are included. Inspector keys see personal data in full.
    Days out of range are 422 ``DATE-RANGE``.
    """
    for day, name in ((date_from, "query.from"), (date_to, "query.to")):
        if day is not None:
            check_day(day, name)
    shared = state(request)
    selection = Selection(
        entity_id=entity_id,
        actor_id=actor_id,
        region=who.scope(region) if region is not None else None,
        date_from=date_from,
        date_to=date_to,
    )
    if entity_id is not None:
        wait_for_head(request, "audit")
        known = shared.views.audit.region_of(str(entity_id))
        if known:
            who.require_region(known, "the entity")
    buffer = tempfile.SpooledTemporaryFile(max_size=_PACK_IN_MEMORY)  # noqa: SIM115 - streamed
    try:
        summary = write_pack(
            shared.ledger,
            shared.views,
            selection,
            cast("BinaryIO", buffer),
            full_identity=who.sees_resident_ids,
            zone=shared.settings.zone,
            scope=who.region,
            exporter=who.context().actor_id,
            signer=signer_for(shared.settings),
        )
    except BaseException:
        buffer.close()
        raise
    buffer.seek(0)

    def chunks() -> Iterator[bytes]:
        with buffer:
            while chunk := buffer.read(2**16):
                yield chunk

    name = f"evidence-{summary.digest.position}-{summary.events}.zip"
    return StreamingResponse(
        chunks(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class SampleIn(Input):
    """A review sample to draw."""

    rate: float = Field(gt=0, le=1, description="Share of payouts to pick, more than 0, at most 1.")
    seed: Code = Field(
        min_length=1, max_length=64, description="Any text: the same seed picks the same."
    )
    region: Code | None = Field(
        default=None,
        pattern="^[0-9]{2,6}$",
        description="Payouts of this region (default: the key's region).",
    )
    reason: Reason = Field(min_length=1, max_length=2000, description="Why, for the audit trail.")


class SampleOut(BaseModel):
    """A review sample, recorded as an AuditSample event."""

    sample_id: UUID = Field(description="The sample (its audit trail holds the draw).")
    rate: float = Field(description="Share asked for.")
    seed: str = Field(
        description="The seed given: the same seed, rate and population pick the same payouts."
    )
    region: str = Field(description="Region scope of the population ('' for all).")
    population: int = Field(description="How many payouts the draw chose from.")
    population_digest: str = Field(description="SHA-256 of the population's sorted ids.")
    as_of_position: int = Field(description="The log position the population was taken at.")
    selected: list[UUID] = Field(description="The payouts picked for review.")


@creation(router, "/v1/audit/samples", SampleOut, tags=["audit"])
def draw_review_sample(body: SampleIn, request: Request, who: Inspector) -> JSONResponse:
    """Pick payouts for manual review, reproducibly (docs/audit.md#review-samples).

    A payout is picked when ``sha256("{seed}:{payout_id}")`` falls below ``rate`` of the
    hash range: the same seed over the same payouts picks the same ones.
    """
    shared = state(request)
    scope = who.scope(body.region)
    ctx = who.context()
    return run_command(
        request,
        who,
        lambda: draw_sample(
            shared.ledger,
            shared.views,
            ctx,
            rate=body.rate,
            seed=body.seed,
            scope=scope,
            reason=body.reason,
        ),
        lambda r: SampleOut(
            sample_id=r.sample_id,
            rate=r.rate,
            seed=r.seed,
            region=r.scope,
            population=r.population,
            population_digest=r.population_digest,
            as_of_position=r.as_of_position,
            selected=r.selected,
        ),
        payload=body,
        status_code=201,
        location=lambda r: f"/v1/audit/trail/{r.sample_id}",
    )
