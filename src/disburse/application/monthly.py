"""The monthly run: request the stipend of every attendance sheet logged for a month.

For each post of the region whose holder's attendance was logged for the month, the run
asks ``Posts.request_stipend``. The requests are committed a chunk of a few hundred per
transaction (``LedgerStore.transact_each``), each decided alone, so a refusal (insurance
missing, term over, holder exited or dead, income over the threshold, no budget) skips
that post, writes nothing, and is reported by rule while the others go on. A sheet
already requested is counted, not requested again: running the same month twice writes nothing new.

The run finds its work in a :class:`Worklist` (the read side's roster, passed in by the
caller), so the write side never imports the read side.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from disburse.domain.errors import ConflictError, DomainError
from disburse.domain.fund import Fund
from disburse.domain.payout import Payout

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from disburse.access.context import Context
    from disburse.application.ledger import Ledger
    from disburse.domain.months import Month
    from disburse.persistence.batching import Changes

ALREADY_RULE = "POST-ATTENDANCE-ONCE"


class Sheet(Protocol):
    """A logged attendance sheet: whose post, whose attendance, already requested or not."""

    @property
    def post_id(self) -> str: ...  # noqa: D102 - the fields of a sheet
    @property
    def person_id(self) -> str: ...  # noqa: D102
    @property
    def requested(self) -> bool: ...  # noqa: D102


class Roster(Protocol):
    """The sheets logged per month and region, and the posts held."""

    def sheets(self, month: str, region_prefix: str) -> Sequence[Sheet]:
        """Every sheet logged for ``month`` at posts under ``region_prefix``."""
        ...

    def held_posts(self, region_prefix: str) -> int:
        """Posts under ``region_prefix`` with a holder who has not exited."""
        ...


class Worklist(Protocol):
    """Where the run finds its work: a roster brought up to date on request."""

    @property
    def roster(self) -> Roster: ...  # noqa: D102 - the roster the run reads

    def catch_up(self) -> int:
        """Bring the roster up to date with every recorded event."""
        ...


@dataclass
class Total:
    """Stipends of one fund and programme: requested by this run and before it."""

    fund_id: str
    source: str
    fund_region: str
    programme: str
    requested: int = 0
    requested_fen: int = 0
    earlier: int = 0
    earlier_fen: int = 0


@dataclass(frozen=True)
class Refusal:
    """A sheet whose stipend a rule refused (nothing was written for it)."""

    post_id: str
    person_id: str
    rule_id: str
    field: str | None
    message: str


@dataclass
class MonthlyRun:
    """What one run did: totals per fund and programme, refusals by rule."""

    month: str
    region: str
    sheets: int = 0
    held_posts: int = 0
    no_stipend: int = 0
    totals: dict[tuple[str, str], Total] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)
    requested_ids: list[UUID] = field(default_factory=list)  # the payouts of this run

    @property
    def requested(self) -> int:
        """Stipends requested by this run."""
        return sum(t.requested for t in self.totals.values())

    @property
    def requested_fen(self) -> int:
        """Their sum, in fen."""
        return sum(t.requested_fen for t in self.totals.values())

    @property
    def earlier(self) -> int:
        """Stipends of the month requested before this run (a re-run counts them here)."""
        return sum(t.earlier for t in self.totals.values())

    def refusals_by_rule(self) -> dict[str, int]:
        """How many sheets each rule refused, most frequent first."""
        return dict(Counter(r.rule_id for r in self.refusals).most_common())

    def as_json(self) -> dict[str, object]:
        """The summary as plain data (``disburse run month --json``)."""
        return {
            "month": self.month,
            "region": self.region,
            "sheets": self.sheets,
            "held_posts": self.held_posts,
            "requested": self.requested,
            "requested_fen": self.requested_fen,
            "already_requested": self.earlier,
            "no_stipend": self.no_stipend,
            "totals": [vars(t) for t in self.totals.values()],
            "refusals_by_rule": self.refusals_by_rule(),
            "refusals": [vars(r) for r in self.refusals],
            "requested_ids": [str(p) for p in self.requested_ids],
        }


class _Runner:
    """Adds each requested payout to its fund's line, and each refusal to the run.

    Its own lookups (the payout requested, its fund's source and region) only read:
    they take the cached aggregates uncopied (``LedgerStore.read``).
    """

    def __init__(self, ledger: Ledger, ctx: Context, month: Month, run: MonthlyRun) -> None:
        self._ledger = ledger
        self._ctx = ctx
        self._month = month
        self._run = run
        self._funds: dict[UUID, Fund] = {}

    def request(self, sheet: Sheet, changes: Changes) -> UUID | None:
        """Request the sheet's stipend (one item of a chunk)."""
        del changes  # the request's own transaction joins the chunk's
        return self._ledger.posts.request_stipend(self._ctx, UUID(sheet.post_id), self._month)

    def requested(self, sheet: Sheet, payout_id: UUID | None, error: DomainError | None) -> None:
        """Count what the request came to: a payout, nothing to pay, or a refusal."""
        if error is None:
            self._add(None if payout_id is None else self._read(payout_id), now=True)
        elif isinstance(error, ConflictError) and error.rule_id == ALREADY_RULE:
            self.earlier(sheet)  # requested since the view was read
        else:
            self._run.refusals.append(
                Refusal(sheet.post_id, sheet.person_id, error.rule_id, error.field, error.message)
            )

    def earlier(self, sheet: Sheet) -> None:
        """Count a sheet requested before this run."""
        payout_id = self._ledger.posts.stipend_payout_id(UUID(sheet.post_id), self._month)
        self._add(self._read(payout_id), now=False)

    def _read(self, payout_id: UUID) -> Payout | None:
        return self._ledger.store.read(Payout, payout_id)

    def _add(self, payout: Payout | None, *, now: bool) -> None:
        if payout is None:
            self._run.no_stipend += 1  # no day worked: nothing to pay
            return
        fund = self._funds.get(payout.fund_id)
        if fund is None:
            fund = self._ledger.store.load(Fund, payout.fund_id, "fund", copy=False)
            self._funds[fund.id] = fund
        key = (str(fund.id), payout.programme)
        total = self._run.totals.get(key)
        if total is None:
            total = Total(str(fund.id), fund.source.value, fund.region_code, payout.programme)
            self._run.totals[key] = total
        if now:
            self._run.requested_ids.append(payout.id)
            total.requested += 1
            total.requested_fen += payout.amount_fen
        else:
            total.earlier += 1
            total.earlier_fen += payout.amount_fen


def run_month(
    ledger: Ledger,
    views: Worklist,
    ctx: Context,
    *,
    month: Month,
    region: str,
    progress: Callable[[int, int], None] | None = None,
) -> MonthlyRun:
    """Request the stipends of ``month`` for every sheet logged under ``region``."""
    views.catch_up()
    sheets = views.roster.sheets(str(month), region)
    run = MonthlyRun(str(month), region, len(sheets), views.roster.held_posts(region))
    runner = _Runner(ledger, ctx, month, run)
    done = 0
    for sheet in sheets:
        if sheet.requested:
            runner.earlier(sheet)
            done += 1
    pending = [sheet for sheet in sheets if not sheet.requested]
    for sheet, payout_id, error in ledger.store.transact_each(pending, runner.request):
        runner.requested(sheet, payout_id, error)
        done += 1
        if progress is not None:
            progress(done, len(sheets))
    run.totals = dict(sorted(run.totals.items()))
    return run
