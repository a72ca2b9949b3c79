"""Builders for tests and demos: state_gate events, regime outputs and small configurable modules."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from consumers.analysis_engine.contracts import JsonValue, RunContext
from consumers.analysis_engine.modules.base import (
    AnalysisModule,
    Dependencies,
    ModuleResult,
    ModuleSettings,
    SignalModule,
    module_definition,
)
from xray_contracts.orchestrator_event import (
    HYSTERESIS_STATE_SCHEMA,
    HYSTERESIS_STATE_SCHEMA_VERSION,
    REGIME_VALUES,
    DriverContribution,
    HysteresisDebug,
    HysteresisState,
    InvalidationCondition,
    RegimeOutput,
)
from xray_contracts.state_gate import (
    EVENT_GATE_EVALUATED,
    GATE_CLOSED,
    GATE_OPEN,
    SCHEMA,
    SCHEMA_VERSION,
    STATE_HALTED,
    STATE_READY,
    GateEvaluatedPayload,
    StateGateEvent,
    StateGatePayload,
)

ExecuteFn = Callable[
    [AnalysisModule, RunContext, Dependencies, JsonValue | None, ModuleSettings], ModuleResult
]


def one_hot_belief(regime: str, mass: float = 1.0) -> dict[str, float]:
    """A belief distribution with `mass` on one regime and the rest spread evenly."""
    rest = (1.0 - mass) / (len(REGIME_VALUES) - 1)
    return {r: (mass if r == regime else rest) for r in REGIME_VALUES}


def regime_output(
    regime: str = "CHOP_BALANCED",
    *,
    symbol: str = "TEST",
    timestamp: int = 100,
    confidence: float = 0.7,
    drivers: Sequence[str] = ("market.range_expansion",),
    invalidations: Sequence[str] = (),
    permissions: Sequence[str] | None = None,
    belief: Mapping[str, float] | None = None,
    contributions: Sequence[tuple[str, float]] | None = None,
    conditions: Sequence[InvalidationCondition] | None = None,
) -> RegimeOutput:
    """A RegimeOutput with sensible defaults (belief one-hot on the regime unless given)."""
    return RegimeOutput(
        symbol=symbol,
        timestamp=timestamp,
        regime=regime,
        confidence=confidence,
        drivers=tuple(drivers),
        invalidations=tuple(invalidations),
        permissions=tuple(permissions) if permissions is not None else (regime,),
        belief_by_regime=dict(belief) if belief is not None else one_hot_belief(regime),
        driver_contributions=tuple(DriverContribution(d, c) for d, c in contributions)
        if contributions is not None
        else None,
        invalidation_conditions=tuple(conditions) if conditions is not None else None,
    )


def hysteresis_state(
    anchor: str,
    *,
    symbol: str = "TEST",
    timestamp: int = 100,
    candidate: str | None = None,
    progress: int = 0,
    required: int = 3,
    last_commit_ms: int | None = None,
    belief: Mapping[str, float] | None = None,
) -> HysteresisState:
    """A HysteresisState with the given anchor/candidate."""
    return HysteresisState(
        schema=HYSTERESIS_STATE_SCHEMA,
        schema_version=HYSTERESIS_STATE_SCHEMA_VERSION,
        symbol=symbol,
        engine_timestamp_ms=timestamp,
        anchor_regime=anchor,
        candidate_regime=candidate,
        progress_current=progress,
        progress_required=required,
        last_commit_timestamp_ms=last_commit_ms,
        reason_codes=(),
        debug=HysteresisDebug(belief_by_regime=dict(belief)) if belief is not None else None,
    )


def gate_event(
    run_id: str = "run-1",
    *,
    symbol: str = "TEST",
    event_type: str = EVENT_GATE_EVALUATED,
    gate_status: str = GATE_OPEN,
    reasons: Sequence[str] = ("ok",),
    engine_mode: str | None = "truth",
    timestamp: int = 100,
    regime: RegimeOutput | None = None,
    hysteresis: HysteresisState | None = None,
    payload: StateGatePayload | None = None,
) -> StateGateEvent:
    """A state_gate_event v1 with the fact sheet's test defaults (TEST, OPEN, ["ok"], truth, 100)."""
    if payload is None and (regime is not None or hysteresis is not None):
        payload = GateEvaluatedPayload(regime_output=regime, hysteresis_state=hysteresis)
    if event_type == EVENT_GATE_EVALUATED:
        state_status = STATE_READY if gate_status == GATE_OPEN else "HOLD"
    else:
        state_status = STATE_HALTED if event_type == "StateGateHalted" else "BOOTSTRAP"
        gate_status = GATE_CLOSED
    return StateGateEvent(
        schema=SCHEMA,
        schema_version=SCHEMA_VERSION,
        event_type=event_type,
        symbol=symbol,
        engine_timestamp_ms=timestamp,
        run_id=run_id,
        state_status=state_status,
        gate_status=gate_status,
        reasons=tuple(reasons),
        payload=payload,
        engine_mode=engine_mode,
    )


