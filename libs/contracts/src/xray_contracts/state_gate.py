"""state_gate contracts v1: StateGateEvent, StateGateStateRecord, the per-symbol snapshot and every code.

`StateGateEvent` is the value of the `state_gate_event` topic. `StateGateStateRecord` is one entry of the
append-only transition log (exactly one per emitted event). `StateGateSnapshot` is the value of the
compacted `state_gate.state` topic (key = symbol): the materialised state of one symbol plus everything a
restarted instance needs (halt, ordering high-water mark, recent idempotency keys, half-assembled runs)
and the symbol's latest log record. `StateGateControl` is an operator command (resume a halted symbol).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from xray_contracts.orchestrator_event import HysteresisState, RegimeOutput

__all__ = [
    "CONTROL_COMMANDS",
    "CONTROL_RESUME",
    "CONTROL_SCHEMA",
    "DENYLISTED_INVALIDATION_PREFIX",
    "ENGINE_GAP_RESET_CODE",
    "ENGINE_MODES",
    "ENGINE_MODE_HYSTERESIS",
    "ENGINE_MODE_TRUTH",
    "ERROR_INCONSISTENT_INPUT",
    "ERROR_INPUT_LIMIT_EXCEEDED",
    "ERROR_KINDS",
    "ERROR_MALFORMED_INPUT",
    "ERROR_PERSISTENCE_FAILURE",
    "ERROR_PUBLISH_BLOCKED",
    "EVENT_GATE_EVALUATED",
    "EVENT_STATE_GATE_HALTED",
    "EVENT_STATE_RESET",
    "EVENT_TYPES",
    "GATE_CLOSED",
    "GATE_OPEN",
    "GATE_STATUSES",
    "INPUT_ENGINE_RUN_COMPLETED",
    "INPUT_ENGINE_RUN_FAILED",
    "INPUT_EVENT_TYPES",
    "INPUT_HYSTERESIS_STATE_PUBLISHED",
    "INPUT_IDEMPOTENCY_FIELDS",
    "OUTPUT_IDEMPOTENCY_FIELDS",
    "REASON_CODES",
    "REASON_INTERNAL_FAILURE",
    "REASON_RESET_ENGINE_GAP",
    "REASON_RESET_TIMESTAMP_GAP",
    "REASON_RUN_FAILED",
    "REASON_TRANSITION_ACTIVE",
    "RESET_ENGINE_GAP",
    "RESET_REASONS",
    "RESET_TIMESTAMP_GAP",
    "SCHEMA",
    "SCHEMA_VERSION",
    "SNAPSHOT_SCHEMA",
    "STATE_BOOTSTRAP",
    "STATE_DEGRADED",
    "STATE_HALTED",
    "STATE_HOLD",
    "STATE_READY",
    "STATE_RECORD_SCHEMA",
    "STATE_STATUSES",
    "GateEvaluatedPayload",
    "PendingRun",
    "StateGateControl",
    "StateGateEvent",
    "StateGateHaltedPayload",
    "StateGatePayload",
    "StateGateSnapshot",
    "StateGateStateRecord",
    "StateResetPayload",
    "input_idempotency_key",
    "output_idempotency_key",
]

SCHEMA: Final = "state_gate_event"
SCHEMA_VERSION: Final = "1"
STATE_RECORD_SCHEMA: Final = "state_gate_state_record"
SNAPSHOT_SCHEMA: Final = "state_gate_snapshot"
CONTROL_SCHEMA: Final = "state_gate_control"

# Output event types, in declared order.
EVENT_GATE_EVALUATED: Final = "GateEvaluated"
EVENT_STATE_RESET: Final = "StateReset"
EVENT_STATE_GATE_HALTED: Final = "StateGateHalted"
EVENT_TYPES: Final[tuple[str, ...]] = (EVENT_GATE_EVALUATED, EVENT_STATE_RESET, EVENT_STATE_GATE_HALTED)

# Input (orchestrator_event) types that make a run ready, in declared order.
INPUT_ENGINE_RUN_COMPLETED: Final = "EngineRunCompleted"
INPUT_ENGINE_RUN_FAILED: Final = "EngineRunFailed"
INPUT_HYSTERESIS_STATE_PUBLISHED: Final = "HysteresisStatePublished"
INPUT_EVENT_TYPES: Final[tuple[str, ...]] = (
    INPUT_ENGINE_RUN_COMPLETED,
    INPUT_ENGINE_RUN_FAILED,
    INPUT_HYSTERESIS_STATE_PUBLISHED,
)

# state_status values.
STATE_BOOTSTRAP: Final = "BOOTSTRAP"
STATE_READY: Final = "READY"
STATE_HOLD: Final = "HOLD"
STATE_DEGRADED: Final = "DEGRADED"
STATE_HALTED: Final = "HALTED"
STATE_STATUSES: Final[tuple[str, ...]] = (
    STATE_BOOTSTRAP,
    STATE_READY,
    STATE_HOLD,
    STATE_DEGRADED,
    STATE_HALTED,
)

# gate_status values.
GATE_OPEN: Final = "OPEN"
GATE_CLOSED: Final = "CLOSED"
GATE_STATUSES: Final[tuple[str, ...]] = (GATE_OPEN, GATE_CLOSED)

# Reason codes, in declared order. DENYLISTED_INVALIDATION_PREFIX is a prefix: the emitted code is
# f"{prefix}{invalidation}".
REASON_RUN_FAILED: Final = "run_failed"
DENYLISTED_INVALIDATION_PREFIX: Final = "denylisted_invalidation:"
REASON_TRANSITION_ACTIVE: Final = "transition_active"
REASON_RESET_TIMESTAMP_GAP: Final = "reset_timestamp_gap"
REASON_RESET_ENGINE_GAP: Final = "reset_engine_gap"
REASON_INTERNAL_FAILURE: Final = "internal_failure"
REASON_CODES: Final[tuple[str, ...]] = (
    REASON_RUN_FAILED,
    DENYLISTED_INVALIDATION_PREFIX,
    REASON_TRANSITION_ACTIVE,
    REASON_RESET_TIMESTAMP_GAP,
    REASON_RESET_ENGINE_GAP,
    REASON_INTERNAL_FAILURE,
)

# Reset reasons (StateReset payload). reset_engine_gap: the engine's hysteresis state reports that it was
# reset because of a time gap (ENGINE_GAP_RESET_CODE among HysteresisState.reason_codes).
RESET_TIMESTAMP_GAP: Final = REASON_RESET_TIMESTAMP_GAP
RESET_ENGINE_GAP: Final = REASON_RESET_ENGINE_GAP
RESET_REASONS: Final[tuple[str, ...]] = (RESET_TIMESTAMP_GAP, RESET_ENGINE_GAP)
ENGINE_GAP_RESET_CODE: Final = "RESET_TIME_GAP"

# error_kind values of StateGateHalted.
ERROR_PUBLISH_BLOCKED: Final = "publish_blocked"
ERROR_PERSISTENCE_FAILURE: Final = "persistence_failure"
ERROR_MALFORMED_INPUT: Final = "malformed_input"
ERROR_INCONSISTENT_INPUT: Final = "inconsistent_input"
ERROR_INPUT_LIMIT_EXCEEDED: Final = "input_limit_exceeded"
ERROR_KINDS: Final[tuple[str, ...]] = (
    ERROR_PUBLISH_BLOCKED,
    ERROR_PERSISTENCE_FAILURE,
    ERROR_MALFORMED_INPUT,
    ERROR_INCONSISTENT_INPUT,
    ERROR_INPUT_LIMIT_EXCEEDED,
)

# engine_mode values.
ENGINE_MODE_TRUTH: Final = "truth"
ENGINE_MODE_HYSTERESIS: Final = "hysteresis"
ENGINE_MODES: Final[tuple[str, ...]] = (ENGINE_MODE_TRUTH, ENGINE_MODE_HYSTERESIS)

# Control commands.
CONTROL_RESUME: Final = "resume"
CONTROL_COMMANDS: Final[tuple[str, ...]] = (CONTROL_RESUME,)

# Idempotency keys (frozen formats).
INPUT_IDEMPOTENCY_FIELDS: Final[tuple[str, str]] = ("run_id", "input_event_type")
OUTPUT_IDEMPOTENCY_FIELDS: Final[tuple[str, str]] = ("run_id", "event_type")


def input_idempotency_key(run_id: str, input_event_type: str) -> str:
    """The input key `"{run_id}:{input_event_type}"`."""
    return f"{run_id}:{input_event_type}"


def output_idempotency_key(run_id: str, event_type: str) -> str:
    """The output key `"{run_id}:{event_type}"` downstream dedupes on."""
    return f"{run_id}:{event_type}"


@dataclass(frozen=True, slots=True)
class GateEvaluatedPayload:
    """The authoritative engine payload of a gated run (either part may be null)."""

    regime_output: RegimeOutput | None = None
    hysteresis_state: HysteresisState | None = None


@dataclass(frozen=True, slots=True)
class StateResetPayload:
    """Why the symbol's state went back to BOOTSTRAP."""

    reset_reason: str


