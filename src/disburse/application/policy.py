"""Policy catalogue commands and lookups."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from disburse.domain.catalogue import CATALOGUE_ID, PolicyCatalogue, select_in_force

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date

    from disburse.access.context import Context
    from disburse.domain.rules import PolicyDocument
    from disburse.persistence.batching import Changes
    from disburse.persistence.store import LedgerStore


class Policy:
    """Publish catalogue versions; find the version in force."""

    def __init__(self, store: LedgerStore) -> None:
        self._store = store
        #: Parsed documents by version label. A published version never changes
        #: (POLICY-VERSION), so each is validated once per process and shared; the
        #: documents are frozen models.
        self._parsed: dict[str, PolicyDocument] = {}
        self._lock = threading.Lock()

    def versions(self) -> list[PolicyDocument]:
        """Every published version, in publication order (empty before ``disburse init``).

        The catalogue is read, not copied, and brought up to date on every call, so a
        version published by another process is seen at once; only versions not seen
        before are parsed.
        """
        found = self._store.read(PolicyCatalogue, CATALOGUE_ID)
        if found is None:
            return []
        documents = list(found.documents)  # a snapshot: publishing appends to the list
        return [self._parse(document) for document in documents]

    def _parse(self, document: dict[str, Any]) -> PolicyDocument:
        parsed = self._parsed.get(document["version"])
        if parsed is None:
            parsed = PolicyCatalogue.parse(document)
            with self._lock:
                parsed = self._parsed.setdefault(parsed.version, parsed)
        return parsed

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
