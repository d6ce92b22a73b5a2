"""The ledger: the event store and the services that command it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.application.funds import Funds
from disburse.application.grants import Grants
from disburse.application.notices import Notices
from disburse.application.organisations import Organisations
from disburse.application.payouts import Payouts
from disburse.application.people import People
from disburse.application.policy import Policy
from disburse.application.posts import Posts
from disburse.application.subsidies import Subsidies

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from disburse.persistence.keys import KeyRing
    from disburse.persistence.store import LedgerStore


@dataclass
class Ledger:
    """Everything the API, the CLI and the projections need to command the ledger."""

    store: LedgerStore
    keys: KeyRing
    people: People
    funds: Funds
    policy: Policy
    posts: Posts
    payouts: Payouts
    notices: Notices
    grants: Grants
    organisations: Organisations
    subsidies: Subsidies
    today: Callable[[], date]

    @classmethod
    def assemble(cls, store: LedgerStore, keys: KeyRing, today: Callable[[], date]) -> Ledger:
        """Wire the services to one store."""
        policy = Policy(store)
        funds = Funds(store)
        return cls(
            store=store,
            keys=keys,
            people=People(store, keys, today),
            funds=funds,
            policy=policy,
            posts=Posts(store, policy, today),
            payouts=Payouts(store, policy, today),
            notices=Notices(store, policy, today),
            grants=Grants(store, policy, funds, today),
            organisations=Organisations(store),
            subsidies=Subsidies(store, policy, funds, today),
            today=today,
        )

    def close(self) -> None:
        """Release connections."""
        self.store.close()
