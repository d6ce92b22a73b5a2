"""The policy catalogue: versions in force, explicit gaps, and publication."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from disburse.domain.catalogue import PolicyCatalogue, select_in_force
from disburse.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PolicyGapError,
    RuleViolationError,
)
from disburse.domain.meta import Role
from disburse.domain.rules import NotSpecified, QuotaBand
from disburse.domain.site import Site, SiteKind
from disburse.policy.default import LIUZHOU_VERSION, NATIONAL_VERSION, liuzhou, national
from tests import factories as f

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger

ON = date(2024, 3, 1)
LIUZHOU_COUNTY = "450202"


# -- which version is in force --------------------------------------------------------------


def test_the_most_specific_region_scope_in_force_wins() -> None:
    province = f.regional_policy(version="P-22", region_prefix="22")
    city = f.regional_policy(version="C-2202", region_prefix="2202")
    county = f.regional_policy(version="X-220221", region_prefix="220221")
    documents = [county, city, province, national()]

    assert select_in_force(documents, "220221", ON).version == "X-220221"
    assert select_in_force(documents, "220222", ON).version == "C-2202"
    assert select_in_force(documents, "220501", ON).version == "P-22"
    assert select_in_force(documents, "230101", ON).version == NATIONAL_VERSION


def test_among_equal_scopes_the_later_effective_date_wins_once_it_has_begun() -> None:
    older = f.regional_policy(version="old", effective_from=date(2021, 1, 1))
    newer = f.regional_policy(version="new", effective_from=date(2024, 1, 1))
    documents = [newer, older]

    assert select_in_force(documents, f.COUNTY, date(2023, 12, 31)).version == "old"
    assert select_in_force(documents, f.COUNTY, date(2024, 1, 1)).version == "new"


def test_among_equal_scopes_and_dates_the_later_published_wins() -> None:
    first = f.regional_policy(version="first")
    second = f.regional_policy(version="second")

    assert select_in_force([first, second], f.COUNTY, ON).version == "second"
    assert select_in_force([second, first], f.COUNTY, ON).version == "first"


def test_a_version_does_not_apply_after_its_effective_to_date() -> None:
    ended = f.regional_policy(
        version="ended", effective_from=date(2021, 1, 1), effective_to=date(2023, 12, 31)
    )
    documents = [national(), ended]

    assert select_in_force(documents, f.COUNTY, date(2023, 12, 31)).version == "ended"
    assert select_in_force(documents, f.COUNTY, date(2024, 1, 1)).version == NATIONAL_VERSION


@pytest.mark.parametrize(
    ("region", "on"),
    [
        (f.COUNTY, date(2020, 12, 31)),  # before the national catalogue takes effect
        ("230101", ON),  # outside the only (regional) scope
    ],
)
def test_no_version_in_force_raises_not_found_with_policy_in_force(region: str, on: date) -> None:
    documents = [national().model_copy(update={"region_prefix": "22"})]

    with pytest.raises(NotFoundError) as caught:
        select_in_force(documents, region, on)
    assert caught.value.rule_id == "POLICY-IN-FORCE"


def test_an_empty_catalogue_has_no_version_in_force() -> None:
    with pytest.raises(NotFoundError) as caught:
        select_in_force([], f.COUNTY, ON)
    assert caught.value.rule_id == "POLICY-IN-FORCE"


def test_the_liuzhou_plan_governs_liuzhou_only_while_it_ran() -> None:
    documents = [national(), liuzhou()]

    assert select_in_force(documents, LIUZHOU_COUNTY, date(2019, 1, 1)).version == LIUZHOU_VERSION
    assert select_in_force(documents, LIUZHOU_COUNTY, date(2020, 12, 31)).version == LIUZHOU_VERSION
    assert select_in_force(documents, LIUZHOU_COUNTY, date(2021, 1, 1)).version == NATIONAL_VERSION
    assert select_in_force(documents, "450102", ON).version == NATIONAL_VERSION


# -- publication ----------------------------------------------------------------------------


ADMIN_META = f.meta("admin-1", Role.ADMIN)


def test_a_version_label_is_published_only_once() -> None:
    catalogue = PolicyCatalogue(meta=ADMIN_META)
    catalogue.publish(f.regional_policy(version="V1"), meta=ADMIN_META)

    with pytest.raises(ConflictError) as caught:
        catalogue.publish(f.regional_policy(version="V1", region_prefix="22"), meta=ADMIN_META)
    assert caught.value.rule_id == "POLICY-VERSION"
    assert caught.value.field == "version"
    assert [d.version for d in catalogue.versions()] == ["V1"]


@pytest.mark.parametrize("role", [Role.CLERK, Role.FINANCE, Role.INSPECTOR, Role.CLAIMANT])
def test_only_an_administrator_or_the_system_publishes_a_version(role: Role) -> None:
    catalogue = PolicyCatalogue(meta=ADMIN_META)

    with pytest.raises(RuleViolationError) as caught:
        catalogue.publish(f.regional_policy(version="V1"), meta=f.meta("someone", role))
    assert caught.value.rule_id == "POLICY-PUBLISHER"
    assert catalogue.versions() == []


def test_a_clerk_cannot_publish_a_version_through_the_ledger(memory_ledger: Ledger) -> None:
    with pytest.raises(RuleViolationError) as caught:
        memory_ledger.policy.publish(f.clerk(), f.regional_policy(version="V1"), reason="try")
    assert caught.value.rule_id == "POLICY-PUBLISHER"
    assert [d.version for d in memory_ledger.policy.versions()] == [
        NATIONAL_VERSION,
        LIUZHOU_VERSION,
    ]


def test_republishing_a_default_version_through_the_ledger_is_refused(
    memory_ledger: Ledger,
) -> None:
    with pytest.raises(ConflictError) as caught:
        f.publish(memory_ledger, national())
    assert caught.value.rule_id == "POLICY-VERSION"


def test_a_published_version_records_its_label_on_the_event(memory_ledger: Ledger) -> None:
    f.publish(memory_ledger, f.regional_policy(version="V-2202"), reason="Jilin 2024 rules")

    catalogue_id = PolicyCatalogue.create_id()
    published = f.stored_events(memory_ledger, catalogue_id)[-1]
    meta = f.meta_of(published)

    assert f.name_of(published) == "VersionPublished"
    assert meta.policy_version == "V-2202"
    assert meta.actor_id == "admin-1"
    assert meta.reason == "Jilin 2024 rules"


def test_published_versions_read_back_equal_including_their_explicit_gaps(
    memory_ledger: Ledger,
) -> None:
    versions = memory_ledger.policy.versions()

    assert versions == [national(), liuzhou()]
    assert isinstance(versions[1].post.stipend_floor_fen, NotSpecified)
    assert isinstance(versions[0].post.income_exit_threshold_fen, NotSpecified)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"effective_from": date(2024, 1, 1), "effective_to": date(2023, 1, 1)}, "effective_to"),
        ({"version": "has space"}, "version"),
    ],
)
def test_a_malformed_catalogue_version_is_refused(changes: dict[str, object], message: str) -> None:
    data = national().model_dump() | changes

    with pytest.raises(ValidationError, match=message):
        type(national()).model_validate(data)


@pytest.mark.parametrize("prefix", ["220", "2202211", "99", "22a2"])
def test_a_catalogue_version_with_a_malformed_region_prefix_is_refused_with_region_code(
    prefix: str,
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        f.regional_policy(region_prefix=prefix)
    assert caught.value.rule_id == "REGION-CODE"
    assert caught.value.field == "region_prefix"


def test_overlapping_quota_bands_are_refused() -> None:
    bands = [
        QuotaBand(min_population=0, max_population=1000, posts=3),
        QuotaBand(min_population=1000, max_population=None, posts=5),
    ]

    with pytest.raises(ValidationError, match="quota bands overlap"):
        f.regional_policy(site_quota_bands=bands)


# -- settlement site quotas (POST-QUOTA-SITE) -----------------------------------------------


@pytest.mark.parametrize(
    ("population", "posts"),
    [(0, 3), (800, 3), (999, 3), (1000, 5), (3000, 5), (5000, 10), (120_000, 10)],
)
def test_settlement_sites_get_posts_by_population_band(population: int, posts: int) -> None:
    assert national().post.site_quota(population, NATIONAL_VERSION) == posts


@given(st.integers(min_value=3001, max_value=4999))
def test_a_settlement_of_3001_to_4999_people_is_an_explicit_gap(population: int) -> None:
    with pytest.raises(PolicyGapError) as caught:
        national().post.site_quota(population, NATIONAL_VERSION)
    assert caught.value.rule_id == "POST-QUOTA-SITE"
    assert NATIONAL_VERSION in caught.value.message


def test_adding_a_post_to_a_settlement_in_the_gap_band_is_refused_with_a_policy_gap() -> None:
    site = Site.register(
        region_code=f.COUNTY,
        kind=SiteKind.SETTLEMENT,
        name="安置点",
        population=4000,
        lifted=True,
        meta=f.meta(),
    )

    with pytest.raises(PolicyGapError) as caught:
        site.add_post(post_id=f.domain_post().id, policy=national(), meta=f.meta())
    assert caught.value.rule_id == "POST-QUOTA-SITE"
    assert site.post_ids == []


def test_a_region_can_fill_the_quota_gap_by_publishing_a_version(memory_ledger: Ledger) -> None:
    place = f.county(memory_ledger)
    site_id = f.settlement(memory_ledger, population=4000)
    bands = [
        band.model_copy(update={"posts": 7}) if isinstance(band.posts, NotSpecified) else band
        for band in national().post.site_quota_bands
    ]
    f.publish(memory_ledger, f.regional_policy(site_quota_bands=bands))

    post_id = f.post(memory_ledger, place, site_id=site_id, title="保洁")

    assert memory_ledger.posts.get_site(site_id).post_ids == [post_id]


def test_creating_a_post_at_a_settlement_in_the_gap_band_is_refused_through_the_ledger(
    memory_ledger: Ledger,
) -> None:
    place = f.county(memory_ledger)
    site_id = f.settlement(memory_ledger, population=3500)

    with pytest.raises(PolicyGapError) as caught:
        f.post(memory_ledger, place, site_id=site_id, title="保洁")
    assert caught.value.rule_id == "POST-QUOTA-SITE"
    assert memory_ledger.posts.get_site(site_id).post_ids == []


# -- Liuzhou's stipend floor (POST-STIPEND-FLOOR) -------------------------------------------


def test_appointing_in_liuzhou_is_refused_until_its_stipend_floor_is_published() -> None:
    post = f.domain_post(policy=national())

    with pytest.raises(PolicyGapError) as caught:
        post.appoint(
            person=f.domain_person(),
            term_start=date(2024, 1, 1),
            term_end=date(2024, 12, 31),
            policy=liuzhou(),
            meta=f.meta(),
        )
    assert caught.value.rule_id == "POST-STIPEND-FLOOR"
    assert not post.is_held


def test_appointing_in_liuzhou_for_a_term_under_its_2019_plan_is_a_stipend_floor_gap(
    memory_ledger: Ledger,
) -> None:
    place = f.county(memory_ledger, region=LIUZHOU_COUNTY)
    post_id = f.post(memory_ledger, place)
    person_id = f.register(memory_ledger, region=LIUZHOU_COUNTY)

    with pytest.raises(PolicyGapError) as caught:
        memory_ledger.posts.appoint(
            f.clerk(),
            post_id,
            person_id=person_id,
            term_start=date(2020, 1, 1),
            term_end=date(2020, 12, 31),
        )
    assert caught.value.rule_id == "POST-STIPEND-FLOOR"
    assert LIUZHOU_VERSION in caught.value.message
    assert not memory_ledger.posts.get(post_id).is_held


def test_a_liuzhou_version_with_a_floor_lets_posts_at_or_above_it_be_created(
    memory_ledger: Ledger,
) -> None:
    f.publish(
        memory_ledger,
        f.regional_policy(
            version="CN-45-4502-2024.1", region_prefix="4502", stipend_floor_fen=181_000
        ),
    )
    place = f.county(memory_ledger, region=LIUZHOU_COUNTY)

    post_id = f.post(memory_ledger, place, stipend_fen=181_000)

    assert memory_ledger.posts.get(post_id).stipend_fen == 181_000
