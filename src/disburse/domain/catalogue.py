"""The policy catalogue: published versions of the rules, themselves events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import ConflictError, NotFoundError, RuleViolationError
from disburse.domain.meta import Meta, Role
from disburse.domain.rules import PolicyDocument

CATALOGUE_ID = uuid.uuid5(uuid.UUID("8f6c1f0e-3a51-4f55-9a0e-6c1f52a8e003"), "policy-catalogue")

PUBLISHERS = frozenset({Role.ADMIN, Role.SYSTEM})


class PolicyCatalogue(Aggregate):
    """All published catalogue versions. One per ledger (fixed id)."""

    @staticmethod
    def create_id() -> UUID:
        """There is one catalogue."""
        return CATALOGUE_ID

    @event("Started")
    def __init__(self, *, meta: Meta) -> None:
        self.documents: list[dict[str, Any]] = []

    def publish(self, document: PolicyDocument, *, meta: Meta) -> None:
        """Publish a new version (administrators only); labels are unique and never reused."""
        if meta.role not in PUBLISHERS:
            raise RuleViolationError(
                "POLICY-PUBLISHER",
                f"only an administrator publishes catalogue versions, not a {meta.role.value}",
                field="role",
            )
        if any(d["version"] == document.version for d in self.documents):
            raise ConflictError(
                "POLICY-VERSION", f"version {document.version!r} exists", field="version"
            )
        self._version_published(
            document=document.model_dump(mode="json"),
            meta=meta.because(policy_version=document.version),
        )

    @event("VersionPublished")
    def _version_published(self, *, document: dict[str, Any], meta: Meta) -> None:
        self.documents.append(document)

    def versions(self) -> list[PolicyDocument]:
        """Every published version, in publication order."""
        return [self.parse(d) for d in self.documents]

    @staticmethod
    def parse(document: dict[str, Any]) -> PolicyDocument:
        """A published document as the frozen model it was published from."""
        return PolicyDocument.model_validate(document)

    def in_force(self, region_code: str, on: date) -> PolicyDocument:
        """The version that governs ``region_code`` on ``on``."""
        return select_in_force(self.versions(), region_code, on)


def select_in_force(
    documents: Sequence[PolicyDocument], region_code: str, on: date
) -> PolicyDocument:
    """The version that governs ``region_code`` on ``on``.

    The most specific region scope wins; among equals, the latest effective date,
    then the latest published.
    """
    best: tuple[int, date, int] | None = None
    chosen: PolicyDocument | None = None
    for order, document in enumerate(documents):
        if not document.applies(region_code, on):
            continue
        key = (len(document.region_prefix), document.effective_from, order)
        if best is None or key > best:
            best, chosen = key, document
    if chosen is None:
        raise NotFoundError(
            "POLICY-IN-FORCE",
            f"no catalogue version covers region {region_code} on {on.isoformat()}; "
            "run `disburse init` or publish one",
        )
    return chosen
