"""Random samples of payouts drawn for manual inspection, reproducibly.

A payout is in a sample when a hash of the sample's seed and the payout's id falls below
the rate: ``int(sha256(f"{seed}:{payout_id}"), 16) < rate * 2**256``. The draw depends
on nothing else (not the order the payouts are read in, not the other payouts), so the
same seed over the same population gives the same sample, and over a larger population
keeps every payout it selected before. Anyone holding the seed and the payout ids can
redo the draw with a few lines of standard-library Python.

The draw is a fact of its own (``AuditSample.Drawn``), recorded with who drew it and
why, and with a digest of the population it was drawn from.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import InvalidInputError
from disburse.domain.meta import Meta

RATE_RULE = "SAMPLE-RATE"
SEED_RULE = "SAMPLE-SEED"
SEED_MAX = 64
#: ``2**256``: a SHA-256 value is below ``rate * SPACE`` with probability ``rate``.
SPACE = 2**256


def check_rate(rate: float) -> float:
    """A share of the population: more than 0, at most 1 (``InvalidInputError`` otherwise)."""
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1:
        raise InvalidInputError(
            RATE_RULE, f"a sampling rate is more than 0 and at most 1, not {rate!r}", "rate"
        )
    return float(rate)


def check_seed(seed: str) -> str:
    """1 to 64 printable characters, taken as given (``InvalidInputError`` otherwise)."""
    if not isinstance(seed, str) or not 1 <= len(seed) <= SEED_MAX or not seed.isprintable():
        raise InvalidInputError(
            SEED_RULE, f"a seed is 1 to {SEED_MAX} printable characters", "seed"
        )
    return seed


def draw_value(seed: str, payout_id: UUID | str) -> int:
    """The payout's number in this draw: ``sha256("{seed}:{payout_id}")`` as an integer."""
    text = f"{seed}:{UUID(str(payout_id))}"
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


def is_selected(seed: str, payout_id: UUID | str, rate: float) -> bool:
    """Whether the draw with this seed and rate selects the payout."""
    return draw_value(seed, payout_id) < rate * SPACE


class AuditSample(Aggregate):
    """One draw: its rate, seed and region scope, the population and the payouts selected."""

    @event("Drawn")
    def __init__(
        self,
        *,
        rate: float,
        seed: str,
        region_code: str,
        as_of_position: int,
        population: int,
        population_digest: str,
        selected_ids: list[UUID],
        meta: Meta,
    ) -> None:
        self.rate = rate
        self.seed = seed
        self.region_code = region_code  # the scope drawn from ("" is the whole country)
        self.as_of_position = as_of_position
        self.population = population
        self.population_digest = population_digest
        self.selected_ids = list(selected_ids)
        self.drawn_by = meta.actor_id

    @classmethod
    def draw(
        cls,
        *,
        rate: float,
        seed: str,
        region_code: str,
        as_of_position: int,
        population: int,
        population_digest: str,
        selected_ids: list[UUID],
        meta: Meta,
    ) -> AuditSample:
        """Record a draw; the rate and seed are checked again (the log holds only valid draws)."""
        return cls(
            rate=check_rate(rate),
            seed=check_seed(seed),
            region_code=region_code,
            as_of_position=as_of_position,
            population=population,
            population_digest=population_digest,
            selected_ids=list(selected_ids),
            meta=meta,
        )
