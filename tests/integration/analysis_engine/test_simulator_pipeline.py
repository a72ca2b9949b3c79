"""Built-in detectors on a labelled simulator series: simulator -> composer -> regime engine (hysteresis) ->
OPEN gate events -> analysis engine, checked against the simulator's labels.

The Kafka hops (orchestrator, state_gate) are left out here: they carry these payloads unchanged and have
their own exactly-once tests; this checks what the detectors make of real engine output.
"""

from __future__ import annotations

from typing import Any

from consumers.analysis_engine import AnalysisEngine, AnalysisEngineConfig
from consumers.analysis_engine.contracts import ArtifactEmittedPayload
from consumers.analysis_engine.discovery import discover_registry
from consumers.analysis_engine.testing import gate_event
from regime_engine.contracts.outputs import RegimeOutput as EngineOutput
from regime_engine.engine import step
from regime_engine.hysteresis import HysteresisState as EngineHysteresis
from xray_contracts import orchestrator_event as oe
from xray_evaluation.series import steps_from_events
from xray_simulator.api import simulate
from xray_simulator.config import SimulatorConfig

SEED = 23
WINDOWS = 90


def wire_output(o: EngineOutput) -> oe.RegimeOutput:
    """The engine's RegimeOutput as it travels on orchestrator/state_gate events."""
    return oe.RegimeOutput(
        symbol=o.symbol,
        timestamp=o.timestamp,
        regime=o.regime.value,
        confidence=o.confidence,
        drivers=o.drivers,
        invalidations=o.invalidations,
        permissions=o.permissions,
        belief_by_regime=o.belief_by_regime,
        driver_contributions=tuple(
            oe.DriverContribution(c.driver, c.contribution) for c in o.driver_contributions or ()
        ),
        invalidation_conditions=tuple(
            oe.InvalidationCondition(c.kind, c.field, c.op, c.threshold, c.description)
            for c in o.invalidation_conditions or ()
        ),
    )


def wire_hysteresis(h: EngineHysteresis) -> oe.HysteresisState:
    """The engine's HysteresisState as it travels on the wire."""
    belief = h.debug.get("belief_by_regime") if h.debug else None
    return oe.HysteresisState(
        schema=h.schema,
        schema_version=h.schema_version,
        symbol=h.symbol,
        engine_timestamp_ms=h.engine_timestamp_ms,
        anchor_regime=h.anchor_regime.value,
        candidate_regime=h.candidate_regime.value if h.candidate_regime is not None else None,
        progress_current=h.progress_current,
        progress_required=h.progress_required,
        last_commit_timestamp_ms=h.last_commit_timestamp_ms,
        reason_codes=tuple(h.reason_codes),
        debug=oe.HysteresisDebug(dict(belief)) if belief else None,
    )


def precision_recall(predicted: list[bool], actual: list[bool]) -> tuple[float, float]:
    hits = sum(p and a for p, a in zip(predicted, actual, strict=True))
    return hits / max(1, sum(predicted)), hits / max(1, sum(actual))


def test_detectors_follow_the_simulator_labels() -> None:
    config = SimulatorConfig(seed=SEED, symbols=("BTCUSDT",), windows=WINDOWS)
    sim = simulate(config)
    engine = AnalysisEngine(
        registry=discover_registry(), config=AnalysisEngineConfig(enabled_modules=[], module_configs=[])
    )
    labels: list[str] = []
    anchors: list[str] = []
    outputs: list[dict[str, Any]] = []
    previous: EngineHysteresis | None = None
    for steps in steps_from_events(sim.events, config.symbols, sim.label_map()):
        for s in steps:
            decision = step(s.snapshot, previous)
            previous = decision.state
            event = gate_event(
                f"{s.symbol}-{s.timestamp}",
                symbol=s.symbol,
                timestamp=s.timestamp,
                regime=wire_output(decision.output),
                hysteresis=wire_hysteresis(decision.state),
                engine_mode="hysteresis",
                reasons=(),
            )
            events = engine.consume(event)
            assert events[-1].event_type == "AnalysisRunCompleted"
            outputs.append(
                {
                    f"{e.payload.module_id}:{e.payload.artifact_name}": e.payload.payload
                    for e in events
                    if isinstance(e.payload, ArtifactEmittedPayload)
                }
            )
            labels.append(s.label or "")
            anchors.append(decision.state.anchor_regime.value)

    transitions = [o["detector.regime_transition:transition"] for o in outputs]
    # A transition artifact exactly at each committed (hysteresis anchor) regime change.
    assert [t["detected"] for t in transitions] == [
        i > 0 and anchors[i] != anchors[i - 1] for i in range(len(anchors))
    ]
    # Against the labels: each label change is followed within 3 windows by a transition to that regime...
    changes = [i for i in range(2, len(labels)) if labels[i] != labels[i - 1]]
    found = sum(
        any(t["detected"] and t["to_regime"] == labels[i] for t in transitions[i : i + 4]) for i in changes
    )
    # ...and a transition names the labelled regime of its window.
    fired = [i for i, t in enumerate(transitions) if t["detected"]]
    right = sum(transitions[i]["to_regime"] == labels[i] for i in fired)
    crowding = precision_recall(
        [o["detector.crowding:crowding"]["detected"] for o in outputs],
        [x.startswith("SQUEEZE_") for x in labels],
    )
    cascade = precision_recall(
        [o["detector.liquidation_cascade:cascade"]["detected"] for o in outputs],
        [x.startswith("LIQUIDATION_") for x in labels],
    )
    print(
        f"transitions: {found}/{len(changes)} label changes found, {right}/{len(fired)} right; "
        f"crowding P/R {crowding[0]:.2f}/{crowding[1]:.2f}; cascade P/R {cascade[0]:.2f}/{cascade[1]:.2f}"
    )
    assert found >= 0.6 * len(changes)
    assert right >= 0.75 * len(fired)
    assert min(crowding) >= 0.75
    assert min(cascade) >= 0.75
