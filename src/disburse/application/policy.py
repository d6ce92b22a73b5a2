"""Policy catalogue commands and lookups."""

from __future__ import annotations

from typing import TYPE_CHECKING

from disburse.domain.catalogue import CATALOGUE_ID, PolicyCatalogue, select_in_force

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date

    from disburse.access.context import Context
    from disburse.domain.rules import PolicyDocument
    from disburse.persistence.store import Changes, LedgerStore


class Policy:
    """Publish catalogue versions; find the version in force."""

    def __init__(self, store: LedgerStore) -> None:
        self._store = store

    def versions(self) -> list[PolicyDocument]:
        """Every published version, in publication order (empty before ``disburse init``)."""
        found = self._store.find(PolicyCatalogue, CATALOGUE_ID)
        return [] if found is None else found.versions()

    def publish(self, ctx: Context, document: PolicyDocument, *, reason: str) -> None:
        """Publish a version (an audited event)."""
        self.publish_many(ctx, [document], reason=reason)

    def publish_many(
        self, ctx: Context, documents: Iterable[PolicyDocument], *, reason: str
    ) -> None:
        """Publish several versions atomically, in order."""

        def decide(changes: Changes) -> None:
            catalogue = self._store.find(PolicyCatalogue, CATALOGUE_ID)
            if catalogue is None:
                catalogue = PolicyCatalogue(meta=ctx.meta(reason))
            for document in documents:
                catalogue.publish(document, meta=ctx.meta(reason))
            changes.add(catalogue)

        self._store.transact(decide)

    def in_force(self, region_code: str, on: date) -> PolicyDocument:
        """The version governing ``region_code`` on ``on`` (``NotFoundError`` if none)."""
        return select_in_force(self.versions(), region_code, on)
