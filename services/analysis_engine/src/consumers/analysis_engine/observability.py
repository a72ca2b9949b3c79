"""Engine metrics (in-memory counters with the fact sheet's names/tags) and the per-event log line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from consumers.analysis_engine.contracts import (
    AnalysisEngineEvent,
    ArtifactEmittedPayload,
    EventType,
    ModuleDefinition,
    ModuleFailedPayload,
    RunStatusPayload,
    SkipReason,
)
from xray_runtime.logs import EventLogger, get_logger

METRIC_ARTIFACTS = "analysis_engine.artifacts"
METRIC_MODULE_FAILURES = "analysis_engine.module_failures"
METRIC_RUN_STATUS = "analysis_engine.run_status"
METRIC_IDEMPOTENCY_SKIPS = "analysis_engine.idempotency_skips"
LOG_EVENT = "analysis_engine.event"

MetricKey = tuple[str, tuple[tuple[str, str], ...]]
# Called on every increment; the service mirrors counters to Prometheus with it.
MetricListener = Callable[[str, dict[str, str]], None]


@dataclass(frozen=True, slots=True)
class HealthStatus:
    """Readiness of the engine: ready = registry loaded and no symbol halted."""

    ready: bool
    halted: bool
    registry_loaded: bool
    idempotency_available: bool
    halted_symbols: tuple[str, ...] = ()


class EngineMetrics:
    """Counters keyed by (name, sorted tags)."""

    def __init__(self, listener: MetricListener | None = None) -> None:
        """Start with every counter at zero."""
        self._counts: Counter[MetricKey] = Counter()
        self._listener = listener

    def inc(self, name: str, **tags: str) -> None:
        """Add one to a counter."""
        self._counts[(name, tuple(sorted(tags.items())))] += 1
        if self._listener is not None:
            self._listener(name, dict(tags))

    def value(self, name: str, **tags: str) -> int:
        """Current value of one counter (tags must match exactly)."""
        return self._counts[(name, tuple(sorted(tags.items())))]

    def total(self, name: str) -> int:
        """Sum of a counter over all tag combinations."""
        return sum(n for (metric, _), n in self._counts.items() if metric == name)


def record_event_metrics(metrics: EngineMetrics, event: AnalysisEngineEvent) -> None:
    """Count one emitted event under the fact sheet's metric names."""
    payload = event.payload
    if isinstance(payload, ArtifactEmittedPayload):
        metrics.inc(METRIC_ARTIFACTS, module_id=payload.module_id, artifact_kind=payload.artifact_kind)
    elif isinstance(payload, ModuleFailedPayload):
        metrics.inc(METRIC_MODULE_FAILURES, module_id=payload.module_id, error_kind=payload.error_kind)
    elif isinstance(payload, RunStatusPayload):
        # FAILED is counted too (the original only counted AnalysisRunCompleted).
        metrics.inc(METRIC_RUN_STATUS, status=payload.status)
    elif event.event_type == EventType.ANALYSIS_RUN_SKIPPED:
        metrics.inc(METRIC_IDEMPOTENCY_SKIPS, reason=SkipReason.GATE_CLOSED)


def event_log_fields(
    event: AnalysisEngineEvent, definitions: Mapping[str, ModuleDefinition]
) -> dict[str, Any]:
    """The structured fields of the `analysis_engine.event` log line of one event."""
    fields: dict[str, Any] = {
        "symbol": event.symbol,
        "run_id": event.run_id,
        "engine_timestamp_ms": event.engine_timestamp_ms,
        "event_type": event.event_type,
    }
    if event.engine_mode is not None:
        fields["engine_mode"] = event.engine_mode
    payload = event.payload
    if isinstance(payload, ArtifactEmittedPayload):
        definition = definitions.get(payload.module_id)
        fields["module_id"] = payload.module_id
        fields["module_kind"] = definition.module_kind if definition else ""
        fields["module_version"] = definition.module_version if definition else ""
        fields["artifact_kind"] = payload.artifact_kind
        fields["artifact_name"] = payload.artifact_name
    elif isinstance(payload, ModuleFailedPayload):
        fields.update(
            module_id=payload.module_id,
            module_kind=payload.module_kind,
            error_kind=payload.error_kind,
            error_detail=payload.error_detail,
        )
        definition = definitions.get(payload.module_id)
        fields["module_version"] = definition.module_version if definition else ""
    elif isinstance(payload, RunStatusPayload):
        fields["status"] = payload.status
        fields["module_failures"] = list(payload.module_failures)
    return fields


def default_logger() -> EventLogger:
    """The engine's event logger."""
    return get_logger("analysis_engine")
