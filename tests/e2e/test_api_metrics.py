"""``GET /metrics``: prometheus_client's exposition of requests, events and views."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from disburse.api import asgi
from disburse.domain.meta import Role
from tests.e2e.test_api_smoke import person_body

if TYPE_CHECKING:
    import pytest

    from disburse.settings import Settings
    from tests.api_support import Api


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_requests_by_route_and_status_with_their_latency(api: Api) -> None:
    for _ in range(2):
        assert api.post("/v1/people", Role.CLERK, person_body()).status_code == 201
    assert api.post("/v1/people", Role.CLERK, {}).status_code == 422

    response = api.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(response.text)
    post = (("method", "POST"), ("route", "/v1/people"))
    assert samples["disburse_http_requests_total", (*post, ("status", "201"))] == 2
    assert samples["disburse_http_requests_total", (*post, ("status", "422"))] == 1
    assert samples["disburse_http_request_duration_seconds_count", post] == 3
    assert samples["disburse_http_request_duration_seconds_bucket", (("le", "+Inf"), *post)] == 3
    assert samples["disburse_events_written_total", ()] > 0
    # each registration went through group commit (alone: one request per group)
    groups = samples["disburse_group_commits_total", ()]
    assert samples["disburse_group_commit_requests_total", ()] >= groups >= 2
    assert samples["disburse_log_head_position", ()] > 0
    assert ("disburse_projection_lag_events", (("view", "queue"),)) in samples
    assert ("disburse_view_stalled", (("view", "queue"),)) in samples
    assert "_created" not in response.text


def test_the_worker_factory_serves_the_store_without_a_projector_or_digests_of_its_own(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under ``serve --workers N`` the supervising process alone keeps the views current."""
    assert settings.secret_key is not None
    monkeypatch.setenv("DISBURSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DISBURSE_SECRET_KEY", settings.secret_key.get_secret_value())
    # The session's log trap stays in place (a worker would configure its own logging).
    monkeypatch.setattr(asgi, "configure_logging", lambda: None)
    before = {thread.name for thread in threading.enumerate()}

    with TestClient(asgi.app_from_environment()) as client:
        answered = client.get("/readyz")
        started = {thread.name for thread in threading.enumerate()} - before

    assert answered.status_code == 200, answered.text
    assert "disburse-projector" not in started
    assert "disburse-digests" not in started
