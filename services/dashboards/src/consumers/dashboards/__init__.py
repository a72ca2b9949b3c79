"""dashboards: a read-only view of the pipeline. The builder turns upstream events into immutable
Dashboard View Model snapshots; renderers draw snapshots and know nothing else."""

from consumers.dashboards.builder import BuilderConfig, DashboardBuilder
from consumers.dashboards.contracts import (
    DVM_SCHEMA,
    DVM_SCHEMA_VERSION,
    DVM_VERSIONING_POLICY,
    FALLING,
    FLAT,
    FLIPPED,
    RESET,
    RISING,
    STABLE,
    TRANSITIONING,
    UNKNOWN,
    DashboardViewModel,
)
from consumers.dashboards.observability import NullLogger, NullMetrics, Observability, RecordingMetrics
from consumers.dashboards.renderer import (
    DashboardRenderer,
    LineRenderer,
    TuiRenderer,
    validate_renderer_input,
)

__all__ = [
    "DVM_SCHEMA",
    "DVM_SCHEMA_VERSION",
    "DVM_VERSIONING_POLICY",
    "FALLING",
    "FLAT",
    "FLIPPED",
    "RESET",
    "RISING",
    "STABLE",
    "TRANSITIONING",
    "UNKNOWN",
    "BuilderConfig",
    "DashboardBuilder",
    "DashboardRenderer",
    "DashboardViewModel",
    "LineRenderer",
    "NullLogger",
    "NullMetrics",
    "Observability",
    "RecordingMetrics",
    "TuiRenderer",
    "validate_renderer_input",
]