@dataclass(frozen=True, slots=True)
class StateGateHaltedPayload:
    """Why the gate halted (brief, non-sensitive)."""

    error_kind: str
    error_detail: str


StateGatePayload = GateEvaluatedPayload | StateResetPayload | StateGateHaltedPayload


@dataclass(frozen=True, slots=True)
class StateGateEvent:
    """One state_gate_event v1: GateEvaluated, StateReset or StateGateHalted."""

    schema: str
    schema_version: str
    event_type: str
    symbol: str
    engine_timestamp_ms: int
    run_id: str
    state_status: str
    gate_status: str
    reasons: tuple[str, ...]
    payload: StateGatePayload | None = None
    input_event_type: str | None = None
    engine_mode: str | None = None

    @property
    def idempotency_key(self) -> str:
        """`"{run_id}:{event_type}"`."""
        return output_idempotency_key(self.run_id, self.event_type)


@dataclass(frozen=True, slots=True)
class StateGateStateRecord:
    """One entry of the append-only transition log (one per emitted event)."""

    symbol: str
    engine_timestamp_ms: int
    run_id: str
    state_status: str
    gate_status: str
    reasons: tuple[str, ...]
    engine_mode: str | None
    source_event_type: str | None
    regime_output: RegimeOutput | None = None
    hysteresis_state: HysteresisState | None = None
    reset_reason: str | None = None
    error_kind: str | None = None
    error_detail: str | None = None
    # Additive: the output event type this record mirrors (None for records written before it existed).
    event_type: str | None = None


