"""Fund commands: budgets per fund source, region and year."""

from __future__ import annotations

from typing import TYPE_CHECKING

from disburse.domain.errors import ConflictError
from disburse.domain.fund import Fund, FundSource, fund_id_for

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.access.context import Context
    from disburse.persistence.batching import Changes
    from disburse.persistence.store import LedgerStore


class Funds:
    """Allocate budgets and top them up."""

    def __init__(self, store: LedgerStore) -> None:
        self._store = store

    def allocate(
        self,
        ctx: Context,
        *,
        source: FundSource,
        region_code: str,
        year: int,
        amount_fen: int,
        reason: str | None = None,
    ) -> UUID:
        """Open the budget of a fund source for a region and year (once)."""

        def decide(changes: Changes) -> UUID:
            fund_id = fund_id_for(FundSource(source), region_code, year)
            if self._store.find(Fund, fund_id) is not None:
                raise ConflictError(
                    "FUND-EXISTS",
                    f"the {source} fund of {region_code} for {year} exists; top it up instead",
                    field="source",
                )
            fund = Fund.allocate(
                source=FundSource(source),
                region_code=region_code,
                year=year,
                amount_fen=amount_fen,
                meta=ctx.meta(reason),
            )
            changes.add(fund)
            return fund.id

        return self._store.transact(decide)

    def top_up(self, ctx: Context, fund_id: UUID, *, amount_fen: int, reason: str) -> None:
        """Add a supplementary allocation."""
        self._store.update(
            Fund,
            fund_id,
            "fund",
            lambda fund, _: fund.top_up(amount_fen=amount_fen, meta=ctx.meta(reason)),
        )

    def covering(self, sources: list[FundSource], region_code: str, year: int) -> Fund | None:
        """The budget that pays for ``region_code`` in ``year``.

        The county's, else the city's, else the province's, in the catalogue's order of sources.
        """
        scopes = [region_code, f"{region_code[:4]}00", f"{region_code[:2]}0000"]
        for source in sources:
            for scope in dict.fromkeys(scopes):
                found = self._store.find(Fund, fund_id_for(source, scope, year))
                if found is not None:
                    return found
        return None

    def get(self, fund_id: UUID) -> Fund:
        """The fund, or ``NotFoundError``."""
        return self._store.load(Fund, fund_id, "fund")
