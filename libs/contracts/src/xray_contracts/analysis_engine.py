"""analysis_engine contracts v1: AnalysisEngineEvent, its payloads, AnalysisModuleStateRecord and the ledger.

`AnalysisEngineEvent` is the value of the `analysis_engine_event` topic. One run of the engine emits, in
order: `AnalysisRunStarted`, then per stage/module either its `ArtifactEmitted` events (sorted by
artifact name) or one `ModuleFailed`, then `AnalysisRunCompleted`. A CLOSED gate gives exactly one
`AnalysisRunSkipped`; an upstream halt gives exactly one `AnalysisRunFailed`.

Module-owned data (artifact payloads, module state) travels as **canonical JSON text**: UTF-8, keys
sorted, compact separators (`,` and `:`), no NaN/Infinity, non-ASCII kept as is. The engine never looks
inside; it only guarantees the text is canonical, so equal payloads are equal bytes and replays are
byte-identical. `ArtifactEmittedPayload.payload` / `AnalysisModuleStateRecord.state_payload` decode it.
On Avro the `*_json` fields are plain `string`s.

`AnalysisModuleStateRecord` is the value of the compacted `analysis_engine.module_state` topic (key =
JSON array `[symbol, module_id]`); a tombstone (null value) clears a module's state (StateReset).
`AnalysisRunLedger` is the per-symbol idempotency/halt record (compacted, key = symbol).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, TypeAlias

import orjson

SCHEMA: Final = "analysis_engine_event"
SCHEMA_VERSION: Final = "1"
STATE_RECORD_SCHEMA: Final = "analysis_module_state_record"
STATE_RECORD_SCHEMA_VERSION: Final = "1"
LEDGER_SCHEMA: Final = "analysis_run_ledger"
LEDGER_SCHEMA_VERSION: Final = "1"

# A JSON value as produced by json.loads (the decoded form of a module-owned payload).
JsonValue: TypeAlias = Any


class EventType(StrEnum):
    """analysis_engine_event types, in declared order."""

    ANALYSIS_RUN_STARTED = "AnalysisRunStarted"
    ANALYSIS_RUN_SKIPPED = "AnalysisRunSkipped"
    ARTIFACT_EMITTED = "ArtifactEmitted"
    MODULE_FAILED = "ModuleFailed"
    ANALYSIS_RUN_COMPLETED = "AnalysisRunCompleted"
    ANALYSIS_RUN_FAILED = "AnalysisRunFailed"


class ArtifactKind(StrEnum):
    """What an artifact is; each stage may only emit its own kind."""

    SIGNAL = "signal"
    DETECTION = "detection"
    EVALUATION = "evaluation"
    OUTPUT = "output"


class ModuleKind(StrEnum):
    """A module's kind, which is also its stage; stages run in this order."""

    SIGNAL = "signal"
    DETECTOR = "detector"
    RULE = "rule"
    OUTPUT = "output"


class RunStatus(StrEnum):
    """Outcome of a run: FAILED only on AnalysisRunFailed."""

    SUCCESS = "SUCCESS"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"


class ModuleErrorKind(StrEnum):
    """Why a module produced no artifacts in a run."""

    MISSING_DEPENDENCY = "missing_dependency"
    EXCEPTION = "exception"


class SkipReason(StrEnum):
    """Tag values of the `analysis_engine.idempotency_skips` metric."""

    DUPLICATE_RUN_ID = "duplicate_run_id"
    GATE_CLOSED = "gate_closed"
    # Additive: a GateEvaluated older than the newest processed run of its symbol.
    STALE_RUN = "stale_run"


EVENT_TYPES: Final[tuple[str, ...]] = tuple(e.value for e in EventType)
ARTIFACT_KINDS: Final[tuple[str, ...]] = tuple(k.value for k in ArtifactKind)
MODULE_KINDS: Final[tuple[str, ...]] = tuple(k.value for k in ModuleKind)
RUN_STATUSES: Final[tuple[str, ...]] = tuple(s.value for s in RunStatus)
MODULE_ERROR_KINDS: Final[tuple[str, ...]] = tuple(k.value for k in ModuleErrorKind)
SKIP_REASONS: Final[tuple[str, ...]] = tuple(r.value for r in SkipReason)

# Stage -> the only artifact kind modules of that stage may emit.
STAGE_ARTIFACT_KIND: Final[dict[str, str]] = {
    ModuleKind.SIGNAL: ArtifactKind.SIGNAL,
    ModuleKind.DETECTOR: ArtifactKind.DETECTION,
    ModuleKind.RULE: ArtifactKind.EVALUATION,
    ModuleKind.OUTPUT: ArtifactKind.OUTPUT,
}


