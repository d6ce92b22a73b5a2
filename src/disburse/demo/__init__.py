"""``disburse demo``: a realistic county in a fresh store, irregularities included.

A county of Jilin city over the first half of a year: budgets of the three fund
sources, twelve villages and a relocation settlement site, a registry of a few
thousand people, public posts with six months of attendance, monthly runs and
payments (with failed bank lines and re-issues), transport grants, an application
under every programme, and the planted cases of :mod:`disburse.demo.planted`. At
the end every ``FRAUD-*`` rule has an alert and the balances reconcile; the summary
says so, and the API keys it created for each role are in it.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from disburse.demo.cast import ADMIN, API_CLIENTS, CONSOLE_USERS, FINANCE
from disburse.demo.county import MONTHS, County
from disburse.demo.planted import FRAUD_RULES, Planted
from disburse.domain.months import Month

if TYPE_CHECKING:
    from collections.abc import Callable

    from disburse.bootstrap import System

MIN_PEOPLE = 300  # enough eligible people for every post and every planted case


@dataclass(frozen=True)
class IssuedUser:
    """A console user the demo created, with the initial password (printed once)."""

    username: str
    role: str
    region: str
    password: str


@dataclass(frozen=True)
class IssuedClient:
    """An API key the demo created (printed once; only its hash is stored)."""

    name: str
    role: str
    region: str
    key: str


@dataclass
class DemoSummary:
    """What the demo built, and the checks that it came out right."""

    year: int
    seed: int
    people: int
    posts: int = 0
    stipends: int = 0
    claims: int = 0
    batches: int = 0
    paid: int = 0
    failed: int = 0
    reissued: int = 0
    recoveries: int = 0
    refusals: dict[str, int] = field(default_factory=dict)
    planted: dict[str, str] = field(default_factory=dict)
    alerts: dict[tuple[str, str], int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    events: int = 0
    clients: list[IssuedClient] = field(default_factory=list)
    users: list[IssuedUser] = field(default_factory=list)

    @property
    def rules_without_alert(self) -> list[str]:
        """``FRAUD-*`` rules that raised nothing (empty when the demo came out right)."""
        raised = {rule for rule, _ in self.alerts}
        return [rule for rule in FRAUD_RULES if rule not in raised]

    @property
    def ok(self) -> bool:
        """Every rule raised an alert and the balances reconcile."""
        return not self.rules_without_alert and not self.problems


def build_demo(
    system: System,
    *,
    people: int,
    seed: int,
    year: int,
    say: Callable[[str], None] = lambda _: None,
) -> DemoSummary:
    """Build the county in the system's ledger (a fresh store) and return the summary."""
    ledger, views = system.ledger, system.views
    county = County(ledger, views, random.Random(seed), year, people, say)  # noqa: S311 - a demo
    planted = Planted(county)
    say("catalogue, budgets, villages, organisations")
    county.publish_catalogue()
    county.allocate()
    county.register_sites()
    county.register_organisations()
    county.register_people()
    say("posts, appointments, insurance")
    posts = [*county.create_posts(), planted.outlier_post()]
    candidates = county.candidates()
    county.staff(posts, candidates[: len(posts)])
    spare = candidates[len(posts) :]
    planted.choose()
    free = county.free_people()
    say("transport grants and applications")
    claims = county.claim_grants(free[40:])
    applications = county.apply_for_every_programme(free[:20])
    claims += [payout for payout, _ in applications.values()]
    stipends = 0
    for number in range(1, MONTHS + 1):
        month = Month(year, number)
        say(f"{month}: attendance, monthly run, approval, payment")
        county.log_month(month)
        requested = county.run(month)
        stipends += len(requested)
        if number == 2:
            ledger.payouts.reject(
                FINANCE, requested.pop(0), reason="the sheet lacks the village committee's seal"
            )
        if number == 5:
            requested.append(planted.grant_after_death(free[23]))
        if number == MONTHS:
            requested += claims
        county.cashier.pay(requested, paid_on=month.next().first_day + timedelta(days=9))
        planted.after_month(month)
        if number == 4:
            county.exit_and_replace(month, spare)
    say("late facts, migrated claims, investigation")
    # free[22] and free[23] have their own cases; free[40:] may claim grants
    shared = (free[20], county.of_another_household(free[20], [free[21], *free[24:40]]))
    planted.record_late_facts(free[23], shared)
    planted.migrate(
        county.grantees[0],
        free[22],
        applications["SVC-BROKER"][1][0],
        applications["HIRE-WAGE"][1][0],
    )
    recoveries = planted.investigate()
    clients = system.clients
    issued = [
        clients.create(ADMIN, name=name, role=role, region_code=region)
        for name, role, region in API_CLIENTS
    ]
    people_in = [
        system.users.create(ADMIN, username=name, role=role, region_code=region)
        for name, role, region in CONSOLE_USERS
    ]
    views.catch_up()
    refusals: Counter[str] = Counter()
    for run in county.runs:
        refusals.update(run.refusals_by_rule())
    cashier = county.cashier
    return DemoSummary(
        year=year,
        seed=seed,
        people=people,
        posts=len(posts),
        stipends=stipends,
        claims=len(claims) + 1,
        batches=cashier.batches,
        paid=cashier.paid,
        failed=cashier.failures,
        reissued=cashier.reissued,
        recoveries=recoveries,
        refusals=dict(refusals.most_common()),
        planted=planted.cases,
        alerts=views.alerts.counts(),
        problems=views.check(ledger.store),
        events=ledger.store.recorder.max_notification_id() or 0,
        clients=[
            IssuedClient(i.client.name, i.client.role.value, i.client.region_code, i.key)
            for i in issued
        ],
        users=[
            IssuedUser(u.user.username, u.user.role.value, u.user.region_code, u.password)
            for u in people_in
        ],
    )
