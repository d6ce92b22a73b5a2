"""The read side, assembled: the view database, the projector and the queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from disburse.domain.fund import Fund
from disburse.domain.text import readable
from disburse.readside.alerts.queries import AlertQueries
from disburse.readside.alerts.view import AlertsView
from disburse.readside.audit import AuditView
from disburse.readside.audit_queries import AuditQueries
from disburse.readside.balance_queries import BalanceQueries
from disburse.readside.balances import BalancesView
from disburse.readside.db import ViewDB
from disburse.readside.directory import DirectoryView, Seal
from disburse.readside.directory_queries import DirectoryQueries
from disburse.readside.entitlements import EntitlementQueries, EntitlementsView
from disburse.readside.queue import PayoutQueueView
from disburse.readside.queue_queries import QueueQueries
from disburse.readside.roster import RosterQueries, RosterView
from disburse.readside.runner import Projector

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from disburse.persistence.keys import KeyRing
    from disburse.persistence.store import LedgerStore
    from disburse.settings import Settings


@dataclass
class Views:
    """Everything that reads: kept current by the projector, queried by the API and CLI."""

    db: ViewDB
    projector: Projector
    balances: BalanceQueries
    alerts: AlertQueries
    audit: AuditQueries
    queue: QueueQueries
    roster: RosterQueries
    directory: DirectoryQueries
    entitlements: EntitlementQueries

    def catch_up(self) -> int:
        """Apply every event recorded so far (in this process); returns how many."""
        return self.projector.catch_up()

    def wait_for(
        self, position: int, *, timeout: float = 5.0, names: Iterable[str] | None = None
    ) -> None:
        """Read-your-writes: block until every view (or the named ones) has applied ``position``.

        A query names the views it reads, so a view stalled on an event holds up only
        the queries that read it.
        """
        self.projector.wait(position, timeout=timeout, names=names)

    def check(self, store: LedgerStore, *, attempts: int = 3) -> list[str]:
        """Problems found: unbalanced entries, or a fund whose view differs from its events.

        On a busy ledger the funds move on while the view catches up; a difference is
        reported only if it is still there after catching up again (``attempts`` times).
        """
        problems: list[str] = []
        for _ in range(attempts):
            problems = self._check(store)
            if not problems:
                break
            self.catch_up()
        return problems

    def _check(self, store: LedgerStore) -> list[str]:
        problems = [
            f"view {stall.view} is stalled on the event at position {stall.position} "
            f"({stall.event_type}): {stall.error}"
            for stall in self.projector.stalls().values()
        ]
        problems += self.balances.check()
        for balance in self.balances.funds():
            fund = store.find(Fund, UUID(balance.fund_id))
            if fund is None:
                problems.append(f"fund {balance.fund_id} is in the view but not in the ledger")
                continue
            view = balance.totals
            expected = (fund.allocated_fen, fund.committed_fen, fund.paid_fen, fund.recovered_fen)
            seen = (view.allocated_fen, view.committed_fen, view.paid_fen, view.recovered_fen)
            if expected != seen:
                problems.append(
                    f"fund {balance.fund_id}: the view has allocated/committed/paid/recovered "
                    f"{seen}, the ledger {expected}"
                )
        return problems

    def close(self) -> None:
        """Release the view connections."""
        self.db.close()


def _storable_hash(hash_text: Callable[[str], str]) -> Callable[[str], str]:
    """``hash_text``, of the text as a view stores it when the text cannot be encoded.

    Text that could always be hashed keeps its hash; a lone surrogate (an older release
    stored it) is hashed as U+FFFD instead of failing the view.
    """

    def hashed(text: str) -> str:
        try:
            return hash_text(text)
        except UnicodeEncodeError:
            return hash_text(readable(text))

    return hashed


def open_views(store: LedgerStore, keys: KeyRing, settings: Settings) -> Views:
    """The views of this store, in the same database, with their tables created."""
    db = ViewDB(settings.store, settings)
    seal = Seal(keys.directory_key)
    views = [
        BalancesView(),
        PayoutQueueView(),
        AlertsView(_storable_hash(keys.account_hash)),
        AuditView(),
        RosterView(),
        DirectoryView(seal),
        EntitlementsView(),
    ]
    projector = Projector(store, db, views)
    projector.setup()
    return Views(
        db=db,
        projector=projector,
        balances=BalanceQueries(db),
        alerts=AlertQueries(db),
        audit=AuditQueries(db),
        queue=QueueQueries(db),
        roster=RosterQueries(db),
        directory=DirectoryQueries(db, seal),
        entitlements=EntitlementQueries(db),
    )
