"""Sites where public posts are set up: villages and relocation settlement sites."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import InvalidInputError, RuleViolationError
from disburse.domain.meta import Meta
from disburse.domain.regions import check_region_code
from disburse.domain.rules import PolicyDocument


class SiteKind(StrEnum):
    """A village (村) or a relocation settlement site (易地扶贫搬迁安置点)."""

    VILLAGE = "village"
    SETTLEMENT = "settlement"


class Site(Aggregate):
    """A village or settlement site, with its population and the posts set up there."""

    @event("Registered")
    def __init__(
        self,
        *,
        region_code: str,
        kind: SiteKind,
        name: str,
        population: int,
        lifted: bool,
        meta: Meta,
    ) -> None:
        self.region_code = region_code
        self.kind = SiteKind(kind)
        self.name = name
        self.population = population
        self.lifted = lifted
        self.post_ids: list[UUID] = []

    @classmethod
    def register(
        cls,
        *,
        region_code: str,
        kind: SiteKind,
        name: str,
        population: int,
        lifted: bool,
        meta: Meta,
    ) -> Site:
        """Register a site after checking its facts."""
        check_region_code(region_code)
        if not name.strip():
            raise InvalidInputError("SITE-NAME", "a site needs a name", field="name")
        check_population(population)
        return cls(
            region_code=region_code,
            kind=SiteKind(kind),
            name=name.strip(),
            population=population,
            lifted=lifted,
            meta=meta,
        )

    def quota(self, policy: PolicyDocument) -> int | None:
        """Posts allotted to this site by the catalogue; None where no quota applies."""
        if self.kind is SiteKind.SETTLEMENT:
            return policy.post.site_quota(self.population, policy.version)
        return None

    def add_post(self, *, post_id: UUID, policy: PolicyDocument, meta: Meta) -> None:
        """Count a new post against this site (POST-QUOTA-SITE for settlement sites)."""
        quota = self.quota(policy)
        if quota is not None and len(self.post_ids) >= quota:
            raise RuleViolationError(
                "POST-QUOTA-SITE",
                f"settlement site {self.name} ({self.population} people) is allotted "
                f"{quota} posts under catalogue {policy.version}; it has {len(self.post_ids)}",
                field="site_id",
            )
        rules = ("POST-QUOTA-SITE",) if quota is not None else ()
        self._post_added(post_id=post_id, meta=meta.because(*rules, policy_version=policy.version))

    @event("PostAdded")
    def _post_added(self, *, post_id: UUID, meta: Meta) -> None:
        self.post_ids.append(post_id)

    def update_population(self, *, population: int, meta: Meta) -> None:
        """Record a new population count (quotas follow it for new posts)."""
        check_population(population)
        self._population_updated(population=population, meta=meta)

    @event("PopulationUpdated")
    def _population_updated(self, *, population: int, meta: Meta) -> None:
        self.population = population


#: No village or settlement site holds more people (the largest towns are far below it).
MAX_SITE_POPULATION = 1_000_000


def check_population(population: int) -> None:
    """SITE-POPULATION: a whole number of people from 0 to ``MAX_SITE_POPULATION``."""
    if isinstance(population, bool) or not 0 <= population <= MAX_SITE_POPULATION:
        raise InvalidInputError(
            "SITE-POPULATION",
            f"population must be a whole number from 0 to {MAX_SITE_POPULATION:,}",
            "population",
        )