def canonical_json(value: JsonValue) -> str:
    """Canonical JSON text of a JSON-serialisable value (sorted keys, compact, finite numbers only)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def idempotency_key(run_id: str) -> str:
    """The run's idempotency key: the run_id itself (frozen format)."""
    return run_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactEmittedPayload:
    """One module artifact: stable identity plus module-owned canonical JSON payload."""

    artifact_kind: str
    module_id: str
    artifact_name: str
    artifact_schema: str
    artifact_schema_version: str
    payload_json: str = "null"

    @property
    def payload(self) -> JsonValue:
        """The decoded module-owned payload (a fresh copy on every access)."""
        return orjson.loads(self.payload_json)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModuleFailedPayload:
    """Which module failed and why (error_detail is brief and bounded)."""

    module_id: str
    module_kind: str
    error_kind: str
    error_detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStatusPayload:
    """Final status of a run; module_failures sorted lexicographically."""

    status: str
    module_failures: tuple[str, ...] = ()


AnalysisEnginePayload: TypeAlias = ArtifactEmittedPayload | ModuleFailedPayload | RunStatusPayload

# event_type -> the payload class it must carry (None: payload must be null).
PAYLOAD_TYPES: Final[dict[str, type[AnalysisEnginePayload] | None]] = {
    EventType.ANALYSIS_RUN_STARTED: None,
    EventType.ANALYSIS_RUN_SKIPPED: None,
    EventType.ARTIFACT_EMITTED: ArtifactEmittedPayload,
    EventType.MODULE_FAILED: ModuleFailedPayload,
    EventType.ANALYSIS_RUN_COMPLETED: RunStatusPayload,
    EventType.ANALYSIS_RUN_FAILED: RunStatusPayload,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisEngineEvent:
    """One analysis_engine_event v1 (lifecycle or module outcome), keyed by symbol on the wire."""

    schema: str = SCHEMA
    schema_version: str = SCHEMA_VERSION
    event_type: str
    symbol: str
    run_id: str
    engine_timestamp_ms: int
    payload: AnalysisEnginePayload | None = None
    engine_mode: str | None = None
    source_gate_reasons: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        """Reject unknown event types and payloads that do not match the event type."""
        if self.event_type not in PAYLOAD_TYPES:
            raise ValueError(f"unknown analysis_engine event_type: {self.event_type}")
        expected = PAYLOAD_TYPES[self.event_type]
        if expected is None:
            if self.payload is not None:
                raise ValueError(f"{self.event_type} carries no payload")
        elif not isinstance(self.payload, expected):
            raise ValueError(f"{self.event_type} needs a {expected.__name__} payload")

    @property
    def idempotency_key(self) -> str:
        """The run's idempotency key (the run_id)."""
        return idempotency_key(self.run_id)

    @property
    def event_key(self) -> str:
        """Per-event dedupe key: run_id:event_type[:module_id[:artifact_name]]."""
        base = f"{self.run_id}:{self.event_type}"
        if isinstance(self.payload, ArtifactEmittedPayload):
            return f"{base}:{self.payload.module_id}:{self.payload.artifact_name}"
        if isinstance(self.payload, ModuleFailedPayload):
            return f"{base}:{self.payload.module_id}"
        return base


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisModuleStateRecord:
    """Latest state of one (symbol, module) after a successful run; module-owned canonical JSON."""

    symbol: str
    module_id: str
    run_id: str
    engine_timestamp_ms: int
    state_schema_id: str
    state_schema_version: str
    state_payload_json: str = "null"

    @property
    def state_payload(self) -> JsonValue:
        """The decoded module-owned state (a fresh copy on every access)."""
        return orjson.loads(self.state_payload_json)

    @property
    def key(self) -> tuple[str, str]:
        """(symbol, module_id): the compacted topic key is its JSON array form."""
        return (self.symbol, self.module_id)


def module_state_key(symbol: str, module_id: str) -> str:
    """Kafka key of a module-state record: canonical JSON array `["<symbol>","<module_id>"]`."""
    return canonical_json([symbol, module_id])


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisRunLedger:
    """Per-symbol run bookkeeping (compacted, key = symbol): the durable "run done" mark.

    `recent_run_ids` holds the newest processed run_ids, oldest first, bounded; together with
    `last_engine_timestamp_ms` (older runs are stale) it makes idempotency by run_id survive restarts.
    """

    symbol: str
    last_run_id: str | None = None
    last_engine_timestamp_ms: int | None = None
    recent_run_ids: tuple[str, ...] = ()
    halted: bool = False
    halted_by_run_id: str | None = None
    # engine_timestamp_ms of the StateGateHalted that halted the symbol; a later gate input clears the halt.
    halted_at_engine_timestamp_ms: int | None = None
