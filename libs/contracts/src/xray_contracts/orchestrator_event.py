"""OrchestratorEvent v1 and the engine payloads it carries (RegimeOutput, HysteresisState)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

SCHEMA: Final = "orchestrator_event"
SCHEMA_VERSION: Final = "1"

ENGINE_RUN_STARTED: Final = "EngineRunStarted"
ENGINE_RUN_COMPLETED: Final = "EngineRunCompleted"
ENGINE_RUN_FAILED: Final = "EngineRunFailed"
HYSTERESIS_STATE_PUBLISHED: Final = "HysteresisStatePublished"
EVENT_TYPES: Final[tuple[str, ...]] = (
    ENGINE_RUN_STARTED,
    ENGINE_RUN_COMPLETED,
    ENGINE_RUN_FAILED,
    HYSTERESIS_STATE_PUBLISHED,
)

ENGINE_MODES: Final[tuple[str, ...]] = ("truth", "hysteresis")
CUT_KINDS: Final[tuple[str, ...]] = ("timer", "boundary")

# Regime values in the engine's declaration order (the tie-break order); value == name.
REGIME_VALUES: Final[tuple[str, ...]] = (
    "CHOP_BALANCED",
    "CHOP_STOPHUNT",
    "LIQUIDATION_UP",
    "LIQUIDATION_DOWN",
    "SQUEEZE_UP",
    "SQUEEZE_DOWN",
    "TREND_BUILD_UP",
    "TREND_BUILD_DOWN",
    "TREND_EXHAUSTION",
)

HYSTERESIS_STATE_SCHEMA: Final = "hysteresis_state"
HYSTERESIS_STATE_SCHEMA_VERSION: Final = "1"


@dataclass(frozen=True, slots=True)
class DriverContribution:
    """How much one driver pushed the projected regime (new-engine extension)."""

    driver: str
    contribution: float


@dataclass(frozen=True, slots=True)
class InvalidationCondition:
    """A machine-readable invalidation: `field op threshold` (new-engine extension)."""

    kind: str
    field: str
    op: str
    threshold: float | None
    description: str


@dataclass(frozen=True, slots=True)
class RegimeOutput:
    """The engine's public truth output, as carried on the wire (regime as its string value)."""

    symbol: str
    timestamp: int
    regime: str
    confidence: float
    drivers: tuple[str, ...]
    invalidations: tuple[str, ...]
    permissions: tuple[str, ...]
    belief_by_regime: Mapping[str, float] | None = None
    driver_contributions: tuple[DriverContribution, ...] | None = None
    invalidation_conditions: tuple[InvalidationCondition, ...] | None = None


@dataclass(frozen=True, slots=True)
class HysteresisDebug:
    """Diagnostic attachment of a HysteresisState: the belief distribution dashboards show."""

    belief_by_regime: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class HysteresisState:
    """The engine's hysteresis state after one update (schema `hysteresis_state` v1)."""

    schema: str
    schema_version: str
    symbol: str
    engine_timestamp_ms: int
    anchor_regime: str
    candidate_regime: str | None
    progress_current: int
    progress_required: int
    last_commit_timestamp_ms: int | None
    reason_codes: tuple[str, ...]
    debug: HysteresisDebug | None = None


@dataclass(frozen=True, slots=True)
class OrchestratorPayload:
    """Payload of an orchestrator event; which fields are set depends on the event type.

    EngineRunCompleted: regime_output (and, in hysteresis mode, possibly hysteresis_state);
    HysteresisStatePublished: hysteresis_state; EngineRunFailed: error_kind + error_detail.
    """

    regime_output: RegimeOutput | None = None
    hysteresis_state: HysteresisState | None = None
    error_kind: str | None = None
    error_detail: str | None = None


@dataclass(frozen=True, slots=True)
class OrchestratorEvent:
    """One orchestrator output record (`orchestrator_event` v1); EngineRunStarted has no payload."""

    schema: str
    schema_version: str
    event_type: str
    run_id: str
    symbol: str
    engine_timestamp_ms: int
    cut_start_ingest_seq: int
    cut_end_ingest_seq: int
    cut_kind: str
    engine_mode: str | None = None
    attempt: int | None = None
    published_ts_ms: int | None = None
    counts_by_event_type: Mapping[str, int] | None = None
    payload: OrchestratorPayload | None = None
