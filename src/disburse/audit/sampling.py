"""Draw a random, reproducible sample of payouts for manual inspection, and record the draw.

The population is every payout in the payout queue view within the region scope (any
status) requested up to the log's head when the draw starts: a set later requests do
not change, so a draw can be redone from its recorded ``as_of_position``. Which payouts
are selected is :func:`disburse.domain.sample.is_selected`; this module streams the
population from the view a page at a time (only the selected ids are kept) and saves
the draw as an ``AuditSample.Drawn`` event with the actor's metadata.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from disburse.domain.regions import region_scope
from disburse.domain.sample import AuditSample, check_rate, check_seed, is_selected

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from disburse.access.context import Context
    from disburse.application.ledger import Ledger
    from disburse.persistence.batching import Changes
    from disburse.readside.views import Views

#: Payout ids read from the view at a time.
PAGE = 1000


@dataclass(frozen=True)
class SampleResult:
    """A recorded draw: its id, parameters, the population's size and the payouts selected."""

    sample_id: UUID
    rate: float
    seed: str
    scope: str
    population: int
    selected: list[UUID]
    population_digest: str = ""
    as_of_position: int = 0


def population_digest(payout_ids: Iterable[str]) -> str:
    r"""SHA-256 of the population: each id (canonical text) and ``"\n"``, ids in ascending order.

    ``payout_ids`` must already be in ascending order (as :func:`population` reads them).
    """
    hasher = hashlib.sha256()
    for payout_id in payout_ids:
        hasher.update(f"{payout_id}\n".encode())
    return hasher.hexdigest()


def population(views: Views, *, scope: str, up_to_position: int) -> Iterator[str]:
    """Ids of the payouts in ``scope`` requested up to a log position, ascending, paged."""
    after = ""
    while True:
        page = views.queue.payout_ids(
            region=scope, up_to_position=up_to_position, after=after, limit=PAGE
        )
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1]


def draw_sample(
    ledger: Ledger,
    views: Views,
    ctx: Context,
    *,
    rate: float,
    seed: str,
    scope: str = "",
    reason: str | None = None,
) -> SampleResult:
    """Select each payout of the population with probability ``rate``, reproducibly.

    ``rate`` is more than 0 and at most 1 (``SAMPLE-RATE``), ``seed`` 1 to 64 printable
    characters (``SAMPLE-SEED``), ``scope`` a region prefix (``""``: the whole country;
    ``REGION-CODE``). Every draw is recorded as a new sample, also a redraw with the same
    seed (which selects the same payouts of the same population). The payout queue view
    is brought up to the head of the log first.
    """
    rate = check_rate(rate)
    seed = check_seed(seed)
    scope = region_scope(scope, "scope")
    head = ledger.store.recorder.max_notification_id() or 0
    views.projector.catch_up(until=head, names=["queue"])
    count = 0
    hasher = hashlib.sha256()
    selected: list[UUID] = []
    for payout_id in population(views, scope=scope, up_to_position=head):
        count += 1
        hasher.update(f"{payout_id}\n".encode())
        if is_selected(seed, payout_id, rate):
            selected.append(UUID(payout_id))
    digest = hasher.hexdigest()

    def decide(changes: Changes) -> SampleResult:
        # The result, not the aggregate: an idempotent API request records its answer
        # from what the transaction returns, in the same transaction.
        sample = AuditSample.draw(
            rate=rate,
            seed=seed,
            region_code=scope,
            as_of_position=head,
            population=count,
            population_digest=digest,
            selected_ids=selected,
            meta=ctx.meta(reason),
        )
        changes.add(sample)
        return SampleResult(
            sample_id=sample.id,
            rate=rate,
            seed=seed,
            scope=scope,
            population=count,
            selected=selected,
            population_digest=digest,
            as_of_position=head,
        )

    return ledger.store.transact(decide)