@dataclass(frozen=True, slots=True)
class PendingRun:
    """A half-assembled run (e.g. hysteresis-mode EngineRunCompleted still waiting for its state)."""

    run_id: str
    engine_timestamp_ms: int
    engine_mode: str | None
    regime_output: RegimeOutput | None = None
    hysteresis_state: HysteresisState | None = None
    failed: bool = False
    seen_input_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StateGateSnapshot:
    """Per-symbol state: the value of the compacted `state_gate.state` topic (key = symbol).

    The first eight fields are the fact sheet's snapshot cache; the rest is what a restart needs.
    `last_engine_timestamp_ms` is the ordering high-water mark: the newest decided (or dropped) run.
    """

    symbol: str
    last_run_id: str | None = None
    last_engine_timestamp_ms: int | None = None
    state_status: str = STATE_BOOTSTRAP
    gate_status: str = GATE_CLOSED
    reasons: tuple[str, ...] = ()
    engine_mode: str | None = None
    source_event_type: str | None = None
    halted: bool = False
    halt_error_kind: str | None = None
    halt_error_detail: str | None = None
    halt_run_id: str | None = None
    # The most recent input idempotency keys "{run_id}:{input_event_type}", oldest first, bounded.
    processed_keys: tuple[str, ...] = ()
    pending: tuple[PendingRun, ...] = ()
    last_record: StateGateStateRecord | None = None
    # Number of log records written for this symbol so far (the log position of `last_record`).
    record_count: int = 0
    config_fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class StateGateControl:
    """An operator command for one symbol (v1: `resume` clears a halt)."""

    schema: str
    schema_version: str
    command: str
    symbol: str
    operator: str | None = None
    note: str | None = None
