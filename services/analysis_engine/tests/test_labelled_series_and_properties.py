"""Detectors against a labelled regime series, and property tests for determinism and robustness."""

from __future__ import annotations

import random
from typing import Any

from consumers.analysis_engine import AnalysisEngine, AnalysisEngineConfig, ModuleRegistry
from consumers.analysis_engine.contracts import AnalysisEngineEvent, ArtifactEmittedPayload, RunStatusPayload
from consumers.analysis_engine.modules.builtin import builtin_modules
from consumers.analysis_engine.testing import gate_event, one_hot_belief, regime_output
from hypothesis import given, settings
from hypothesis import strategies as st
from xray_contracts.orchestrator_event import REGIME_VALUES


def engine() -> AnalysisEngine:
    return AnalysisEngine(
        registry=ModuleRegistry(modules=builtin_modules()),
        config=AnalysisEngineConfig(enabled_modules=[], module_configs=[]),
    )


def labelled_series(seed: int, segments: int) -> list[str]:
    """Random regime segments (3..8 runs each, consecutive segments differ)."""
    rng = random.Random(seed)
    labels: list[str] = []
    previous = None
    for _ in range(segments):
        regime = rng.choice([r for r in REGIME_VALUES if r != previous])
        labels.extend([regime] * rng.randint(3, 8))
        previous = regime
    return labels


def artifacts_of(events: list[AnalysisEngineEvent]) -> dict[str, Any]:
    return {
        f"{e.payload.module_id}:{e.payload.artifact_name}": e.payload.payload
        for e in events
        if isinstance(e.payload, ArtifactEmittedPayload)
    }


def test_detectors_fire_where_the_labels_say() -> None:
    labels = labelled_series(seed=7, segments=40)
    eng = engine()
    transitions, crowding, cascades, cascade_starts = [], [], [], []
    for i, label in enumerate(labels):
        # Engine output = label with 70 % belief mass (the rest spread), as a decent regime engine would give.
        regime = regime_output(label, timestamp=180_000 * i, belief=one_hot_belief(label, 0.7))
        out = artifacts_of(eng.consume(gate_event(f"run-{i}", timestamp=180_000 * i, regime=regime)))
        transitions.append(out["detector.regime_transition:transition"]["detected"])
        crowding.append(out["detector.crowding:crowding"]["detected"])
        cascades.append(out["detector.liquidation_cascade:cascade"]["detected"])
        cascade_starts.append(out["detector.liquidation_cascade:cascade"]["new"])
    assert transitions == [i > 0 and labels[i] != labels[i - 1] for i in range(len(labels))]
    assert crowding == [label.startswith("SQUEEZE_") for label in labels]
    assert cascades == [label.startswith("LIQUIDATION_") for label in labels]
    assert cascade_starts == [
        label.startswith("LIQUIDATION_") and (i == 0 or labels[i - 1] != label)
        for i, label in enumerate(labels)
    ]
    assert sum(transitions) == 39


belief_values = st.floats(min_value=-1.0, max_value=10.0, allow_nan=False, allow_infinity=False)
runs = st.lists(
    st.tuples(
        st.sampled_from(REGIME_VALUES),
        st.floats(min_value=0.0, max_value=1.0),
        st.dictionaries(st.sampled_from(REGIME_VALUES), belief_values, max_size=9),
        st.sampled_from(["OPEN", "CLOSED"]),
    ),
    min_size=1,
    max_size=8,
)


def replay(series: list[tuple[str, float, dict[str, float], str]]) -> list[AnalysisEngineEvent]:
    eng = engine()
    out: list[AnalysisEngineEvent] = []
    for i, (label, confidence, belief, gate) in enumerate(series):
        regime = regime_output(label, confidence=confidence, belief=belief or None)
        out.extend(eng.consume(gate_event(f"r{i}", timestamp=1000 * i, regime=regime, gate_status=gate)))
    return out


@settings(max_examples=40, deadline=None)
@given(runs)
def test_any_engine_output_gives_a_complete_deterministic_run(
    series: list[tuple[str, float, dict[str, float], str]],
) -> None:
    first = replay(series)
    assert first == replay(series)
    for event in first:
        if event.event_type == "AnalysisRunCompleted":
            assert isinstance(event.payload, RunStatusPayload)
            assert event.payload.status == "SUCCESS"
    assert sum(e.event_type in ("AnalysisRunCompleted", "AnalysisRunSkipped") for e in first) == len(series)


inputs = st.lists(
    st.tuples(
        st.sampled_from(["BTCUSDT", "ETHUSDT"]),
        st.sampled_from(["GateEvaluated", "GateEvaluated", "GateEvaluated", "StateReset", "StateGateHalted"]),
        st.sampled_from(REGIME_VALUES),
        st.sampled_from(["OPEN", "OPEN", "CLOSED"]),
        st.integers(min_value=0, max_value=2),
    ),
    min_size=1,
    max_size=25,
)


def gate_inputs(spec: list[tuple[str, str, str, str, int]]) -> list[Any]:
    """Gate events with non-decreasing timestamps per symbol (step 0 repeats a timestamp)."""
    ts = {"BTCUSDT": 0, "ETHUSDT": 0}
    out = []
    for i, (symbol, kind, label, gate, step) in enumerate(spec):
        ts[symbol] += step * 180_000
        out.append(
            gate_event(
                f"{symbol}-{i}",
                symbol=symbol,
                event_type=kind,
                timestamp=ts[symbol],
                regime=regime_output(label, symbol=symbol, timestamp=ts[symbol]),
                gate_status=gate,
            )
        )
    return out


@settings(max_examples=30, deadline=None)
@given(inputs)
def test_every_input_delivered_twice_changes_nothing(spec: list[tuple[str, str, str, str, int]]) -> None:
    events = gate_inputs(spec)
    once, twice = engine(), engine()
    assert [e for ev in events for e in once.consume(ev)] == [
        e for ev in events for _ in range(2) for e in twice.consume(ev)
    ]


@settings(max_examples=30, deadline=None)
@given(inputs, st.integers(min_value=0, max_value=25))
def test_restart_from_durable_state_is_equivalent(
    spec: list[tuple[str, str, str, str, int]], cut: int
) -> None:
    """What the service restores (ledgers + latest module state) is all a restarted engine needs."""
    events = gate_inputs(spec)
    cut = min(cut, len(events))
    whole = engine()
    expected = [e for ev in events for e in whole.consume(ev)]
    first = engine()
    got = [e for ev in events[:cut] for e in first.consume(ev)]
    restarted = AnalysisEngine(
        registry=ModuleRegistry(modules=builtin_modules()),
        config=AnalysisEngineConfig(enabled_modules=[], module_configs=[]),
        ledgers=first.state.ledgers.values(),
        module_state=first.state.records.values(),
    )
    got += [e for ev in events[cut:] for e in restarted.consume(ev)]
    assert got == expected
