"""Dashboard View Model (DVM) v1: the only thing a renderer sees.

Every object is a frozen dataclass of primitives (str, int epoch ms, float, bool, tuples, nested DVM
objects); no upstream type and no layout concept appears here. Arrays are put into their contract order
at construction, whatever order the producer hands them in, so two equal views compare equal.
Fields marked "additive" are optional v1 extensions (see DVM_VERSIONING_POLICY).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final

DVM_SCHEMA: Final = "dashboard_view_model"
DVM_SCHEMA_VERSION: Final = "1"
DVM_VERSIONING_POLICY: Final = (
    "DVM v1 is additive-only: new optional fields, optional sections, list items with stable ids and "
    "new status or reason codes keep the version; removing or reinterpreting a required field, changing "
    "an ordering rule or making an optional field required needs a dvm_schema_version bump and a "
    "renderer review."
)

# Trends (confidence and belief).
RISING: Final = "RISING"
FALLING: Final = "FALLING"
FLAT: Final = "FLAT"
UNKNOWN: Final = "UNKNOWN"
# Hysteresis phases.
STABLE: Final = "STABLE"
TRANSITIONING: Final = "TRANSITIONING"
FLIPPED: Final = "FLIPPED"
RESET: Final = "RESET"
# Component / system status.
STATUS_OK: Final = "OK"
STATUS_DEGRADED: Final = "DEGRADED"
STATUS_UNKNOWN: Final = UNKNOWN
# Gate status.
GATE_OPEN: Final = "OPEN"
GATE_CLOSED: Final = "CLOSED"
GATE_UNKNOWN: Final = UNKNOWN
# Analysis status.
ANALYSIS_EMPTY: Final = "EMPTY"
ANALYSIS_PARTIAL: Final = "PARTIAL"
ANALYSIS_PRESENT: Final = "PRESENT"
# regime_effective.source
SOURCE_TRUTH: Final = "truth"
SOURCE_HYSTERESIS: Final = "hysteresis"

NOTE_FLIPPED: Final = "flipped"
NOTE_RESET_DUE_TO_GAP: Final = "reset_due_to_gap"

# Components, in contract order.
COMPONENT_ANALYSIS_ENGINE: Final = "analysis_engine"
COMPONENT_DASHBOARDS: Final = "dashboards"
COMPONENT_ORCHESTRATOR: Final = "orchestrator"
COMPONENT_STATE_GATE: Final = "state_gate"

# Stale reason codes: the original five plus the time-based ones (additive).
STALE_INGEST_FAILURE: Final = "ingest_failure"
STALE_MISSING_ANALYSIS: Final = "missing_analysis_engine_events"
STALE_MISSING_ORCHESTRATOR: Final = "missing_orchestrator_events"
STALE_MISSING_STATE_GATE: Final = "missing_state_gate_events"
STALE_NO_SYMBOLS: Final = "no_symbols_observed"
DETAIL_NO_EVENTS: Final = "no events ingested"


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


def _check_one_of(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


@dataclass(frozen=True, slots=True)
class SystemComponentStatus:
    """Health of one component as the dashboard sees it."""

    component_id: str
    status: str
    details: tuple[str, ...] = ()
    last_update_ts_ms: int | None = None

    def __post_init__(self) -> None:
        _check_one_of("status", self.status, (STATUS_OK, STATUS_DEGRADED, STATUS_UNKNOWN))
        _set(self, "details", tuple(self.details))


@dataclass(frozen=True, slots=True)
class SystemSection:
    """Overall status and one entry per component (sorted by component_id)."""

    status: str
    components: tuple[SystemComponentStatus, ...] = ()

    def __post_init__(self) -> None:
        _check_one_of("status", self.status, (STATUS_OK, STATUS_DEGRADED, STATUS_UNKNOWN))
        _set(self, "components", tuple(sorted(self.components, key=lambda c: c.component_id)))


@dataclass(frozen=True, slots=True)
class GateSnapshot:
    """The latest gate decision; reasons keep state_gate's order."""

    status: str = GATE_UNKNOWN
    reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_one_of("gate status", self.status, (GATE_OPEN, GATE_CLOSED, GATE_UNKNOWN))
        _set(self, "reasons", tuple(self.reasons))


@dataclass(frozen=True, slots=True)
class RegimeTruthSnapshot:
    """The regime engine's raw truth output (no hysteresis interpretation)."""

    regime_name: str
    confidence: float
    drivers: tuple[str, ...] = ()
    invalidations: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HysteresisTransition:
    """The hysteresis decision state."""

    stable_regime: str | None
    candidate_regime: str | None
    candidate_count: int
    transition_active: bool
    flipped: bool
    reset_due_to_gap: bool


