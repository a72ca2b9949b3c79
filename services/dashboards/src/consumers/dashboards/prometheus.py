"""The dashboard's metrics on /metrics (prometheus-client), under the fact sheet's names."""

from __future__ import annotations

from consumers.dashboards.observability import (
    METRIC_BUILDER_LAG,
    METRIC_FAILURES,
    METRIC_FRAMES,
    METRIC_SNAPSHOT_LATENCY,
    METRIC_SNAPSHOTS,
)
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


def _prom(name: str) -> str:
    return name.replace(".", "_")


class PrometheusDashboardMetrics:
    """DashboardMetrics backed by a prometheus registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the dashboard's metrics."""
        self._snapshots = Counter(_prom(METRIC_SNAPSHOTS), "DVM snapshots built", registry=registry)
        self._frames = Counter(_prom(METRIC_FRAMES), "Frames drawn", registry=registry)
        self._failures = Counter(
            _prom(METRIC_FAILURES), "Dashboard failures", ["component", "error_kind"], registry=registry
        )
        self._latency = Histogram(
            _prom(METRIC_SNAPSHOT_LATENCY),
            "Time to build one snapshot (ms)",
            buckets=(0.5, 1, 2, 5, 10, 20, 50, 100, 200),
            registry=registry,
        )
        self._lag = Gauge(
            _prom(METRIC_BUILDER_LAG), "as_of minus the newest engine timestamp", registry=registry
        )

    def increment(self, name: str, value: float = 1.0, tags: dict[str, str] | None = None) -> None:
        """Add to a counter."""
        if name == METRIC_SNAPSHOTS:
            self._snapshots.inc(value)
        elif name == METRIC_FRAMES:
            self._frames.inc(value)
        elif name == METRIC_FAILURES:
            t = tags or {}
            self._failures.labels(t.get("component", ""), t.get("error_kind", "")).inc(value)

    def observe(self, name: str, value: float, tags: dict[str, str] | None = None) -> None:
        """Record one observation."""
        if name == METRIC_SNAPSHOT_LATENCY:
            self._latency.observe(value)

    def gauge(self, name: str, value: float, tags: dict[str, str] | None = None) -> None:
        """Set a gauge."""
        if name == METRIC_BUILDER_LAG:
            self._lag.set(value)
