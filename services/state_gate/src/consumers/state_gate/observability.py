"""Decision logs and metrics of the gate (fact-sheet names), shared by the processor and the service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Protocol

from consumers.state_gate.contracts import (
    EVENT_GATE_EVALUATED,
    EVENT_STATE_GATE_HALTED,
    EVENT_STATE_RESET,
    StateGateEvent,
    StateGateHaltedPayload,
    StateResetPayload,
)
from consumers.state_gate.transitions import StepResult
from xray_runtime.logs import EventLogger, get_logger

GATE_DECISIONS: Final = "state_gate.gate_decisions"
TRANSITIONS: Final = "state_gate.transitions"
RESETS: Final = "state_gate.resets"
PROCESSING_LAG_MS: Final = "state_gate.processing_lag_ms"
FAILURES: Final = "state_gate.failures"
HALTED: Final = "state_gate.halted"
IGNORED: Final = "state_gate.ignored_inputs"

GAUGE: Final = "gauge"
COUNTER: Final = "counter"
OBSERVATION: Final = "observe"


class GateMetrics(Protocol):
    """Where the gate's metrics go (an in-memory recorder in tests, Prometheus in the service)."""

    def increment(self, name: str, tags: dict[str, str]) -> None:
        """Add 1 to a counter."""

    def observe(self, name: str, value: float, tags: dict[str, str]) -> None:
        """Record one histogram observation."""

    def set_gauge(self, name: str, value: float, tags: dict[str, str]) -> None:
        """Set a gauge."""


@dataclass(frozen=True, slots=True)
class MetricSample:
    """One recorded metric call."""

    kind: str
    name: str
    value: float
    tags: dict[str, str]


@dataclass(slots=True)
class RecordingMetrics:
    """Keeps every metric call in order (the processor's default sink; handy in tests)."""

    samples: list[MetricSample] = field(default_factory=list)

    def increment(self, name: str, tags: dict[str, str]) -> None:
        """Record a counter increment."""
        self.samples.append(MetricSample(COUNTER, name, 1.0, dict(tags)))

    def observe(self, name: str, value: float, tags: dict[str, str]) -> None:
        """Record an observation."""
        self.samples.append(MetricSample(OBSERVATION, name, value, dict(tags)))

    def set_gauge(self, name: str, value: float, tags: dict[str, str]) -> None:
        """Record a gauge write."""
        self.samples.append(MetricSample(GAUGE, name, value, dict(tags)))

    def named(self, name: str) -> list[MetricSample]:
        """Every sample of one metric name, in order."""
        return [s for s in self.samples if s.name == name]


def event_fields(event: StateGateEvent) -> dict[str, object]:
    """The decision-log fields of one emitted event."""
    fields: dict[str, object] = {
        "symbol": event.symbol,
        "run_id": event.run_id,
        "engine_timestamp_ms": event.engine_timestamp_ms,
        "input_event_type": event.input_event_type,
        "state_status": event.state_status,
        "gate_status": event.gate_status,
        "reasons": list(event.reasons),
    }
    if isinstance(event.payload, StateResetPayload):
        fields["reset_reason"] = event.payload.reset_reason
    if isinstance(event.payload, StateGateHaltedPayload):
        fields["error_kind"] = event.payload.error_kind
        fields["error_detail"] = event.payload.error_detail
    return fields


@dataclass(slots=True)
class GateObserver:
    """Writes the structured decision log and the metrics for each step."""

    metrics: GateMetrics
    log: EventLogger = field(default_factory=lambda: get_logger("state_gate"))

    def step(self, result: StepResult) -> None:
        """Log and count one step's outcome."""
        if result.ignored is not None:
            self.metrics.increment(IGNORED, {"reason": result.ignored})
        for event in result.events:
            self._event(event, result.previous_timestamp_ms)

    def _event(self, event: StateGateEvent, previous_ts: int | None) -> None:
        self.log.info(f"state_gate.{event.event_type}", **event_fields(event))
        self.metrics.increment(TRANSITIONS, {"state_status": event.state_status})
        if event.event_type == EVENT_GATE_EVALUATED:
            for reason in event.reasons or ("none",):
                self.metrics.increment(GATE_DECISIONS, {"gate_status": event.gate_status, "reason": reason})
            if previous_ts is not None:
                lag = float(event.engine_timestamp_ms - previous_ts)
                self.metrics.observe(PROCESSING_LAG_MS, lag, {"symbol": event.symbol})
        elif event.event_type == EVENT_STATE_RESET and isinstance(event.payload, StateResetPayload):
            self.metrics.increment(RESETS, {"reset_reason": event.payload.reset_reason})
        elif event.event_type == EVENT_STATE_GATE_HALTED and isinstance(
            event.payload, StateGateHaltedPayload
        ):
            self.metrics.increment(FAILURES, {"error_kind": event.payload.error_kind})
            self.metrics.set_gauge(HALTED, 1.0, {})

    def resumed(self, symbol: str, halted_symbols: int | None = None) -> None:
        """Log an operator resume; lower the halted gauge when told nothing is halted any more."""
        self.log.info("state_gate.resumed", symbol=symbol)
        if halted_symbols == 0:
            self.metrics.set_gauge(HALTED, 0.0, {})

    def halted_now(self, symbols: set[str], input_healthy: bool) -> None:
        """The halted symbols recomputed from the owned snapshots (after a restore, rewind or commit)."""
        self.metrics.set_gauge(HALTED, 1.0 if symbols else 0.0, {})
        self.log.info("state_gate.halted_symbols", symbols=sorted(symbols), input_healthy=input_healthy)