@dataclass(frozen=True, slots=True)
class HysteresisProgress:
    """How far the candidate regime is towards a switch."""

    current: int
    required: int


@dataclass(frozen=True, slots=True)
class HysteresisSummary:
    """Render-only compression of the transition (phase, progress, confidence trend)."""

    phase: str
    anchor_regime: str | None
    candidate_regime: str | None
    progress: HysteresisProgress
    confidence_trend: str
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_one_of("phase", self.phase, (STABLE, TRANSITIONING, FLIPPED, RESET))
        _check_one_of("confidence_trend", self.confidence_trend, (RISING, FALLING, FLAT))
        _set(self, "notes", tuple(sorted(self.notes)))


@dataclass(frozen=True, slots=True)
class HysteresisSnapshot:
    """Hysteresis decision state; never turned into an effective regime here."""

    effective_confidence: float
    transition: HysteresisTransition
    summary: HysteresisSummary | None = None


@dataclass(frozen=True, slots=True)
class RegimeEffectiveSnapshot:
    """The regime downstream treats as current, as state_gate passed it on."""

    regime_name: str
    confidence: float
    drivers: tuple[str, ...] = ()
    invalidations: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()
    source: str = SOURCE_TRUTH

    def __post_init__(self) -> None:
        _check_one_of("source", self.source, (SOURCE_TRUTH, SOURCE_HYSTERESIS))


@dataclass(frozen=True, slots=True)
class AnalysisArtifactSummary:
    """Identity of one artifact of the symbol's current analysis run."""

    artifact_kind: str
    module_id: str
    artifact_name: str
    artifact_schema: str
    artifact_schema_version: str
    summary: str


@dataclass(frozen=True, slots=True)
class AnalysisAssessment:
    """Additive: the `rule.assessment` artifact's own summary text, stance and bias, copied verbatim."""

    summary: str
    stance: str | None = None
    bias: str | None = None
    actionable: bool | None = None


@dataclass(frozen=True, slots=True)
class AnalysisSection:
    """Summary of the symbol's current analysis run (references only, no new conclusions)."""

    status: str
    highlights: tuple[str, ...] = ()
    artifacts: tuple[AnalysisArtifactSummary, ...] = ()
    assessment: AnalysisAssessment | None = None
    run_id: str | None = None

    def __post_init__(self) -> None:
        _check_one_of("analysis status", self.status, (ANALYSIS_EMPTY, ANALYSIS_PARTIAL, ANALYSIS_PRESENT))
        _set(self, "highlights", tuple(sorted(self.highlights)))
        _set(
            self,
            "artifacts",
            tuple(sorted(self.artifacts, key=lambda a: (a.artifact_kind, a.module_id, a.artifact_name))),
        )


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """Flat numeric observables for sorting (null = not known). The first eight are the v1 contract's."""

    atr_pct: float | None = None
    atr_rank: float | None = None
    range_24h_pct: float | None = None
    range_session_pct: float | None = None
    volume_24h: float | None = None
    volume_rank: float | None = None
    relative_volume: float | None = None
    relative_strength: float | None = None
    # Additive.
    price_last: float | None = None
    price_change_pct: float | None = None
    crowding_score: float | None = None
    cascade_mass: float | None = None
    positioning_share: float | None = None

    def is_empty(self) -> bool:
        """No field is known."""
        return all(getattr(self, name) is None for name in self.__slots__)


@dataclass(frozen=True, slots=True)
class BeliefDistributionEntry:
    """One regime's belief mass."""

    regime_name: str
    mass: float


@dataclass(frozen=True, slots=True)
class BeliefTrend:
    """How the anchor regime's mass moved against the previous run's belief."""

    status: str = UNKNOWN
    anchor_mass_delta: float | None = None

    def __post_init__(self) -> None:
        _check_one_of("belief trend", self.status, (RISING, FALLING, FLAT, UNKNOWN))


@dataclass(frozen=True, slots=True)
class BeliefSnapshot:
    """The belief distribution (mass desc, then name asc) and its display-only argmax."""

    anchor_regime: str
    distribution: tuple[BeliefDistributionEntry, ...] = ()
    trend: BeliefTrend = field(default_factory=BeliefTrend)

    def __post_init__(self) -> None:
        _set(self, "distribution", tuple(sorted(self.distribution, key=lambda e: (-e.mass, e.regime_name))))


