"""The Metrics protocol as a prometheus-client collector: plain dict counters, scraped on demand.

Every accepted event touches two metrics, so the write side is a dict update, not a locked client
object: values live in dicts owned by the ingest thread and are turned into metric families only when
/metrics is scraped (`list(d.items())` copies a dict atomically under the GIL).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Final

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

Labels = tuple[tuple[str, str], ...]
LATENCY_BUCKETS: Final = (
    -1000.0,
    -100.0,
    0.0,
    5.0,
    10.0,
    25.0,
    50.0,
    100.0,
    250.0,
    500.0,
    1000.0,
    2500.0,
    5000.0,
    10_000.0,
    60_000.0,
)
DEFAULT_BUCKETS: Final = (1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10_000.0)
_CACHE_LIMIT: Final = 10_000


class PrometheusMetrics:
    """Counters, histograms and gauges keyed by (name, labels); registers itself as a collector."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._counters: dict[str, dict[Labels, float]] = {}
        self._histograms: dict[str, dict[Labels, list[float]]] = {}
        self._gauges: dict[str, dict[Labels, float]] = {}
        # id(tags) -> (tags, labels): callers reuse tag dicts, and holding the dict keeps its id unique.
        self._labels: dict[int, tuple[Mapping[str, str], Labels]] = {}
        registry.register(self)

    def _labels_of(self, tags: Mapping[str, str] | None) -> Labels:
        if not tags:
            return ()
        cached = self._labels.get(id(tags))
        if cached is not None and cached[0] is tags:
            return cached[1]
        labels = tuple((k, str(v)) for k, v in tags.items())
        if len(self._labels) < _CACHE_LIMIT:
            self._labels[id(tags)] = (tags, labels)
        return labels

    def increment(self, name: str, value: float = 1, tags: Mapping[str, str] | None = None) -> None:
        """Add to a counter."""
        series = self._counters.get(name)
        if series is None:
            series = self._counters[name] = {}
        labels = self._labels_of(tags)
        series[labels] = series.get(labels, 0.0) + value

    def observe(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Record one histogram sample: per-bucket counts (non-cumulative), then sum and count."""
        series = self._histograms.get(name)
        if series is None:
            series = self._histograms[name] = {}
        labels = self._labels_of(tags)
        cells = series.get(labels)
        bounds = _buckets(name)
        if cells is None:
            cells = series[labels] = [0.0] * (len(bounds) + 3)
        cells[bisect_left(bounds, value)] += 1
        cells[-2] += value
        cells[-1] += 1

    def gauge(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Set a gauge."""
        series = self._gauges.get(name)
        if series is None:
            series = self._gauges[name] = {}
        series[self._labels_of(tags)] = value

    def bound_counter(self, name: str, tags: Mapping[str, str] | None) -> Callable[[float], None]:
        """An adder for one counter series (the hot path skips name and label lookups)."""
        series = self._counters.setdefault(name, {})
        labels = tuple((k, str(v)) for k, v in (tags or {}).items())
        series.setdefault(labels, 0.0)

        def add(value: float) -> None:
            series[labels] += value

        return add

    def bound_histogram(self, name: str, tags: Mapping[str, str] | None) -> Callable[[float], None]:
        """An observer for one histogram series."""
        series = self._histograms.setdefault(name, {})
        labels = tuple((k, str(v)) for k, v in (tags or {}).items())
        bounds = _buckets(name)
        cells = series.setdefault(labels, [0.0] * (len(bounds) + 3))

        def observe(value: float) -> None:
            cells[bisect_left(bounds, value)] += 1
            cells[-2] += value
            cells[-1] += 1

        return observe

    def bound_histogram_many(
        self, name: str, tags: Mapping[str, str] | None
    ) -> Callable[[Sequence[float]], None]:
        """An observer of many samples at once for one histogram series (equal values binned once)."""
        series = self._histograms.setdefault(name, {})
        labels = tuple((k, str(v)) for k, v in (tags or {}).items())
        bounds = _buckets(name)
        cells = series.setdefault(labels, [0.0] * (len(bounds) + 3))

        def observe_many(values: Sequence[float]) -> None:
            for value, count in Counter(values).items():
                cells[bisect_left(bounds, value)] += count
                cells[-2] += value * count
            cells[-1] += len(values)

        return observe_many

    def value(self, name: str, tags: Mapping[str, str] | None = None) -> float:
        """Current value of a counter or gauge series (0 when absent), for tests and status output."""
        labels = tuple((k, str(v)) for k, v in (tags or {}).items())
        for store in (self._counters, self._gauges):
            if name in store:
                return store[name].get(labels, 0.0)
        return 0.0

    def collect(self) -> Iterator[Metric]:
        """Metric families for a scrape."""
        for name, series in list(self._counters.items()):
            items = list(series.items())
            family = CounterMetricFamily(_prom(name), name, labels=_label_names(items))
            for labels, total in items:
                family.add_metric([v for _, v in labels], total)
            yield family
        for name, gauges in list(self._gauges.items()):
            gitems = list(gauges.items())
            gfamily = GaugeMetricFamily(_prom(name), name, labels=_label_names(gitems))
            for labels, current in gitems:
                gfamily.add_metric([v for _, v in labels], current)
            yield gfamily
        for name, histograms in list(self._histograms.items()):
            hitems = list(histograms.items())
            bounds = _buckets(name)
            hfamily = HistogramMetricFamily(_prom(name), name, labels=_label_names(hitems))
            for labels, cells in hitems:
                running = 0.0
                buckets: list[tuple[str, float]] = []
                for bound, count in zip(bounds, cells, strict=False):
                    running += count
                    buckets.append((repr(bound), running))
                buckets.append(("+Inf", cells[-1]))
                hfamily.add_metric([v for _, v in labels], buckets, cells[-2])
            yield hfamily


def _buckets(name: str) -> tuple[float, ...]:
    return LATENCY_BUCKETS if name.endswith("latency_ms") else DEFAULT_BUCKETS


def _prom(name: str) -> str:
    return name.replace(".", "_")


def _label_names(items: Sequence[tuple[Labels, object]]) -> list[str]:
    return [k for k, _ in items[0][0]] if items else []
