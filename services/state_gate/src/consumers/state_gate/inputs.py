"""Read one orchestrator_event into a validated RunInput, or say precisely why it is unusable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from consumers.state_gate.contracts import (
    ENGINE_MODES,
    ERROR_INCONSISTENT_INPUT,
    ERROR_MALFORMED_INPUT,
    INPUT_ENGINE_RUN_COMPLETED,
    INPUT_ENGINE_RUN_FAILED,
    INPUT_EVENT_TYPES,
    INPUT_HYSTERESIS_STATE_PUBLISHED,
)
from xray_contracts.orchestrator_event import SCHEMA as ORCHESTRATOR_SCHEMA
from xray_contracts.orchestrator_event import SCHEMA_VERSION as ORCHESTRATOR_SCHEMA_VERSION
from xray_contracts.orchestrator_event import (
    HysteresisState,
    OrchestratorEvent,
    OrchestratorPayload,
    RegimeOutput,
)


class InputError(Exception):
    """An input the gate cannot trust: `error_kind` is malformed_input or inconsistent_input."""

    def __init__(self, error_kind: str, detail: str) -> None:
        super().__init__(detail)
        self.error_kind = error_kind
        self.detail = detail


@dataclass(frozen=True, slots=True)
class RunInput:
    """The parts of one gating input (Completed / Failed / HysteresisStatePublished) the gate uses."""

    event_type: str
    run_id: str
    symbol: str
    engine_timestamp_ms: int
    engine_mode: str | None
    regime_output: RegimeOutput | None
    hysteresis_state: HysteresisState | None
    error_kind: str | None
    error_detail: str | None


def _malformed(detail: str) -> InputError:
    return InputError(ERROR_MALFORMED_INPUT, detail)


def _inconsistent(detail: str) -> InputError:
    return InputError(ERROR_INCONSISTENT_INPUT, detail)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str_sequence(value: object) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str | bytes)
        and all(isinstance(item, str) for item in value)
    )


def is_gating_input(event: OrchestratorEvent) -> bool:
    """True for the three input types the gate acts on; EngineRunStarted and unknown types are ignored."""
    return getattr(event, "event_type", None) in INPUT_EVENT_TYPES


def _check_regime_output(value: object, symbol: str, ts: int) -> RegimeOutput:
    if not isinstance(value, RegimeOutput):
        raise _malformed("regime_output is not a RegimeOutput")
    if not _is_str_sequence(value.invalidations):
        raise _malformed("regime_output.invalidations must be a list of strings")
    if value.symbol != symbol:
        raise _inconsistent("regime_output.symbol differs from the event symbol")
    if value.timestamp != ts:
        raise _inconsistent("regime_output.timestamp differs from engine_timestamp_ms")
    return value


def _check_hysteresis_state(value: object, symbol: str, ts: int) -> HysteresisState:
    if not isinstance(value, HysteresisState):
        raise _malformed("hysteresis_state is not a HysteresisState")
    if not _is_int(value.progress_current) or value.progress_current < 0:
        raise _malformed("hysteresis_state.progress_current must be an int >= 0")
    if not _is_str_sequence(value.reason_codes):
        raise _malformed("hysteresis_state.reason_codes must be a list of strings")
    if value.symbol != symbol:
        raise _inconsistent("hysteresis_state.symbol differs from the event symbol")
    if value.engine_timestamp_ms != ts:
        raise _inconsistent("hysteresis_state.engine_timestamp_ms differs from engine_timestamp_ms")
    return value


def read_run_input(event: OrchestratorEvent) -> RunInput:
    """Validate a gating input's envelope and payload; raise InputError when it cannot be trusted."""
    if event.schema != ORCHESTRATOR_SCHEMA or event.schema_version != ORCHESTRATOR_SCHEMA_VERSION:
        raise _malformed(f"unexpected schema {event.schema!r} version {event.schema_version!r}")
    if not isinstance(event.run_id, str) or not event.run_id:
        raise _malformed("run_id must be a non-empty string")
    if not isinstance(event.symbol, str) or not event.symbol:
        raise _malformed("symbol must be a non-empty string")
    ts = event.engine_timestamp_ms
    if not _is_int(ts) or ts < 0:
        raise _malformed("engine_timestamp_ms must be an int >= 0")
    if event.engine_mode is not None and event.engine_mode not in ENGINE_MODES:
        raise _malformed(f"unknown engine_mode {event.engine_mode!r}")
    payload = event.payload
    regime_output: RegimeOutput | None = None
    hysteresis_state: HysteresisState | None = None
    error_kind: str | None = None
    error_detail: str | None = None
    if payload is not None:
        if not isinstance(payload, OrchestratorPayload):
            raise _malformed("payload is not an OrchestratorPayload")
        if payload.regime_output is not None:
            regime_output = _check_regime_output(payload.regime_output, event.symbol, ts)
        if payload.hysteresis_state is not None:
            hysteresis_state = _check_hysteresis_state(payload.hysteresis_state, event.symbol, ts)
        error_kind, error_detail = payload.error_kind, payload.error_detail
    if event.event_type == INPUT_ENGINE_RUN_COMPLETED and regime_output is None:
        raise _malformed("EngineRunCompleted without regime_output")
    if event.event_type == INPUT_HYSTERESIS_STATE_PUBLISHED and hysteresis_state is None:
        raise _malformed("HysteresisStatePublished without hysteresis_state")
    if event.event_type == INPUT_ENGINE_RUN_FAILED:
        if regime_output is not None or hysteresis_state is not None:
            raise _inconsistent("EngineRunFailed carries an engine payload")
        both_null = error_kind is None and error_detail is None
        if not both_null and not (isinstance(error_kind, str) and isinstance(error_detail, str)):
            raise _malformed("EngineRunFailed payload needs both error_kind and error_detail strings")
    return RunInput(
        event_type=event.event_type,
        run_id=event.run_id,
        symbol=event.symbol,
        engine_timestamp_ms=ts,
        engine_mode=event.engine_mode,
        regime_output=regime_output,
        hysteresis_state=hysteresis_state,
        error_kind=error_kind,
        error_detail=error_detail,
    )
