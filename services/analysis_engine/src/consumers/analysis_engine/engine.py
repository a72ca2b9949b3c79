"""AnalysisEngine: state_gate_event in, analysis_engine_event out; pure decisions, state changes as data.

`process(event, view)` decides everything for one input and returns a `RunOutcome` (events, new module
state records, module states to clear, the new per-symbol ledger) without changing anything. `apply`
commits an outcome to the engine's in-memory state and counts/logs it. `consume` = process + apply (the
seed API). The Kafka service calls `process` with a view over its restored partition stores, writes the
outcome in one transaction and calls `observe` once the transaction committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Protocol

import orjson
from consumers.analysis_engine.config import AnalysisEngineConfig, ValidatedConfig, validate_config
from consumers.analysis_engine.contracts import (
    STAGE_ARTIFACT_KIND,
    AnalysisEngineEvent,
    AnalysisEnginePayload,
    AnalysisModuleStateRecord,
    AnalysisRunLedger,
    ArtifactEmittedPayload,
    EventType,
    ModuleDefinition,
    ModuleErrorKind,
    ModuleFailedPayload,
    RunContext,
    RunStatus,
    RunStatusPayload,
    SkipReason,
    canonical_json,
)
from consumers.analysis_engine.observability import (
    LOG_EVENT,
    METRIC_IDEMPOTENCY_SKIPS,
    EngineMetrics,
    HealthStatus,
    default_logger,
    event_log_fields,
    record_event_metrics,
)
from consumers.analysis_engine.registry import ModuleRegistry
from xray_contracts.state_gate import (
    EVENT_GATE_EVALUATED,
    EVENT_STATE_GATE_HALTED,
    EVENT_STATE_RESET,
    GATE_OPEN,
    GateEvaluatedPayload,
    StateGateEvent,
)
from xray_runtime.logs import EventLogger

# The ledger keeps this many newest run_ids. Older duplicates are caught by the timestamp guard (an input
# older than the newest processed run is stale), so the window only has to cover equal-timestamp runs and
# redeliveries close behind; 64 keeps the per-run ledger record small (~2 KB).
DEFAULT_RECENT_RUN_LIMIT = 64
MAX_ERROR_DETAIL = 300
MISSING_DEPENDENCY_DETAIL = "dependency not available"


# Called after each stage of a run with (stage, seconds) when set: latency measurement only.
StageTimer = Callable[[str, float], None]


class StateView(Protocol):
    """Read access to the durable state the engine decides on."""

    def ledger(self, symbol: str) -> AnalysisRunLedger | None:
        """The symbol's run ledger, or None if it never ran."""
        ...

    def module_state(self, symbol: str, module_id: str) -> AnalysisModuleStateRecord | None:
        """The latest state record of (symbol, module), or None."""
        ...


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """Everything one input changes: events to emit and the state writes that go with them."""

    symbol: str
    run_id: str
    events: tuple[AnalysisEngineEvent, ...] = ()
    state_records: tuple[AnalysisModuleStateRecord, ...] = ()
    # module_ids whose state for this symbol is deleted (tombstones) — StateReset.
    cleared_modules: tuple[str, ...] = ()
    # The symbol's new ledger (the durable "run done" mark), or None when unchanged.
    ledger: AnalysisRunLedger | None = None
    # Why nothing ran (metric tag), if the input was skipped as duplicate/stale.
    skip_reason: str | None = None


@dataclass(slots=True)
class _RunScratch:
    """The working set of one run: its input, context, state view, artifact store and what it produced."""

    event: StateGateEvent
    context: RunContext
    state: StateView
    store: dict[str, ArtifactEmittedPayload] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    events: list[AnalysisEngineEvent] = field(default_factory=list)
    records: list[AnalysisModuleStateRecord] = field(default_factory=list)


class InMemoryState:
    """The engine's own state: latest ledger per symbol and latest state record per (symbol, module)."""

    def __init__(
        self, ledgers: Iterable[AnalysisRunLedger] = (), records: Iterable[AnalysisModuleStateRecord] = ()
    ) -> None:
        """Seed from existing ledgers and state records (later records win)."""
        self.ledgers: dict[str, AnalysisRunLedger] = {x.symbol: x for x in ledgers}
        self.records: dict[tuple[str, str], AnalysisModuleStateRecord] = {r.key: r for r in records}

    def ledger(self, symbol: str) -> AnalysisRunLedger | None:
        """The symbol's ledger, or None."""
        return self.ledgers.get(symbol)

    def module_state(self, symbol: str, module_id: str) -> AnalysisModuleStateRecord | None:
        """The latest state record of (symbol, module), or None."""
        return self.records.get((symbol, module_id))

    def apply(self, outcome: RunOutcome) -> None:
        """Commit an outcome's state writes."""
        for module_id in outcome.cleared_modules:
            self.records.pop((outcome.symbol, module_id), None)
        for record in outcome.state_records:
            self.records[record.key] = record
        if outcome.ledger is not None:
            self.ledgers[outcome.symbol] = outcome.ledger


