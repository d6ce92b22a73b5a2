"""The proactive grant run (免申即享): open the grants the facts on record give, without claims.

For each person of the region with work on record that started in the year (the read
side's list, passed in by the caller so the write side never imports the read side),
the run asks ``Grants.entitle``. The grants are committed a chunk of a few hundred per
transaction (``LedgerStore.transact_each``), each decided alone: a refusal (GRANT-ELIG
and why, FRAUD-DUP-GRANT for a person who claimed already, GRANT-FUND, a policy gap)
writes nothing for that person and is reported with its rule, while the others go on.
A grant opened by an earlier run is counted, not opened again: a second run writes
nothing. ``dry_run`` decides every person and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from disburse.domain.errors import DomainError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from disburse.access.context import Context
    from disburse.application.grants import GrantClaim
    from disburse.application.ledger import Ledger
    from disburse.persistence.batching import Changes


class Candidates(Protocol):
    """Who may be entitled: people with work on record that started in a year."""

    def with_work_in(self, year: int, region_prefix: str) -> Sequence[str]:
        """The ids of people under ``region_prefix`` with employment starting in ``year``."""
        ...


class Worklist(Protocol):
    """Where the run finds its candidates: a view brought up to date on request."""

    @property
    def entitlements(self) -> Candidates: ...  # noqa: D102 - the candidates the run reads

    def catch_up(self) -> int:
        """Bring the views up to date with every recorded event."""
        ...


@dataclass(frozen=True)
class Found:
    """A person entitled: the grant and its payout (``created`` False: an earlier run's)."""

    person_id: str
    grant_id: str
    payout_id: str
    amount_fen: int
    created: bool


@dataclass(frozen=True)
class NotFound:
    """A person the run did not entitle, and the rule that stopped them."""

    person_id: str
    rule_id: str
    message: str


@dataclass
class GrantRun:
    """What one run did: who was found (now or before), who was not and why."""

    year: int
    region: str
    dry_run: bool
    candidates: int = 0
    found: list[Found] = field(default_factory=list)
    not_found: list[NotFound] = field(default_factory=list)

    @property
    def opened(self) -> int:
        """Grants opened by this run (would be opened, in a dry run)."""
        return sum(f.created for f in self.found)

    @property
    def opened_fen(self) -> int:
        """Their sum, in fen."""
        return sum(f.amount_fen for f in self.found if f.created)

    @property
    def earlier(self) -> int:
        """Grants an earlier run opened (a re-run counts them here)."""
        return sum(not f.created for f in self.found)

    def not_found_by_rule(self) -> dict[str, int]:
        """How many people each rule stopped, most frequent first."""
        counts: dict[str, int] = {}
        for item in self.not_found:
            counts[item.rule_id] = counts.get(item.rule_id, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def as_json(self) -> dict[str, object]:
        """The run as plain data (``disburse run grants --json``, the API's answer)."""
        return {
            "year": self.year,
            "region": self.region,
            "dry_run": self.dry_run,
            "candidates": self.candidates,
            "opened": self.opened,
            "opened_fen": self.opened_fen,
            "already_opened": self.earlier,
            "not_found_by_rule": self.not_found_by_rule(),
            "found": [vars(f) for f in self.found],
            "not_found": [vars(n) for n in self.not_found],
        }


def run_grants(
    ledger: Ledger,
    views: Worklist,
    ctx: Context,
    *,
    year: int,
    region: str,
    dry_run: bool = False,
) -> GrantRun:
    """Open the transport grants of ``year`` that the facts on record give under ``region``."""
    views.catch_up()
    people = [UUID(p) for p in views.entitlements.with_work_in(year, region)]
    run = GrantRun(year, region, dry_run, candidates=len(people))

    def entitle(person_id: UUID, changes: Changes) -> GrantClaim:
        del changes  # the command's own transaction joins the chunk's
        return ledger.grants.entitle(ctx, person_id, year, dry_run=dry_run)

    outcomes: Iterator[tuple[UUID, GrantClaim | None, DomainError | None]]
    if dry_run:
        outcomes = _each_alone(people, ctx, ledger, year)
    else:
        outcomes = ledger.store.transact_each(people, entitle)
    for person_id, claim, error in outcomes:
        if error is not None or claim is None:
            rule = error.rule_id if error is not None else "GRANT-ELIG"
            message = error.message if error is not None else "not entitled"
            run.not_found.append(NotFound(str(person_id), rule, message))
            continue
        run.found.append(
            Found(
                str(person_id),
                str(claim.grant_id),
                str(claim.payout_id),
                claim.amount_fen,
                claim.created,
            )
        )
    return run


def _each_alone(
    people: list[UUID], ctx: Context, ledger: Ledger, year: int
) -> Iterator[tuple[UUID, GrantClaim | None, DomainError | None]]:
    for person_id in people:
        try:
            yield person_id, ledger.grants.entitle(ctx, person_id, year, dry_run=True), None
        except DomainError as error:
            yield person_id, None, error
