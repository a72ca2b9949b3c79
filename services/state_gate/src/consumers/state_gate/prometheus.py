"""GateMetrics on Prometheus: the fact-sheet metric names with dots as underscores, in a given registry."""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Processing lag is engine time between consecutive runs of a symbol: seconds to hours.
LAG_BUCKETS_MS: Final = (
    1_000.0,
    10_000.0,
    60_000.0,
    180_000.0,
    360_000.0,
    900_000.0,
    3_600_000.0,
    86_400_000.0,
)


def prometheus_name(name: str) -> str:
    """`state_gate.gate_decisions` → `state_gate_gate_decisions`."""
    return name.replace(".", "_")


class PrometheusGateMetrics:
    """Creates each metric on first use with the label names of that first call."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry
        self._counters: dict[str, Counter] = {}
        self._histograms: dict[str, Histogram] = {}
        self._gauges: dict[str, Gauge] = {}

    def increment(self, name: str, tags: dict[str, str]) -> None:
        """Add 1 to a counter."""
        metric = self._counters.get(name)
        if metric is None:
            metric = Counter(prometheus_name(name), name, sorted(tags), registry=self._registry)
            self._counters[name] = metric
        (metric.labels(**tags) if tags else metric).inc()

    def observe(self, name: str, value: float, tags: dict[str, str]) -> None:
        """Record one observation (the symbol tag is dropped: unbounded label sets hurt Prometheus)."""
        labels = {k: v for k, v in tags.items() if k != "symbol"}
        metric = self._histograms.get(name)
        if metric is None:
            metric = Histogram(
                prometheus_name(name), name, sorted(labels), buckets=LAG_BUCKETS_MS, registry=self._registry
            )
            self._histograms[name] = metric
        (metric.labels(**labels) if labels else metric).observe(value)

    def set_gauge(self, name: str, value: float, tags: dict[str, str]) -> None:
        """Set a gauge."""
        metric = self._gauges.get(name)
        if metric is None:
            metric = Gauge(prometheus_name(name), name, sorted(tags), registry=self._registry)
            self._gauges[name] = metric
        (metric.labels(**tags) if tags else metric).set(value)
