"""The regime engine's results as the orchestrator publishes them, computed in-process.

`orchestrator_events(config)` runs the composer and the regime engine (hysteresis) over a simulated
market and returns the EngineRunCompleted records the orchestrator service would write to
orchestrator_event: the input of the state_gate/analysis_engine stages in tests and benchmarks that
run them without the orchestrator service.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from regime_engine.engine import step
from regime_engine.hysteresis import HysteresisState as EngineHysteresis
from regime_engine.wire import wire_hysteresis, wire_output
from xray_contracts import orchestrator_event as oe
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_contracts.raw_market_event import RawMarketEvent
from xray_simulator.api import simulate
from xray_simulator.config import SimulatorConfig

from xray_evaluation.series import steps_from_events

__all__ = ["orchestrator_events", "wire_hysteresis", "wire_output"]


def orchestrator_events(
    config: SimulatorConfig, events: Iterable[RawMarketEvent] | None = None
) -> list[OrchestratorEvent]:
    """What the orchestrator publishes in hysteresis mode (EngineRunCompleted carrying the regime output
    and the hysteresis state), computed in-process with the composer and the regime engine.

    `events`: the simulation's raw events when the caller already has them (else simulated here)."""
    raw = simulate(config).events if events is None else events
    previous: dict[str, EngineHysteresis | None] = dict.fromkeys(config.symbols)
    out: list[OrchestratorEvent] = []
    for steps in steps_from_events(raw, config.symbols):
        for s in steps:
            decision = step(s.snapshot, previous[s.symbol])
            previous[s.symbol] = decision.state
            run_id = hashlib.sha256(f"{s.symbol}|{s.timestamp}|{s.timestamp}|hysteresis".encode()).hexdigest()
            payload = oe.OrchestratorPayload(
                regime_output=wire_output(decision.output), hysteresis_state=wire_hysteresis(decision.state)
            )
            out.append(
                OrchestratorEvent(
                    schema="orchestrator_event",
                    schema_version="1",
                    event_type="EngineRunCompleted",
                    run_id=run_id,
                    symbol=s.symbol,
                    engine_timestamp_ms=s.timestamp,
                    cut_start_ingest_seq=1,
                    cut_end_ingest_seq=s.timestamp,
                    cut_kind="timer",
                    engine_mode="hysteresis",
                    attempt=1,
                    payload=payload,
                )
            )
    return out