@dataclass(frozen=True, slots=True)
class RegimePoint:
    """Additive: the committed regime of one run (for the regime history strip)."""

    engine_timestamp_ms: int
    regime_name: str
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class PricePoint:
    """Additive: the last observed price of one time bucket (for the price sparkline)."""

    ts_ms: int
    price: float


@dataclass(frozen=True, slots=True)
class SymbolHistory:
    """Additive: bounded recent history per symbol, oldest first."""

    regimes: tuple[RegimePoint, ...] = ()
    prices: tuple[PricePoint, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "regimes", tuple(sorted(self.regimes, key=lambda p: p.engine_timestamp_ms)))
        _set(self, "prices", tuple(sorted(self.prices, key=lambda p: p.ts_ms)))


@dataclass(frozen=True, slots=True)
class SymbolSnapshot:
    """Everything the dashboard knows about one symbol."""

    symbol: str
    last_run_id: str | None = None
    last_engine_timestamp_ms: int | None = None
    gate: GateSnapshot = field(default_factory=GateSnapshot)
    regime_truth: RegimeTruthSnapshot | None = None
    hysteresis: HysteresisSnapshot | None = None
    regime_effective: RegimeEffectiveSnapshot | None = None
    analysis: AnalysisSection | None = None
    metrics: MetricsSnapshot | None = None
    belief: BeliefSnapshot | None = None
    # Additive.
    history: SymbolHistory | None = None
    last_update_ts_ms: int | None = None


@dataclass(frozen=True, slots=True)
class TelemetryIngest:
    """Newest engine timestamp seen per stream (never moves backwards)."""

    last_orchestrator_event_ts_ms: int | None = None
    last_state_gate_event_ts_ms: int | None = None
    last_analysis_engine_event_ts_ms: int | None = None


@dataclass(frozen=True, slots=True)
class TelemetryStaleness:
    """Whether the view is stale, with stable reason codes (sorted)."""

    is_stale: bool
    stale_reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "stale_reasons", tuple(sorted(set(self.stale_reasons))))


@dataclass(frozen=True, slots=True)
class StreamTelemetry:
    """Additive: one input stream as its topic tells it (positions, record times) plus ingest outcomes."""

    stream: str
    events_ingested: int = 0
    last_event_ts_ms: int | None = None
    last_record_ts_ms: int | None = None
    age_ms: int | None = None
    stale_after_ms: int | None = None
    is_stale: bool = False
    lag_records: int | None = None
    caught_up: bool | None = None
    failing: bool = False
    failure_count: int = 0
    last_failure_kind: str | None = None
    last_failure_detail: str | None = None
    counts_in_status: bool = True


@dataclass(frozen=True, slots=True)
class TelemetrySection:
    """Ingest stamps, staleness and (additive) per-stream telemetry sorted by stream name."""

    ingest: TelemetryIngest = field(default_factory=TelemetryIngest)
    staleness: TelemetryStaleness = field(default_factory=lambda: TelemetryStaleness(False))
    streams: tuple[StreamTelemetry, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "streams", tuple(sorted(self.streams, key=lambda s: s.stream)))


@dataclass(frozen=True, slots=True)
class DashboardViewModel:
    """One complete, immutable dashboard snapshot."""

    dvm_schema: str
    dvm_schema_version: str
    as_of_ts_ms: int
    source_run_id: str | None
    source_engine_timestamp_ms: int | None
    system: SystemSection
    symbols: tuple[SymbolSnapshot, ...]
    telemetry: TelemetrySection

    def __post_init__(self) -> None:
        if self.dvm_schema != DVM_SCHEMA:
            raise ValueError(f"dvm_schema must be {DVM_SCHEMA!r}, got {self.dvm_schema!r}")
        if self.dvm_schema_version != DVM_SCHEMA_VERSION:
            raise ValueError(
                f"dvm_schema_version must be {DVM_SCHEMA_VERSION!r}, got {self.dvm_schema_version!r}"
            )
        _set(self, "symbols", tuple(sorted(self.symbols, key=lambda s: s.symbol)))

    def symbol(self, name: str) -> SymbolSnapshot | None:
        """The snapshot of one symbol, if known."""
        return next((s for s in self.symbols if s.symbol == name), None)


def to_dict(dvm: DashboardViewModel) -> dict[str, Any]:
    """The JSON-ready wire form: snake_case keys exactly as the fields (tuples serialise as arrays)."""
    return asdict(dvm)
