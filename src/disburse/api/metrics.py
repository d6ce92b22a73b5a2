"""Prometheus text exposition of requests, latencies, events written and projection lag."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Latency histogram buckets, in seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(
        f'{name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for name, value in pairs
    )
    return "{" + inner + "}" if inner else ""


class Metrics:
    """Counters and histograms of this process, rendered on ``GET /metrics``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self._latency: dict[tuple[str, str], list[int]] = {}
        self._latency_sum: dict[tuple[str, str], float] = defaultdict(float)
        self._latency_count: dict[tuple[str, str], int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count a request and its duration."""
        with self._lock:
            self._requests[(method, route, str(status))] += 1
            key = (method, route)
            counts = self._latency.setdefault(key, [0] * len(BUCKETS))
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[index] += 1
            self._latency_sum[key] += seconds
            self._latency_count[key] += 1

    def render(
        self,
        *,
        events_written: int,
        head: int,
        lags: dict[str, int],
        stalled: dict[str, int] | None = None,
    ) -> str:
        """The exposition text (format 0.0.4).

        ``stalled``: each view's stall (1 when it is stopped on an event it cannot apply).
        """
        lines = [
            "# HELP disburse_http_requests_total HTTP requests answered, by route and status.",
            "# TYPE disburse_http_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), count in sorted(self._requests.items()):
                labels = _labels([("method", method), ("route", route), ("status", status)])
                lines.append(f"disburse_http_requests_total{labels} {count}")
            lines += [
                "# HELP disburse_http_request_duration_seconds Time to answer, by route.",
                "# TYPE disburse_http_request_duration_seconds histogram",
            ]
            for (method, route), counts in sorted(self._latency.items()):
                base = [("method", method), ("route", route)]
                for bound, count in zip(BUCKETS, counts, strict=True):
                    labels = _labels([*base, ("le", f"{bound:g}")])
                    lines.append(f"disburse_http_request_duration_seconds_bucket{labels} {count}")
                total = self._latency_count[(method, route)]
                inf = _labels([*base, ("le", "+Inf")])
                lines.append(f"disburse_http_request_duration_seconds_bucket{inf} {total}")
                lines.append(
                    f"disburse_http_request_duration_seconds_sum{_labels(base)} "
                    f"{self._latency_sum[(method, route)]:.6f}"
                )
                lines.append(f"disburse_http_request_duration_seconds_count{_labels(base)} {total}")
        lines += [
            "# HELP disburse_events_written_total Events this process wrote to the store.",
            "# TYPE disburse_events_written_total counter",
            f"disburse_events_written_total {events_written}",
            "# HELP disburse_log_head_position Position of the last event in the store.",
            "# TYPE disburse_log_head_position gauge",
            f"disburse_log_head_position {head}",
            "# HELP disburse_projection_lag_events Events recorded but not yet in a view.",
            "# TYPE disburse_projection_lag_events gauge",
        ]
        lines += [
            f"disburse_projection_lag_events{_labels([('view', name)])} {lag}"
            for name, lag in sorted(lags.items())
        ]
        if stalled is not None:
            lines += [
                "# HELP disburse_view_stalled 1 while a view cannot apply an event.",
                "# TYPE disburse_view_stalled gauge",
            ]
            lines += [
                f"disburse_view_stalled{_labels([('view', name)])} {flag}"
                for name, flag in sorted(stalled.items())
            ]
        return "\n".join(lines) + "\n"
