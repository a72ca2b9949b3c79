"""StateGateProcessor: the in-memory gate (seed API). Pure steps + an append-only store + logs/metrics."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from consumers.state_gate.config import StateGateConfig, config_fingerprint, validate_config
from consumers.state_gate.contracts import (
    ERROR_INCONSISTENT_INPUT,
    ERROR_INPUT_LIMIT_EXCEEDED,
    ERROR_MALFORMED_INPUT,
    ERROR_PERSISTENCE_FAILURE,
    ERROR_PUBLISH_BLOCKED,
    StateGateEvent,
    StateGateStateRecord,
)
from consumers.state_gate.observability import GateMetrics, GateObserver, RecordingMetrics
from consumers.state_gate.store import StateGateStateStore
from consumers.state_gate.transitions import StepResult, gate_step, halt_step, resume_step
from xray_contracts.orchestrator_event import OrchestratorEvent

UNKNOWN_SYMBOL: Final = "unknown"
INPUT_ERROR_KINDS: Final = frozenset(
    {ERROR_MALFORMED_INPUT, ERROR_INCONSISTENT_INPUT, ERROR_INPUT_LIMIT_EXCEEDED}
)
MAX_DETAIL_CHARS: Final = 200


@dataclass(frozen=True, slots=True)
class HealthStatus:
    """Readiness of the gate: ready only when nothing is halted and every domain is healthy."""

    ready: bool
    halted: bool
    input_healthy: bool
    persistence_healthy: bool
    publish_healthy: bool


def brief_error(exc: BaseException) -> str:
    """A short, non-sensitive description of an exception."""
    text = str(exc) or type(exc).__name__
    return text[:MAX_DETAIL_CHARS]


class StateGateProcessor:
    """Consumes orchestrator events and returns state_gate events; every record is stored before return."""

    def __init__(
        self,
        config: StateGateConfig,
        store: StateGateStateStore | None = None,
        metrics: GateMetrics | None = None,
    ) -> None:
        """Validate the config (fail fast) and resume from `store` (a seeded store restores halts too)."""
        validate_config(config)
        self._config = config
        self._fingerprint = config_fingerprint(config)
        self._store = store if store is not None else StateGateStateStore()
        self.metrics: GateMetrics = metrics if metrics is not None else RecordingMetrics()
        self._observer = GateObserver(self.metrics)
        self._store_broken = False

    @property
    def store(self) -> StateGateStateStore:
        """The append-only log and snapshots this processor writes."""
        return self._store

    @property
    def config(self) -> StateGateConfig:
        """The validated configuration."""
        return self._config

    def consume(self, event: OrchestratorEvent) -> list[StateGateEvent]:
        """Process one orchestrator event; returns GateEvaluated / StateReset / StateGateHalted events."""
        if self._store_broken:
            return []
        raw_symbol = getattr(event, "symbol", None)
        symbol = raw_symbol if isinstance(raw_symbol, str) and raw_symbol else UNKNOWN_SYMBOL
        snapshot = self._store.snapshot(symbol)
        try:
            result = gate_step(snapshot, event, self._config)
        except Exception as exc:  # not an OrchestratorEvent at all, or a bug: fail closed, never raise
            result = halt_step(snapshot, error_kind=ERROR_MALFORMED_INPUT, error_detail=brief_error(exc))
        return self._commit(result)

    def resume(self, symbol: str) -> None:
        """Operator action: clear a halted symbol (and a broken-store halt); it gates again from BOOTSTRAP."""
        self._store_broken = False
        result = resume_step(self._store.snapshot(symbol))
        if result.state_changed:
            self._store.put_snapshot(result.snapshot)
            halted_left = sum(1 for s in self._store.snapshots.values() if s.halted)
            self._observer.resumed(symbol, halted_left)

    def health(self) -> HealthStatus:
        """Readiness derived from the per-symbol halts and the store's state."""
        kinds = {s.halt_error_kind for s in self._store.snapshots.values() if s.halted}
        halted = self._store_broken or bool(kinds)
        input_ok = not (kinds & INPUT_ERROR_KINDS)
        persistence_ok = not self._store_broken and ERROR_PERSISTENCE_FAILURE not in kinds
        publish_ok = ERROR_PUBLISH_BLOCKED not in kinds
        return HealthStatus(
            ready=not halted and input_ok and persistence_ok and publish_ok,
            halted=halted,
            input_healthy=input_ok,
            persistence_healthy=persistence_ok,
            publish_healthy=publish_ok,
        )

    def _append(self, record: StateGateStateRecord) -> None:
        attempts = self._config.persistence_limits.max_failures or 1
        for attempt in range(1, attempts + 1):
            try:
                self._store.append(record)
                return
            except Exception:
                if attempt == attempts:
                    raise

    def _commit(self, result: StepResult) -> list[StateGateEvent]:
        if not result.state_changed:
            self._observer.step(result)
            return []
        try:
            for record in result.records:
                self._append(record)
            self._store.put_snapshot(replace(result.snapshot, config_fingerprint=self._fingerprint))
        except Exception as exc:
            return self._persistence_failed(result, exc)
        self._observer.step(result)
        return list(result.events)

    def _persistence_failed(self, result: StepResult, exc: Exception) -> list[StateGateEvent]:
        """The store refused a write: emit one unpersisted StateGateHalted and stop every symbol."""
        self._store_broken = True
        first = result.events[0] if result.events else None
        halted = halt_step(
            replace(result.snapshot, halted=False),
            error_kind=ERROR_PERSISTENCE_FAILURE,
            error_detail=brief_error(exc),
            run_id=first.run_id if first else None,
            engine_timestamp_ms=first.engine_timestamp_ms if first else None,
            input_event_type=first.input_event_type if first else None,
            engine_mode=first.engine_mode if first else None,
        )
        self._observer.step(halted)
        return list(halted.events)