def _error_detail(exc: Exception) -> str:
    """Brief exception text: the message (or the type name when empty), bounded in length."""
    text = str(exc) or type(exc).__name__
    return text if len(text) <= MAX_ERROR_DETAIL else text[: MAX_ERROR_DETAIL - 3] + "..."


def _check_artifacts(
    definition: ModuleDefinition, artifacts: Iterable[object]
) -> list[ArtifactEmittedPayload]:
    """Validate a module's returned artifacts (kind, identity, declared name, no duplicates); sort by name."""
    allowed = str(STAGE_ARTIFACT_KIND[definition.module_kind])
    declared = {a.artifact_name: a for a in definition.artifact_schemas}
    module_id = definition.module_id
    seen: set[str] = set()
    out: list[ArtifactEmittedPayload] = []
    for artifact in artifacts:
        if not isinstance(artifact, ArtifactEmittedPayload):
            raise TypeError(f"invalid artifact type for {module_id}: {type(artifact).__name__}")
        if artifact.artifact_kind != allowed:
            raise ValueError(
                f"invalid artifact kind for {module_id}: {artifact.artifact_kind} (expected ({allowed!r},))"
            )
        if artifact.module_id != module_id:
            raise ValueError(f"artifact module_id mismatch for {module_id}: {artifact.module_id}")
        schema = declared.get(artifact.artifact_name)
        if schema is None:
            raise ValueError(f"undeclared artifact for {module_id}: {artifact.artifact_name}")
        if (artifact.artifact_schema, artifact.artifact_schema_version) != (
            schema.artifact_schema,
            schema.artifact_schema_version,
        ):
            raise ValueError(f"artifact schema mismatch for {module_id}: {artifact.artifact_name}")
        if artifact.artifact_name in seen:
            raise ValueError(f"duplicate artifact for {module_id}: {artifact.artifact_name}")
        seen.add(artifact.artifact_name)
        # `AnalysisModule.artifact` writes canonical text; a hand-built payload_json must at least be JSON.
        orjson.loads(artifact.payload_json)
        out.append(artifact)
    out.sort(key=lambda a: a.artifact_name)
    return out


