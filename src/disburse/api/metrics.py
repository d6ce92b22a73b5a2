"""Prometheus metrics of the API: requests, latencies, events written, log head and view lag.

Requests and events written are ``prometheus_client`` counters. Under ``disburse serve
--workers N`` each worker process writes them to files in ``PROMETHEUS_MULTIPROC_DIR``
(set by ``serve`` before any worker starts) and ``GET /metrics``, whichever process
answers it, sums the files of every process. The log head, the views' lag and their
stalls are read from the store at scrape time: the same for every process.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from collections.abc import Iterable

    from prometheus_client import Metric

#: Latency histogram buckets, in seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Where the processes of one ``disburse serve --workers N`` keep their counters.
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
#: The exposition's content type (Prometheus text format 0.0.4).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The counters of this process (or of all the server's processes), for ``GET /metrics``.

    Built once per app; with ``PROMETHEUS_MULTIPROC_DIR`` set, the counters live in that
    directory, one file per process, and :meth:`render` adds them up.
    """

    def __init__(self) -> None:
        self.multiprocess = MULTIPROC_DIR in os.environ
        # No ``*_created`` series: the process start is not a fact worth a series per label.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        # In multiprocess mode the values go to the directory, not to a registry.
        self._registry = CollectorRegistry()
        registry = None if self.multiprocess else self._registry
        self._requests = Counter(
            "disburse_http_requests",
            "HTTP requests answered, by route and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self._latency = Histogram(
            "disburse_http_request_duration_seconds",
            "Time to answer, by route.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=registry,
        )
        self._events = Counter(
            "disburse_events_written",
            "Events the API processes wrote to the store.",
            registry=registry,
        )
        self._groups = Counter(
            "disburse_group_commits",
            "Transactions that committed the commands of concurrent requests together.",
            registry=registry,
        )
        self._grouped = Counter(
            "disburse_group_commit_requests",
            "Requests committed in those groups (divided by the groups: the mean group size).",
            registry=registry,
        )
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count a request and its duration."""
        self._requests.labels(method, route, str(status)).inc()
        self._latency.labels(method, route).observe(seconds)

    def count_events(self, written: int) -> None:
        """Bring the events counter up to ``written``, this process's running total."""
        self._bring_up(self._events, "events", written)

    def count_groups(self, groups: int, requests: int) -> None:
        """Bring the group commit counters up to this process's running totals."""
        self._bring_up(self._groups, "groups", groups)
        self._bring_up(self._grouped, "grouped", requests)

    def _bring_up(self, counter: Counter, name: str, total: int) -> None:
        with self._lock:
            seen = self._seen.get(name, 0)
            new, self._seen[name] = total - seen, max(total, seen)
        if new > 0:
            counter.inc(new)

    def render(
        self,
        *,
        events_written: int,
        groups: tuple[int, int] = (0, 0),
        head: int,
        lags: dict[str, int],
        stalled: dict[str, int] | None = None,
    ) -> bytes:
        """The exposition text: the counters (summed across processes) and the store's gauges.

        ``groups``: group commits and the requests in them, this process's totals.
        ``stalled``: each view's stall (1 when it is stopped on an event it cannot apply).
        """
        self.count_events(events_written)
        self.count_groups(*groups)
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(
            MultiProcessCollector(None)  # type: ignore[no-untyped-call]
            if self.multiprocess
            else _Registered(self._registry)
        )
        scrape.register(_StoreGauges(head, lags, stalled))
        return generate_latest(scrape)


class _Registered(Collector):
    """This process's own counters (one process, no directory)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


class _StoreGauges(Collector):
    """What the store says at scrape time: the log head, each view's lag and stall."""

    def __init__(self, head: int, lags: dict[str, int], stalled: dict[str, int] | None) -> None:
        self.head, self.lags, self.stalled = head, lags, stalled

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "disburse_log_head_position", "Position of the last event in the store.", self.head
        )
        lag = GaugeMetricFamily(
            "disburse_projection_lag_events",
            "Events recorded but not yet in a view.",
            labels=["view"],
        )
        for name, behind in sorted(self.lags.items()):
            lag.add_metric([name], behind)
        yield lag
        if self.stalled is not None:
            stall = GaugeMetricFamily(
                "disburse_view_stalled", "1 while a view cannot apply an event.", labels=["view"]
            )
            for name, flag in sorted(self.stalled.items()):
                stall.add_metric([name], flag)
            yield stall
