"""The pure per-symbol step: (snapshot, input, config) → (new snapshot, events, records).

Everything the service and the in-memory processor do to a symbol goes through these functions, so
replaying the same inputs from the same snapshot always gives the same outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from consumers.state_gate.assembly import AssembledRun, merge_input, ready_run
from consumers.state_gate.config import StateGateConfig
from consumers.state_gate.contracts import (
    ENGINE_GAP_RESET_CODE,
    ENGINE_MODES,
    ERROR_INCONSISTENT_INPUT,
    ERROR_INPUT_LIMIT_EXCEEDED,
    ERROR_PERSISTENCE_FAILURE,
    ERROR_PUBLISH_BLOCKED,
    EVENT_GATE_EVALUATED,
    EVENT_STATE_GATE_HALTED,
    EVENT_STATE_RESET,
    GATE_CLOSED,
    INPUT_EVENT_TYPES,
    REASON_INTERNAL_FAILURE,
    RESET_ENGINE_GAP,
    RESET_TIMESTAMP_GAP,
    SCHEMA,
    SCHEMA_VERSION,
    STATE_BOOTSTRAP,
    STATE_HALTED,
    GateEvaluatedPayload,
    PendingRun,
    StateGateEvent,
    StateGateHaltedPayload,
    StateGateSnapshot,
    StateGateStateRecord,
    StateResetPayload,
    input_idempotency_key,
)
from consumers.state_gate.inputs import InputError, is_gating_input, read_run_input
from consumers.state_gate.rules import evaluate_gate
from xray_contracts.orchestrator_event import OrchestratorEvent

# How many recent input idempotency keys a snapshot keeps (diagnostics and pending-run dedupe; the
# ordering high-water mark already rejects every input of a decided run).
MAX_PROCESSED_KEYS: Final = 32
UNKNOWN_RUN_ID: Final = "unknown"

PUBLISH_BLOCKED_DETAIL: Final = "output publish backpressure exceeded"
PERSISTENCE_BACKLOG_DETAIL: Final = "persistence backlog exceeded"

# Why an input produced no event (for logs and metrics).
IGNORED_NOT_GATING: Final = "not_gating"
IGNORED_HALTED: Final = "halted"
IGNORED_DUPLICATE: Final = "duplicate"
IGNORED_STALE: Final = "stale"
IGNORED_PENDING: Final = "pending"


@dataclass(frozen=True, slots=True)
class StepResult:
    """The outcome of one step for one symbol."""

    snapshot: StateGateSnapshot
    events: tuple[StateGateEvent, ...] = ()
    records: tuple[StateGateStateRecord, ...] = ()
    state_changed: bool = False
    ignored: str | None = None
    previous_timestamp_ms: int | None = None


def bootstrap_snapshot(symbol: str) -> StateGateSnapshot:
    """The state of a symbol never seen before: BOOTSTRAP / CLOSED, nothing processed."""
    return StateGateSnapshot(symbol=symbol)


def record_for_event(event: StateGateEvent) -> StateGateStateRecord:
    """The log record mirroring one event; refuses event types outside v1."""
    base = StateGateStateRecord(
        symbol=event.symbol,
        engine_timestamp_ms=event.engine_timestamp_ms,
        run_id=event.run_id,
        state_status=event.state_status,
        gate_status=event.gate_status,
        reasons=event.reasons,
        engine_mode=event.engine_mode,
        source_event_type=event.input_event_type,
        event_type=event.event_type,
    )
    payload = event.payload
    if event.event_type == EVENT_GATE_EVALUATED:
        if isinstance(payload, GateEvaluatedPayload):
            return replace(
                base, regime_output=payload.regime_output, hysteresis_state=payload.hysteresis_state
            )
        return base
    if event.event_type == EVENT_STATE_RESET and isinstance(payload, StateResetPayload):
        return replace(base, reset_reason=payload.reset_reason)
    if event.event_type == EVENT_STATE_GATE_HALTED and isinstance(payload, StateGateHaltedPayload):
        return replace(base, error_kind=payload.error_kind, error_detail=payload.error_detail)
    raise ValueError(f"cannot persist a {event.event_type!r} event with payload {type(payload).__name__}")


def fold_record(snapshot: StateGateSnapshot, record: StateGateStateRecord) -> StateGateSnapshot:
    """Apply one log record to a symbol's snapshot (the record's values overwrite the cache fields)."""
    previous = snapshot.last_engine_timestamp_ms
    # Never move the ordering high-water mark backwards (a halt for an undatable input reuses it).
    last_ts = record.engine_timestamp_ms if previous is None else max(previous, record.engine_timestamp_ms)
    halted = record.state_status == STATE_HALTED
    return replace(
        snapshot,
        last_run_id=record.run_id,
        last_engine_timestamp_ms=last_ts,
        state_status=record.state_status,
        gate_status=record.gate_status,
        reasons=record.reasons,
        engine_mode=record.engine_mode,
        source_event_type=record.source_event_type,
        halted=halted,
        halt_error_kind=record.error_kind if halted else None,
        halt_error_detail=record.error_detail if halted else None,
        halt_run_id=record.run_id if halted else None,
        pending=() if halted else snapshot.pending,
        last_record=record,
        record_count=snapshot.record_count + 1,
    )


def remember_key(keys: tuple[str, ...], key: str) -> tuple[str, ...]:
    """Append an idempotency key, keeping only the newest MAX_PROCESSED_KEYS."""
    if key in keys:
        return keys
    return (*keys, key)[-MAX_PROCESSED_KEYS:]


def _event(
    *,
    event_type: str,
    symbol: str,
    run_id: str,
    engine_timestamp_ms: int,
    state_status: str,
    gate_status: str,
    reasons: tuple[str, ...],
    payload: GateEvaluatedPayload | StateResetPayload | StateGateHaltedPayload | None,
    input_event_type: str | None,
    engine_mode: str | None,
) -> StateGateEvent:
    return StateGateEvent(
        schema=SCHEMA,
        schema_version=SCHEMA_VERSION,
        event_type=event_type,
        symbol=symbol,
        engine_timestamp_ms=engine_timestamp_ms,
        run_id=run_id,
        state_status=state_status,
        gate_status=gate_status,
        reasons=reasons,
        payload=payload,
        input_event_type=input_event_type,
        engine_mode=engine_mode,
    )


def _apply(
    snapshot: StateGateSnapshot,
    events: tuple[StateGateEvent, ...],
    key: str | None,
    previous_timestamp_ms: int | None,
) -> StepResult:
    records = tuple(record_for_event(event) for event in events)
    new = snapshot
    for record in records:
        new = fold_record(new, record)
    if key is not None:
        new = replace(new, processed_keys=remember_key(new.processed_keys, key))
    return StepResult(new, events, records, True, None, previous_timestamp_ms)


def halt_step(
    snapshot: StateGateSnapshot,
    *,
    error_kind: str,
    error_detail: str,
    run_id: str | None = None,
    engine_timestamp_ms: int | None = None,
    input_event_type: str | None = None,
    engine_mode: str | None = None,
    key: str | None = None,
) -> StepResult:
    """Halt the symbol: one StateGateHalted (HALTED/CLOSED, internal_failure); no-op if already halted."""
    if snapshot.halted:
        return StepResult(snapshot, ignored=IGNORED_HALTED)
    ts = engine_timestamp_ms
    if ts is None:
        ts = snapshot.last_engine_timestamp_ms if snapshot.last_engine_timestamp_ms is not None else 0
    event = _event(
        event_type=EVENT_STATE_GATE_HALTED,
        symbol=snapshot.symbol,
        run_id=run_id or UNKNOWN_RUN_ID,
        engine_timestamp_ms=ts,
        state_status=STATE_HALTED,
        gate_status=GATE_CLOSED,
        reasons=(REASON_INTERNAL_FAILURE,),
        payload=StateGateHaltedPayload(error_kind=error_kind, error_detail=error_detail),
        input_event_type=input_event_type,
        engine_mode=engine_mode,
    )
    return _apply(snapshot, (event,), key, snapshot.last_engine_timestamp_ms)


def resume_step(snapshot: StateGateSnapshot) -> StepResult:
    """Operator resume: clear the halt; the symbol restarts from BOOTSTRAP/CLOSED (no event)."""
    if not snapshot.halted:
        return StepResult(snapshot)
    resumed = replace(
        snapshot,
        halted=False,
        halt_error_kind=None,
        halt_error_detail=None,
        halt_run_id=None,
        state_status=STATE_BOOTSTRAP,
        gate_status=GATE_CLOSED,
        reasons=(),
        pending=(),
    )
    return StepResult(resumed, state_changed=True)


def _envelope_fields(event: OrchestratorEvent) -> tuple[str | None, int | None, str | None, str | None]:
    """Best-effort (run_id, ts, input_event_type, engine_mode) of an input, for its halt event."""
    run_id = event.run_id if isinstance(event.run_id, str) and event.run_id else None
    ts = event.engine_timestamp_ms
    good_ts = ts if isinstance(ts, int) and not isinstance(ts, bool) and ts >= 0 else None
    event_type = event.event_type if event.event_type in INPUT_EVENT_TYPES else None
    mode = event.engine_mode if event.engine_mode in ENGINE_MODES else None
    return run_id, good_ts, event_type, mode


def _halt_for_input(snapshot: StateGateSnapshot, event: OrchestratorEvent, problem: InputError) -> StepResult:
    run_id, ts, event_type, mode = _envelope_fields(event)
    key = input_idempotency_key(run_id, event_type) if run_id and event_type else None
    return halt_step(
        snapshot,
        error_kind=problem.error_kind,
        error_detail=problem.detail,
        run_id=run_id,
        engine_timestamp_ms=ts,
        input_event_type=event_type,
        engine_mode=mode,
        key=key,
    )


def _reset_reason(run: AssembledRun, last: int | None, config: StateGateConfig) -> str | None:
    if last is None:
        return None
    if run.engine_timestamp_ms - last > config.max_gap_ms:
        return RESET_TIMESTAMP_GAP
    state = run.hysteresis_state
    if state is not None and ENGINE_GAP_RESET_CODE in state.reason_codes:
        return RESET_ENGINE_GAP
    return None


def _decide(snapshot: StateGateSnapshot, run: AssembledRun, key: str, config: StateGateConfig) -> StepResult:
    last = snapshot.last_engine_timestamp_ms
    decision = evaluate_gate(run, config)
    events: list[StateGateEvent] = []
    reset_reason = _reset_reason(run, last, config)
    if reset_reason is not None:
        events.append(
            _event(
                event_type=EVENT_STATE_RESET,
                symbol=run.symbol,
                run_id=run.run_id,
                engine_timestamp_ms=run.engine_timestamp_ms,
                state_status=STATE_BOOTSTRAP,
                gate_status=GATE_CLOSED,
                reasons=(reset_reason,),
                payload=StateResetPayload(reset_reason=reset_reason),
                input_event_type=run.input_event_type,
                engine_mode=run.engine_mode,
            )
        )
    events.append(
        _event(
            event_type=EVENT_GATE_EVALUATED,
            symbol=run.symbol,
            run_id=run.run_id,
            engine_timestamp_ms=run.engine_timestamp_ms,
            state_status=decision.state_status,
            gate_status=decision.gate_status,
            reasons=decision.reasons,
            payload=decision.payload,
            input_event_type=run.input_event_type,
            engine_mode=run.engine_mode,
        )
    )
    limit_problem: tuple[str, str] | None = None
    if len(events) > config.publish_limits.max_pending:
        limit_problem = (ERROR_PUBLISH_BLOCKED, PUBLISH_BLOCKED_DETAIL)
    elif len(events) > config.persistence_limits.max_pending:
        limit_problem = (ERROR_PERSISTENCE_FAILURE, PERSISTENCE_BACKLOG_DETAIL)
    if limit_problem is not None:
        return halt_step(
            snapshot,
            error_kind=limit_problem[0],
            error_detail=limit_problem[1],
            run_id=run.run_id,
            engine_timestamp_ms=run.engine_timestamp_ms,
            input_event_type=run.input_event_type,
            engine_mode=run.engine_mode,
            key=key,
        )
    remaining = tuple(
        p
        for p in snapshot.pending
        if p.run_id != run.run_id and p.engine_timestamp_ms > run.engine_timestamp_ms
    )
    return _apply(replace(snapshot, pending=remaining), tuple(events), key, last)


def gate_step(snapshot: StateGateSnapshot, event: OrchestratorEvent, config: StateGateConfig) -> StepResult:
    """Process one orchestrator_event for `snapshot.symbol`; never raises on bad input (halts instead)."""
    if not is_gating_input(event):
        return StepResult(snapshot, ignored=IGNORED_NOT_GATING)
    if snapshot.halted:
        return StepResult(snapshot, ignored=IGNORED_HALTED)
    try:
        run_input = read_run_input(event)
        if run_input.symbol != snapshot.symbol:
            raise InputError(ERROR_INCONSISTENT_INPUT, "event symbol differs from its record key")
    except InputError as problem:
        return _halt_for_input(snapshot, event, problem)
    key = input_idempotency_key(run_input.run_id, run_input.event_type)
    if key in snapshot.processed_keys:
        return StepResult(snapshot, ignored=IGNORED_DUPLICATE)
    last = snapshot.last_engine_timestamp_ms
    if run_input.run_id == snapshot.last_run_id and run_input.engine_timestamp_ms != last:
        conflict = InputError(ERROR_INCONSISTENT_INPUT, "inconsistent engine_timestamp_ms for run_id")
        return _halt_for_input(snapshot, event, conflict)
    if last is not None and run_input.engine_timestamp_ms <= last:
        stale = replace(snapshot, processed_keys=remember_key(snapshot.processed_keys, key))
        return StepResult(stale, state_changed=True, ignored=IGNORED_STALE)
    pending = next((p for p in snapshot.pending if p.run_id == run_input.run_id), None)
    try:
        merged = merge_input(pending, run_input)
    except InputError as problem:
        return _halt_for_input(snapshot, event, problem)
    run = ready_run(merged, snapshot.symbol)
    if run is None:
        others = tuple(p for p in snapshot.pending if p.run_id != merged.run_id)
        waiting: tuple[PendingRun, ...] = (*others, merged)
        if len(waiting) > config.input_limits.max_pending:
            overflow = InputError(ERROR_INPUT_LIMIT_EXCEEDED, "too many half-assembled runs")
            return _halt_for_input(snapshot, event, overflow)
        updated = replace(
            snapshot, pending=waiting, processed_keys=remember_key(snapshot.processed_keys, key)
        )
        return StepResult(updated, state_changed=True, ignored=IGNORED_PENDING)
    return _decide(snapshot, run, key, config)