class AnalysisEngine:
    """Runs the enabled modules over OPEN gate events; idempotent by run_id; halts per symbol."""

    def __init__(
        self,
        registry: ModuleRegistry,
        config: AnalysisEngineConfig,
        *,
        ledgers: Iterable[AnalysisRunLedger] = (),
        module_state: Iterable[AnalysisModuleStateRecord] = (),
        recent_run_limit: int = DEFAULT_RECENT_RUN_LIMIT,
        metrics: EngineMetrics | None = None,
        logger: EventLogger | None = None,
        stage_timer: StageTimer | None = None,
    ) -> None:
        """Validate config against the registry and build every plan (errors are fatal here)."""
        if recent_run_limit < 1:
            raise ValueError("recent_run_limit must be >= 1")
        self.registry = registry
        self.config = config
        self.validated: ValidatedConfig = validate_config(config, registry)
        self.state = InMemoryState(ledgers, module_state)
        self.metrics = metrics if metrics is not None else EngineMetrics()
        self._log = logger if logger is not None else default_logger()
        self._stage_timer = stage_timer
        self._recent_run_limit = recent_run_limit
        self._definitions = {d.module_id: d for d in registry.definitions()}
        self._stateful = tuple(d.module_id for d in registry.definitions() if d.is_stateful)

    # ----------------------------------------------------------------- public API

    def consume(self, event: StateGateEvent) -> list[AnalysisEngineEvent]:
        """Process one state_gate_event against the in-memory state, apply it and return the events."""
        outcome = self.process(event)
        self.apply(outcome)
        return list(outcome.events)

    def apply(self, outcome: RunOutcome) -> None:
        """Commit an outcome to the in-memory state, then count and log it."""
        self.state.apply(outcome)
        self.observe(outcome)

    def observe(self, outcome: RunOutcome) -> None:
        """Count and log an outcome that has been committed."""
        if outcome.skip_reason is not None:
            self.metrics.inc(METRIC_IDEMPOTENCY_SKIPS, reason=outcome.skip_reason)
        for event in outcome.events:
            record_event_metrics(self.metrics, event)
            self._log.info(LOG_EVENT, **event_log_fields(event, self._definitions))

    def health(self, view: StateView | None = None, symbols: Iterable[str] | None = None) -> HealthStatus:
        """Readiness: registry loaded (always, once constructed) and no known symbol halted."""
        halted = self.halted_symbols(view, symbols)
        return HealthStatus(
            ready=not halted,
            halted=bool(halted),
            registry_loaded=True,
            idempotency_available=True,
            halted_symbols=halted,
        )

    def halted_symbols(
        self, view: StateView | None = None, symbols: Iterable[str] | None = None
    ) -> tuple[str, ...]:
        """Symbols currently halted (from the in-memory ledgers unless a view and symbols are given)."""
        if view is None or symbols is None:
            return tuple(sorted(s for s, x in self.state.ledgers.items() if x.halted))
        return tuple(sorted(s for s in symbols if (x := view.ledger(s)) is not None and x.halted))

    # ----------------------------------------------------------------- decisions

    def process(self, event: StateGateEvent, view: StateView | None = None) -> RunOutcome:
        """Decide what one input does; changes nothing (see `apply`)."""
        state: StateView = view if view is not None else self.state
        symbol = event.symbol
        ledger = state.ledger(symbol) or AnalysisRunLedger(symbol=symbol)
        empty = RunOutcome(symbol=symbol, run_id=event.run_id)
        known = event.run_id in ledger.recent_run_ids
        stale = (
            ledger.last_engine_timestamp_ms is not None
            and event.engine_timestamp_ms < ledger.last_engine_timestamp_ms
        )
        resumed = False
        if ledger.halted:
            # Deviation: state_gate only emits again after an operator resumed it, so a newer gate input
            # (GateEvaluated/StateReset after the halt's timestamp) lifts the mirror halt.
            after_halt = (
                ledger.halted_at_engine_timestamp_ms is not None
                and event.engine_timestamp_ms > ledger.halted_at_engine_timestamp_ms
            )
            if event.event_type not in (EVENT_GATE_EVALUATED, EVENT_STATE_RESET) or not after_halt or known:
                return empty
            ledger = replace(ledger, halted=False, halted_by_run_id=None, halted_at_engine_timestamp_ms=None)
            resumed = True
        if event.event_type == EVENT_STATE_GATE_HALTED:
            failed = self._event(
                event, EventType.ANALYSIS_RUN_FAILED, RunStatusPayload(status=str(RunStatus.FAILED))
            )
            halted = replace(
                ledger,
                halted=True,
                halted_by_run_id=event.run_id,
                halted_at_engine_timestamp_ms=event.engine_timestamp_ms,
            )
            return replace(empty, events=(failed,), ledger=halted)
        if event.event_type == EVENT_STATE_RESET:
            # Deviation (G4): a reset clears every stateful module's state for the symbol; a redelivered or
            # stale reset (its run already processed, or older than the newest run) is ignored.
            if known or stale:
                return replace(empty, ledger=ledger if resumed else None)
            return replace(empty, cleared_modules=self._stateful, ledger=ledger if resumed else None)
        if event.event_type != EVENT_GATE_EVALUATED:
            return empty
        if known:
            return replace(empty, skip_reason=str(SkipReason.DUPLICATE_RUN_ID))
        if stale:
            return replace(empty, skip_reason=str(SkipReason.STALE_RUN))
        recent = (*ledger.recent_run_ids, event.run_id)[-self._recent_run_limit :]
        last_ts = max(event.engine_timestamp_ms, ledger.last_engine_timestamp_ms or event.engine_timestamp_ms)
        done = replace(
            ledger, last_run_id=event.run_id, last_engine_timestamp_ms=last_ts, recent_run_ids=recent
        )
        if event.gate_status != GATE_OPEN:
            skipped = self._event(event, EventType.ANALYSIS_RUN_SKIPPED, None)
            return replace(empty, events=(skipped,), ledger=done)
        events, records = self._run(event, state)
        return replace(empty, events=events, state_records=records, ledger=done)

    # ----------------------------------------------------------------- run execution

    def _event(
        self, source: StateGateEvent, event_type: str, payload: AnalysisEnginePayload | None
    ) -> AnalysisEngineEvent:
        """An output event carrying the input's identity, engine_mode and gate reasons."""
        return AnalysisEngineEvent(
            event_type=str(event_type),
            symbol=source.symbol,
            run_id=source.run_id,
            engine_timestamp_ms=source.engine_timestamp_ms,
            payload=payload,
            engine_mode=source.engine_mode,
            source_gate_reasons=tuple(source.reasons),
        )

    def run_context(self, event: StateGateEvent) -> RunContext:
        """The immutable run context modules see."""
        payload = event.payload if isinstance(event.payload, GateEvaluatedPayload) else None
        return RunContext(
            symbol=event.symbol,
            run_id=event.run_id,
            engine_timestamp_ms=event.engine_timestamp_ms,
            engine_mode=event.engine_mode,
            gate_status=event.gate_status,
            gate_reasons=tuple(event.reasons),
            regime_output=payload.regime_output if payload else None,
            hysteresis_state=payload.hysteresis_state if payload else None,
        )

    def _run(
        self, event: StateGateEvent, state: StateView
    ) -> tuple[tuple[AnalysisEngineEvent, ...], tuple[AnalysisModuleStateRecord, ...]]:
        """Execute the symbol's plan: stages in order, failures isolated, artifacts sorted per module."""
        plan = self.validated.plan_for(event.symbol)
        run = _RunScratch(event=event, context=self.run_context(event), state=state)
        run.events.append(self._event(event, EventType.ANALYSIS_RUN_STARTED, None))
        for stage, steps in plan.stages:
            started = time.perf_counter() if self._stage_timer is not None else 0.0
            for step in steps:
                self._step(run, step.module_id)
            if self._stage_timer is not None:
                # Measurement only: the duration never reaches a module or an event.
                self._stage_timer(stage, time.perf_counter() - started)
        status = RunStatus.PARTIAL if run.failures else RunStatus.SUCCESS
        run.events.append(
            self._event(
                event,
                EventType.ANALYSIS_RUN_COMPLETED,
                RunStatusPayload(status=str(status), module_failures=tuple(sorted(run.failures))),
            )
        )
        return tuple(run.events), tuple(run.records)

    def _step(self, run: _RunScratch, module_id: str) -> None:
        """Execute one module of the plan: failure isolated, artifacts stored and emitted, state recorded."""
        module = self.registry.get(module_id)
        definition = module.definition
        if any(dep.key not in run.store for dep in definition.dependencies):
            run.failures.append(module_id)
            run.events.append(
                self._failed(
                    run.event, definition, ModuleErrorKind.MISSING_DEPENDENCY, MISSING_DEPENDENCY_DETAIL
                )
            )
            return
        dependencies = MappingProxyType({dep.key: run.store[dep.key] for dep in definition.dependencies})
        previous = run.state.module_state(run.event.symbol, module_id)
        try:
            result = module.execute(
                run.context,
                dependencies,
                previous.state_payload if previous is not None else None,
                MappingProxyType(dict(self.validated.module_settings.get(module_id, {}))),
            )
            artifacts = _check_artifacts(definition, result.artifacts)
            state_json = (
                canonical_json(result.state_payload)
                if definition.is_stateful and result.state_payload is not None
                else None
            )
        except Exception as exc:  # a module may fail in any way; the run goes on without it
            run.failures.append(module_id)
            run.events.append(
                self._failed(run.event, definition, ModuleErrorKind.EXCEPTION, _error_detail(exc))
            )
            return
        for artifact in artifacts:
            run.store[f"{artifact.module_id}:{artifact.artifact_name}"] = artifact
            run.events.append(self._event(run.event, EventType.ARTIFACT_EMITTED, artifact))
        if state_json is not None:
            run.records.append(
                AnalysisModuleStateRecord(
                    symbol=run.event.symbol,
                    module_id=module_id,
                    run_id=run.event.run_id,
                    engine_timestamp_ms=run.event.engine_timestamp_ms,
                    state_schema_id=definition.state_schema_id or "",
                    state_schema_version=definition.state_schema_version or "",
                    state_payload_json=state_json,
                )
            )

    def _failed(
        self, event: StateGateEvent, definition: ModuleDefinition, error_kind: str, detail: str
    ) -> AnalysisEngineEvent:
        """A ModuleFailed event for one module."""
        payload = ModuleFailedPayload(
            module_id=definition.module_id,
            module_kind=str(definition.module_kind),
            error_kind=str(error_kind),
            error_detail=detail,
        )
        return self._event(event, EventType.MODULE_FAILED, payload)

    def module_settings(self, module_id: str) -> Mapping[str, object]:
        """The validated config blob a module receives."""
        return MappingProxyType(dict(self.validated.module_settings.get(module_id, {})))
