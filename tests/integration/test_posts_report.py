"""POST-QUOTA-VILLAGE on SQLite and PostgreSQL: the villages below their minimum of posts.

``villages`` builds the ledger the report tests read (the CLI tests too): three villages
not yet lifted (one with enough people on post, one short after an exit, one in another
county with no post and its own catalogue minimum), a lifted village and a settlement
site short of posts, which the rule does not cover.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from disburse.cli.report import village_minimum
from disburse.domain.errors import InvalidInputError
from disburse.domain.post import ExitReason
from disburse.domain.site import SiteKind
from disburse.readside.reports import posts_report
from tests import factories as f

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from disburse.readside.reports import Value
    from disburse.readside.views import Views

#: The catalogue of the other county asks for three posts per village, not five.
OTHER_MINIMUM = 3
SHORT, FULL, EMPTY = "新立村", "红旗村", "太平村"
#: The report's rows: region, village, population, posts, on post, minimum, shortfall.
BELOW = [
    (f.COUNTY, SHORT, 900, 5, 2, 5, 3),
    (f.OTHER_COUNTY, EMPTY, 700, 0, 0, OTHER_MINIMUM, OTHER_MINIMUM),
    ("total 合计", "2 of 3 villages", None, 5, 2, 8, 6),
]


def _village(ledger: Ledger, name: str, region: str, population: int, *, lifted: bool) -> UUID:
    return ledger.posts.register_site(
        f.clerk(),
        region_code=region,
        kind=SiteKind.VILLAGE,
        name=name,
        population=population,
        lifted=lifted,
    )


def _posts(ledger: Ledger, place: f.County, site: UUID, count: int, held: int) -> list[UUID]:
    """``count`` posts at ``site``, the first ``held`` of them with a holder."""
    posts = [f.post(ledger, place, site_id=site) for _ in range(count)]
    for post_id in posts[:held]:
        ledger.posts.appoint(
            f.clerk(),
            post_id,
            person_id=f.register(ledger),
            term_start=date(2024, 1, 1),
            term_end=date(2024, 12, 31),
        )
    return posts


def villages(ledger: Ledger, views: Views) -> None:
    """The villages of the module docstring; the views caught up."""
    place = f.county(ledger)  # its village 东风村 is registered as lifted (the default)
    f.publish(
        ledger,
        f.regional_policy(
            version="CN-22-220222-2024.1",
            region_prefix=f.OTHER_COUNTY,
            village_min_posts=OTHER_MINIMUM,
        ),
    )
    _posts(ledger, place, _village(ledger, FULL, f.COUNTY, 1500, lifted=False), 5, 5)
    short = _posts(ledger, place, _village(ledger, SHORT, f.COUNTY, 900, lifted=False), 5, 3)
    ledger.posts.exit(
        f.clerk(), short[0], reason=ExitReason.VOLUNTARY, effective_on=date(2024, 2, 15), note="-"
    )
    _village(ledger, EMPTY, f.OTHER_COUNTY, 700, lifted=False)
    _posts(ledger, place, _village(ledger, "长岭村", f.COUNTY, 400, lifted=True), 1, 1)
    views.catch_up()


def rows(ledger: Ledger, views: Views, scope: str = "") -> list[tuple[Value, ...]]:
    report = posts_report(views, minimum=village_minimum(ledger), scope=scope)
    return [row.values for row in report.rows]


def test_villages_not_yet_lifted_below_their_minimum_are_reported_with_the_shortfall(
    ledger: Ledger, views: Views
) -> None:
    """POST-QUOTA-VILLAGE: at least 5 people on post per village not yet lifted (002).

    A post whose holder left counts as set up, not as on post; the minimum is the one of
    the catalogue in force for the village's region; lifted villages and settlement sites
    are not checked.
    """
    villages(ledger, views)

    report = posts_report(views, minimum=village_minimum(ledger))

    assert [row.values for row in report.rows] == BELOW
    assert [row.total for row in report.rows] == [False, False, True]
    assert report.position == views.projector.head()


def test_the_posts_report_keeps_a_region_prefix(ledger: Ledger, views: Views) -> None:
    villages(ledger, views)

    assert rows(ledger, views, f.OTHER_COUNTY) == [
        BELOW[1],
        ("total 合计", "1 of 1 villages", None, 0, 0, 3, 3),
    ]
    assert rows(ledger, views, "11") == [("total 合计", "0 of 0 villages", None, 0, 0, 0, 0)]
    with pytest.raises(InvalidInputError, match="REGION-CODE"):
        rows(ledger, views, "2202x")


def test_a_rebuilt_roster_reports_the_same_villages(ledger: Ledger, views: Views) -> None:
    """The sites are read from the log like every view's rows: a rebuild gives them back."""
    villages(ledger, views)

    views.projector.rebuild(["roster"])

    assert rows(ledger, views) == BELOW
