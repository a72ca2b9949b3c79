"""Builders of orchestrator events for tests, demos and the integration suite (deterministic values)."""

from __future__ import annotations

from consumers.state_gate.config import OperationLimits, StateGateConfig
from xray_contracts.orchestrator_event import (
    HysteresisState,
    OrchestratorEvent,
    OrchestratorPayload,
    RegimeOutput,
)


def sample_config(
    *,
    max_gap_ms: int = 1000,
    denylist: tuple[str, ...] = (),
    block_during_transition: bool = False,
    max_pending: int = 10,
) -> StateGateConfig:
    """The fact sheet's default test config (empty denylist, no transition blocking, limits 10)."""
    limits = OperationLimits(max_pending=max_pending)
    return StateGateConfig(
        max_gap_ms=max_gap_ms,
        denylisted_invalidations=denylist,
        block_during_transition=block_during_transition,
        input_limits=limits,
        persistence_limits=limits,
        publish_limits=limits,
    )


def regime_output(symbol: str, ts: int, invalidations: tuple[str, ...] = ()) -> RegimeOutput:
    """A RegimeOutput with fixed values and the given invalidations."""
    return RegimeOutput(
        symbol=symbol,
        timestamp=ts,
        regime="CHOP_BALANCED",
        confidence=0.5,
        drivers=("composer:test",),
        invalidations=invalidations,
        permissions=(),
    )


def hysteresis_state(
    symbol: str, ts: int, progress: int = 0, reason_codes: tuple[str, ...] = ()
) -> HysteresisState:
    """A HysteresisState with the given progress and reason codes."""
    return HysteresisState(
        schema="hysteresis_state",
        schema_version="1",
        symbol=symbol,
        engine_timestamp_ms=ts,
        anchor_regime="CHOP_BALANCED",
        candidate_regime="TREND_BUILD_UP" if progress else None,
        progress_current=progress,
        progress_required=3,
        last_commit_timestamp_ms=None,
        reason_codes=reason_codes,
    )


def orchestrator_event(
    event_type: str,
    run_id: str,
    ts: int,
    *,
    symbol: str = "TEST",
    engine_mode: str | None = "truth",
    payload: OrchestratorPayload | None = None,
) -> OrchestratorEvent:
    """An orchestrator_event v1 envelope around `payload`."""
    return OrchestratorEvent(
        schema="orchestrator_event",
        schema_version="1",
        event_type=event_type,
        run_id=run_id,
        symbol=symbol,
        engine_timestamp_ms=ts,
        cut_start_ingest_seq=1,
        cut_end_ingest_seq=ts,
        cut_kind="timer",
        engine_mode=engine_mode,
        attempt=1,
        payload=payload,
    )


def completed(
    run_id: str,
    ts: int,
    *,
    symbol: str = "TEST",
    engine_mode: str | None = "truth",
    invalidations: tuple[str, ...] = (),
) -> OrchestratorEvent:
    """EngineRunCompleted carrying a regime output."""
    payload = OrchestratorPayload(regime_output=regime_output(symbol, ts, invalidations))
    return orchestrator_event(
        "EngineRunCompleted", run_id, ts, symbol=symbol, engine_mode=engine_mode, payload=payload
    )


def hysteresis(
    run_id: str,
    ts: int,
    *,
    symbol: str = "TEST",
    progress: int = 0,
    reason_codes: tuple[str, ...] = (),
    invalidations: tuple[str, ...] | None = None,
) -> OrchestratorEvent:
    """HysteresisStatePublished (engine_mode hysteresis); with `invalidations` it carries the output too."""
    output = None if invalidations is None else regime_output(symbol, ts, invalidations)
    payload = OrchestratorPayload(
        regime_output=output, hysteresis_state=hysteresis_state(symbol, ts, progress, reason_codes)
    )
    return orchestrator_event(
        "HysteresisStatePublished", run_id, ts, symbol=symbol, engine_mode="hysteresis", payload=payload
    )


def failed(
    run_id: str,
    ts: int,
    *,
    symbol: str = "TEST",
    engine_mode: str | None = "truth",
    with_payload: bool = True,
) -> OrchestratorEvent:
    """EngineRunFailed, with an error payload or (with_payload=False) from the envelope alone."""
    payload = OrchestratorPayload(error_kind="engine_failure", error_detail="boom") if with_payload else None
    return orchestrator_event(
        "EngineRunFailed", run_id, ts, symbol=symbol, engine_mode=engine_mode, payload=payload
    )


def started(
    run_id: str, ts: int, *, symbol: str = "TEST", engine_mode: str | None = "truth"
) -> OrchestratorEvent:
    """EngineRunStarted (no payload): the gate ignores it."""
    return orchestrator_event("EngineRunStarted", run_id, ts, symbol=symbol, engine_mode=engine_mode)
