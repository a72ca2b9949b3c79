"""Where the dashboard's logs and metrics go: a logger and a metrics sink, both optional."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from xray_runtime.logs import get_logger

LOGGER_NAME: Final = "consumers.dashboards"

# Log event names.
LOG_SNAPSHOT_PRODUCED: Final = "dashboards.snapshot_produced"
LOG_INGEST_FAILURE: Final = "dashboards.ingest_failure"
LOG_RENDERER_FAILURE: Final = "dashboards.renderer_failure"
# Metric names.
METRIC_SNAPSHOTS: Final = "dashboards.snapshots.produced"
METRIC_SNAPSHOT_LATENCY: Final = "dashboards.snapshot_latency_ms"
METRIC_BUILDER_LAG: Final = "dashboards.builder.lag_ms"
METRIC_FAILURES: Final = "dashboards.failures"
METRIC_FRAMES: Final = "dashboards.renderer.frames"
# error_kind values.
ERROR_INVALID_SCHEMA: Final = "invalid_schema"
ERROR_INVALID_EVENT_TYPE: Final = "invalid_event_type"
ERROR_INGEST: Final = "ingest_error"
ERROR_INVALID_SNAPSHOT: Final = "invalid_snapshot"
ERROR_RENDER_FAILURE: Final = "render_failure"


class DashboardLogger(Protocol):
    """The two levels the dashboard logs at (xray_runtime's EventLogger fits)."""

    def info(self, event: str, **fields: Any) -> None:
        """Log an INFO event."""

    def error(self, event: str, exc_info: bool = False, **fields: Any) -> None:
        """Log an ERROR event."""


class DashboardMetrics(Protocol):
    """A metrics sink: counters, observations and gauges with string tags."""

    def increment(self, name: str, value: float = 1.0, tags: dict[str, str] | None = None) -> None:
        """Add to a counter."""

    def observe(self, name: str, value: float, tags: dict[str, str] | None = None) -> None:
        """Record one observation."""

    def gauge(self, name: str, value: float, tags: dict[str, str] | None = None) -> None:
        """Set a gauge."""


class NullLogger:
    """Drops every log event."""

    def info(self, event: str, **fields: Any) -> None:
        """Drop."""

    def error(self, event: str, exc_info: bool = False, **fields: Any) -> None:
        """Drop."""


class NullMetrics:
    """Drops every metric."""

    def increment(self, name: str, value: float = 1.0, tags: dict[str, str] | None = None) -> None:
        """Drop."""

    def observe(self, name: str, value: float, tags: dict[str, str] | None = None) -> None:
        """Drop."""

    def gauge(self, name: str, value: float, tags: dict[str, str] | None = None) -> None:
        """Drop."""


@dataclass(frozen=True, slots=True)
class MetricCall:
    """One recorded metric call."""

    kind: str
    name: str
    value: float
    tags: dict[str, str]


@dataclass(slots=True)
class RecordingMetrics:
    """Keeps every metric call (tests, and the service's Prometheus bridge reads it the same way)."""

    calls: list[MetricCall] = field(default_factory=list)

    def increment(self, name: str, value: float = 1.0, tags: dict[str, str] | None = None) -> None:
        """Record a counter increment."""
        self.calls.append(MetricCall("counter", name, value, dict(tags or {})))

    def observe(self, name: str, value: float, tags: dict[str, str] | None = None) -> None:
        """Record an observation."""
        self.calls.append(MetricCall("observe", name, value, dict(tags or {})))

    def gauge(self, name: str, value: float, tags: dict[str, str] | None = None) -> None:
        """Record a gauge write."""
        self.calls.append(MetricCall("gauge", name, value, dict(tags or {})))

    def named(self, name: str) -> list[MetricCall]:
        """Every call of one metric name, in order."""
        return [c for c in self.calls if c.name == name]


@dataclass(frozen=True, slots=True)
class Observability:
    """A logger and a metrics sink (defaults: the `consumers.dashboards` event logger, no metrics)."""

    logger: DashboardLogger = field(default_factory=lambda: get_logger(LOGGER_NAME))
    metrics: DashboardMetrics = field(default_factory=NullMetrics)
