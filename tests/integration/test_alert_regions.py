"""An alert belongs to every region it concerns, live and after a rebuild alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from disburse.domain.organisation import OrganisationKind
from tests import factories as f
from tests.integration.test_alerts import application, force, grant

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from disburse.readside.views import Views


def test_a_cross_county_alert_is_filed_under_both_counties_and_a_rebuild_files_it_alike(
    ledger: Ledger, views: Views
) -> None:
    person = f.register(ledger)  # home: the county
    worker = f.register(ledger, region=f.OTHER_COUNTY)
    broker = f.organisation(ledger, OrganisationKind.BROKER)
    force(ledger, grant(person), grant(person, region=f.OTHER_COUNTY))
    force(ledger, *(application("SVC-BROKER", broker, "broker", [worker]) for _ in range(2)))
    views.catch_up()
    [grants, applications] = views.alerts.find(rule="FRAUD-DUP-GRANT")
    both = (f.COUNTY, f.OTHER_COUNTY)
    assert (grants.region_code, grants.regions) == (f.OTHER_COUNTY, both)
    assert (applications.region_code, applications.regions) == (f.COUNTY, both)
    for region in both:
        found = views.alerts.find(rule="FRAUD-DUP-GRANT", region=region)
        assert [a.alert_id for a in found] == [grants.alert_id, applications.alert_id]
        assert views.alerts.counts(region)[("FRAUD-DUP-GRANT", "open")] == 2
    assert views.alerts.find(region="220223") == []
    live = f.dump_views(views)
    assert len(live["alert_regions"]) >= 4

    views.projector.rebuild(["alerts"])

    assert f.dump_views(views) == live