class FunctionModule(AnalysisModule):
    """A module whose execute is a plain function (tests and examples)."""

    def __init__(self, fn: ExecuteFn, **definition: Any) -> None:
        """Build the definition from keywords and bind the function."""
        super().__init__(module_definition(**definition))
        self._fn = fn

    def execute(
        self, context: RunContext, dependencies: Dependencies, state: JsonValue | None, config: ModuleSettings
    ) -> ModuleResult:
        """Call the bound function."""
        return self._fn(self, context, dependencies, state, config)


def value_module(
    module_id: str,
    *,
    kind: str = "signal",
    artifacts: Sequence[str] = ("value",),
    depends_on: Sequence[tuple[str, str]] = (),
    enabled_by_default: bool = False,
    stateful: bool = False,
    fn: ExecuteFn | None = None,
) -> FunctionModule:
    """A module emitting one artifact per name with payload {"module": id}; `fn` overrides execute."""

    def default(
        self: AnalysisModule,
        ctx: RunContext,
        deps: Dependencies,
        state: JsonValue | None,
        cfg: ModuleSettings,
    ) -> ModuleResult:
        """One artifact per declared name."""
        return ModuleResult(artifacts=tuple(self.artifact(n, {"module": module_id}) for n in artifacts))

    return FunctionModule(
        fn or default,
        module_id=module_id,
        module_kind=kind,
        module_version="1",
        dependencies=tuple(depends_on),
        artifact_schemas=tuple((n, f"{module_id}.{n}", "1") for n in artifacts),
        enabled_by_default=enabled_by_default,
        state_schema_id=f"{module_id}.state" if stateful else None,
        state_schema_version="1" if stateful else None,
    )


class ExampleThirdPartySignal(SignalModule):
    """What a third-party package registers under `xray.analysis_modules` (entry-point name
    `signal.example_confidence`): emits the run's confidence bucket."""

    def __init__(self) -> None:
        """Definition: one signal artifact, disabled by default."""
        super().__init__(
            module_definition(
                module_id="signal.example_confidence",
                module_kind="signal",
                module_version="0.1.0",
                artifact_schemas=[("bucket", "example.confidence_bucket", "1")],
            )
        )

    def execute(
        self, context: RunContext, dependencies: Dependencies, state: JsonValue | None, config: ModuleSettings
    ) -> ModuleResult:
        """Bucket the confidence into low / mid / high."""
        confidence = context.regime_output.confidence if context.regime_output is not None else 0.0
        bucket = "low" if confidence < 0.4 else ("mid" if confidence < 0.7 else "high")
        return ModuleResult(artifacts=(self.artifact("bucket", {"bucket": bucket}),))


def not_a_module() -> object:
    """A broken entry-point target (returns something that is not a module)."""
    return object()
