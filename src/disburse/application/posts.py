"""Public-welfare post commands: sites, posts, appointments, insurance, attendance, exit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from disburse.application.claims import reserve
from disburse.application.payouts import open_payout
from disburse.domain.errors import RuleViolationError
from disburse.domain.fund import Fund, fund_id_for
from disburse.domain.payout import Payout, PayoutKind, payout_id_for
from disburse.domain.person import Person
from disburse.domain.post import ExitReason, InsuranceKind, Post, Stipend
from disburse.domain.post_checks import check_post_fund
from disburse.domain.reservation import Reservation, reservation_id_for
from disburse.domain.site import Site, SiteKind

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date
    from uuid import UUID

    from disburse.access.context import Context
    from disburse.application.policy import Policy
    from disburse.domain.months import Month
    from disburse.domain.rules import PolicyDocument
    from disburse.persistence.batching import Changes
    from disburse.persistence.store import LedgerStore

STIPEND_PROGRAMME = "POST-STIPEND"
ONE_POST_RULE = "POST-ONE-PERSON-ONE-POST"


def seat_key(person_id: UUID) -> str:
    """The reservation key that makes one person hold at most one active post."""
    return f"public-post-holder:{person_id}"


class Posts:
    """Set up posts at sites and run them month by month."""

    def __init__(self, store: LedgerStore, policy: Policy, today: Callable[[], date]) -> None:
        self._store = store
        self._policy = policy
        self._today = today

    def register_site(
        self,
        ctx: Context,
        *,
        region_code: str,
        kind: SiteKind,
        name: str,
        population: int,
        lifted: bool = True,
    ) -> UUID:
        """Register a village or settlement site."""

        def decide(changes: Changes) -> UUID:
            site = Site.register(
                region_code=region_code,
                kind=SiteKind(kind),
                name=name,
                population=population,
                lifted=lifted,
                meta=ctx.meta(),
            )
            changes.add(site)
            return site.id

        return self._store.transact(decide)

    def create_post(
        self,
        ctx: Context,
        *,
        site_id: UUID,
        title: str,
        stipend_fen: int,
        fund_id: UUID,
        part_time: bool,
    ) -> UUID:
        """Set up a post at a site, paid from a fund (POST-QUOTA-SITE, POST-STIPEND-FLOOR)."""

        def decide(changes: Changes) -> UUID:
            site = self._store.load(Site, site_id, "site")
            fund = self._store.load(Fund, fund_id, "fund")
            policy = self._policy.in_force(site.region_code, self._today())
            check_post_fund(fund, site.region_code, policy)
            post = Post.create(
                site_id=site.id,
                region_code=site.region_code,
                title=title,
                stipend_fen=stipend_fen,
                fund_id=fund.id,
                part_time=part_time,
                policy=policy,
                meta=ctx.meta(),
            )
            site.add_post(post_id=post.id, policy=policy, meta=ctx.meta())
            changes.add(post, site)
            return post.id

        return self._store.transact(decide)

    def appoint(
        self, ctx: Context, post_id: UUID, *, person_id: UUID, term_start: date, term_end: date
    ) -> None:
        """Appoint a person for one term; they may hold no other active post."""

        def decide(changes: Changes) -> None:
            post = self.get(post_id)
            person = self._store.load(Person, person_id, "person")
            person.require_identity()
            policy = self._policy.in_force(post.region_code, term_start)
            post.appoint(
                person=person,
                term_start=term_start,
                term_end=term_end,
                policy=policy,
                meta=ctx.meta(),
            )
            seat = reserve(
                self._store,
                key=seat_key(person.id),
                rule_id=ONE_POST_RULE,
                holder_id=post.id,
                refusal=f"person {person.id} already holds another post; exit it first",
                field="person_id",
                meta=ctx.meta(),
            )
            changes.add(post, seat)

        self._store.transact(decide)

    def renew(self, ctx: Context, post_id: UUID, *, term_start: date, term_end: date) -> None:
        """A new term for the current holder (POST-TERM: a term is at most a year)."""

        def decide(changes: Changes) -> None:
            post = self.get(post_id)
            if post.holder_id is None:
                raise RuleViolationError("POST-VACANT", "the post has no holder")
            person = self._store.load(Person, post.holder_id, "person")
            person.require_identity()
            policy = self._policy.in_force(post.region_code, term_start)
            post.renew(
                person=person,
                term_start=term_start,
                term_end=term_end,
                policy=policy,
                meta=ctx.meta(),
            )
            changes.add(post)

        self._store.transact(decide)

    def record_insurance(
        self,
        ctx: Context,
        post_id: UUID,
        *,
        kind: InsuranceKind,
        policy_number: str,
        insurer: str,
        valid_from: date,
        valid_to: date,
    ) -> None:
        """Record the holder's insurance (needed before the first stipend)."""
        self._store.update(
            Post,
            post_id,
            "post",
            lambda post, _: post.record_insurance(
                kind=kind,
                policy_number=policy_number,
                insurer=insurer,
                valid_from=valid_from,
                valid_to=valid_to,
                meta=ctx.meta(),
            ),
        )

    def log_attendance(
        self, ctx: Context, post_id: UUID, *, month: Month, days_worked: int, days_required: int
    ) -> bool:
        """Log a month's attendance sheet (False: that same sheet was logged already).

        The stipend is requested from it by ``request_stipend`` (the monthly run).
        """

        def decide(changes: Changes) -> bool:
            post = self.get(post_id)
            logged = post.log_attendance(
                month=month, days_worked=days_worked, days_required=days_required, meta=ctx.meta()
            )
            changes.add(post)
            return logged

        return self._store.transact(decide)

    def request_stipend(self, ctx: Context, post_id: UUID, month: Month) -> UUID | None:
        """Request the stipend for the attendance logged for ``month``; returns the payout.

        Refused (nothing written) when no sheet was logged, when the month was already
        requested (POST-ATTENDANCE-ONCE), when the sheet names a holder who has since been
        replaced (POST-HOLDER-CHANGED: never pay one person for another's month), or by the
        rules ``record_attendance`` applies.
        """
        return self._pay(
            ctx,
            post_id,
            month,
            lambda post, person, policy: post.request_stipend(
                month=month, person=person, policy=policy, meta=ctx.meta()
            ),
        )

    def record_attendance(
        self, ctx: Context, post_id: UUID, *, month: Month, days_worked: int, days_required: int
    ) -> UUID | None:
        """Record a month's attendance and request that month's stipend; returns the payout."""
        return self._pay(
            ctx,
            post_id,
            month,
            lambda post, person, policy: post.record_attendance(
                month=month,
                days_worked=days_worked,
                days_required=days_required,
                person=person,
                policy=policy,
                meta=ctx.meta(),
            ),
        )

    def _pay(
        self,
        ctx: Context,
        post_id: UUID,
        month: Month,
        attend: Callable[[Post, Person, PolicyDocument], Stipend],
    ) -> UUID | None:
        """In one transaction: the post's stipend for ``month`` (``attend``) and its payout."""

        def decide(changes: Changes) -> UUID | None:
            post = self.get(post_id)
            if post.holder_id is None:
                raise RuleViolationError("POST-VACANT", "the post has no holder", field="post_id")
            person = self._store.load(Person, post.holder_id, "person", copy=False)  # read only
            person.require_identity()
            policy = self._policy.in_force(post.region_code, month.first_day)
            stipend = attend(post, person, policy)
            changes.add(post)
            if stipend.amount_fen == 0:
                return None
            fund = self._fund_for_year(post.fund_id, month.year)
            payout = Payout.request(
                kind=PayoutKind.STIPEND,
                programme=STIPEND_PROGRAMME,
                source_id=post.id,
                period=str(month),
                beneficiary_id=person.id,
                fund_id=fund.id,
                region_code=post.region_code,
                amount_fen=stipend.amount_fen,
                explanation={
                    "policy_version": policy.version,
                    "rule_ids": ["POST-TERM", "POST-INSURANCE", "POST-EXIT-INCOME"],
                    "formula": "stipend_fen * days_worked / days_required, rounded half up"
                    if policy.post.prorate_by_attendance
                    else "stipend_fen when any day was worked",
                    "inputs": {
                        "stipend_fen": post.stipend_fen,
                        "days_worked": stipend.days_worked,
                        "days_required": stipend.days_required,
                        "month": str(month),
                    },
                },
                meta=ctx.meta().because(STIPEND_PROGRAMME, policy_version=policy.version),
            )
            open_payout(payout, policy, self._today(), ctx.meta())
            changes.add(payout)
            return payout.id

        return self._store.transact(decide)

    def _fund_for_year(self, fund_id: UUID, year: int) -> Fund:
        """The budget a stipend of ``year`` is paid from: same source and region, that year.

        Only read (its id names the payout's fund): not copied.
        """
        fund = self._store.load(Fund, fund_id, "fund", copy=False)
        if fund.year == year:
            return fund
        found = self._store.read(Fund, fund_id_for(fund.source, fund.region_code, year))
        if found is None:
            raise RuleViolationError(
                "POST-FUND",
                f"no {fund.source.value} fund of region {fund.region_code} for {year}; "
                "allocate that year's budget first",
                field="month",
            )
        return found

    def update_site_population(self, ctx: Context, site_id: UUID, *, population: int) -> None:
        """Record a new population count for a site (quotas of new posts follow it)."""
        self._store.update(
            Site,
            site_id,
            "site",
            lambda site, _: site.update_population(population=population, meta=ctx.meta()),
        )

    def exit(
        self, ctx: Context, post_id: UUID, *, reason: ExitReason, effective_on: date, note: str = ""
    ) -> None:
        """The holder leaves; they may then take another post."""

        def decide(changes: Changes) -> None:
            post = self.get(post_id)
            person_id = post.exit(
                reason=ExitReason(reason), effective_on=effective_on, note=note, meta=ctx.meta()
            )
            seat = self._store.load(Reservation, reservation_id_for(seat_key(person_id)), "seat")
            seat.release(holder_id=post.id, meta=ctx.meta(note or None).because(ONE_POST_RULE))
            changes.add(post, seat)

        self._store.transact(decide)

    def get(self, post_id: UUID) -> Post:
        """The post, or ``NotFoundError``."""
        return self._store.load(Post, post_id, "post")

    def get_site(self, site_id: UUID) -> Site:
        """The site, or ``NotFoundError``."""
        return self._store.load(Site, site_id, "site")

    @staticmethod
    def stipend_payout_id(post_id: UUID, month: Month) -> UUID:
        """The id the stipend payout of ``post_id`` for ``month`` has (or will have)."""
        return payout_id_for(STIPEND_PROGRAMME, post_id, str(month))
