"""Small upstream-event builders for the dashboard's tests and demos (fact-sheet shorthand O:/G:/A:)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from xray_contracts import analysis_engine as ae
from xray_contracts import orchestrator_event as oe
from xray_contracts import state_gate as sg

SYMBOL = "S"


def regime(name: str = "CHOP_BALANCED", confidence: float = 0.8, symbol: str = SYMBOL) -> oe.RegimeOutput:
    """R(name, conf): drivers [driver-1], invalidations [invalid-1], permissions [perm-1], no belief."""
    return oe.RegimeOutput(symbol, 0, name, confidence, ("driver-1",), ("invalid-1",), ("perm-1",))


def hysteresis(
    anchor: str = "CHOP_BALANCED",
    candidate: str | None = None,
    current: int = 0,
    required: int = 3,
    reason_codes: Sequence[str] = (),
    *,
    belief: Mapping[str, float] | None = None,
    symbol: str = SYMBOL,
    ts: int = 0,
) -> oe.HysteresisState:
    """A hysteresis state (belief goes into debug.belief_by_regime when given)."""
    return oe.HysteresisState(
        oe.HYSTERESIS_STATE_SCHEMA,
        oe.HYSTERESIS_STATE_SCHEMA_VERSION,
        symbol,
        ts,
        anchor,
        candidate,
        current,
        required,
        None,
        tuple(reason_codes),
        oe.HysteresisDebug(dict(belief)) if belief is not None else None,
    )


def orchestrator(
    event_type: str,
    run_id: str,
    ts: int,
    *,
    output: oe.RegimeOutput | None = None,
    state: oe.HysteresisState | None = None,
    symbol: str = SYMBOL,
    schema: str = oe.SCHEMA,
    schema_version: str = oe.SCHEMA_VERSION,
    mode: str = "truth",
) -> oe.OrchestratorEvent:
    """O:<type>(run, ts, ...)."""
    payload = None if output is None and state is None else oe.OrchestratorPayload(output, state)
    return oe.OrchestratorEvent(
        schema, schema_version, event_type, run_id, symbol, ts, 1, 1, "timer", mode, 1, None, None, payload
    )


def gate(
    run_id: str,
    ts: int,
    status: str = "OPEN",
    reasons: Sequence[str] = (),
    *,
    event_type: str = sg.EVENT_GATE_EVALUATED,
    mode: str | None = "hysteresis",
    output: oe.RegimeOutput | None = None,
    state: oe.HysteresisState | None = None,
    payload: sg.StateGatePayload | None = None,
    symbol: str = SYMBOL,
) -> sg.StateGateEvent:
    """G:<type>(run, ts, gate, reasons, mode, payload)."""
    if payload is None and (output is not None or state is not None):
        payload = sg.GateEvaluatedPayload(output, state)
    return sg.StateGateEvent(
        sg.SCHEMA,
        sg.SCHEMA_VERSION,
        event_type,
        symbol,
        ts,
        run_id,
        sg.STATE_READY,
        status,
        tuple(reasons),
        payload,
        None,
        mode,
    )


def analysis(
    event_type: str,
    run_id: str,
    ts: int,
    payload: ae.AnalysisEnginePayload | None = None,
    symbol: str = SYMBOL,
) -> ae.AnalysisEngineEvent:
    """A:<type>(run, ts, payload)."""
    return ae.AnalysisEngineEvent(
        event_type=event_type, symbol=symbol, run_id=run_id, engine_timestamp_ms=ts, payload=payload
    )


def artifact(
    run_id: str,
    ts: int,
    module_id: str = "module",
    name: str = "artifact",
    *,
    kind: str = "output",
    schema: str = "artifact-schema",
    payload_json: str = "null",
    symbol: str = SYMBOL,
) -> ae.AnalysisEngineEvent:
    """A:ArtifactEmitted(run, ts, kind, module, name)."""
    body = ae.ArtifactEmittedPayload(
        artifact_kind=kind,
        module_id=module_id,
        artifact_name=name,
        artifact_schema=schema,
        artifact_schema_version="1",
        payload_json=payload_json,
    )
    return analysis(ae.EventType.ARTIFACT_EMITTED, run_id, ts, body, symbol)


def completed(
    run_id: str, ts: int, status: str = "SUCCESS", failures: Sequence[str] = (), symbol: str = SYMBOL
) -> ae.AnalysisEngineEvent:
    """A:AnalysisRunCompleted(run, ts, status, failures)."""
    body = ae.RunStatusPayload(status=status, module_failures=tuple(failures))
    return analysis(ae.EventType.ANALYSIS_RUN_COMPLETED, run_id, ts, body, symbol)
