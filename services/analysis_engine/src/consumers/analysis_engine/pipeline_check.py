"""Helpers of the labelled whole-pipeline tests: the series, waiting for the analysis, the label check.

The series is small (2 symbols × 60 windows of the seed-23 simulator, thinned activity) so a run through
the services stays well under two minutes.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping

from consumers.analysis_engine.contracts import AnalysisEngineEvent
from consumers.analysis_engine.label_check import LabelScore, runs_from_events, score_runs
from xray_contracts import catalogue
from xray_contracts.catalogue import TopicSpec
from xray_contracts.codec import codec_for
from xray_contracts.state_gate import StateGateEvent
from xray_runtime.reader import PartitionReader
from xray_simulator.config import SimulatorConfig
from xray_testing.services import ServiceRunner

SYMBOLS = ("BTCUSDT", "ETHUSDT")
WINDOWS = 60
TERMINAL = ("AnalysisRunCompleted", "AnalysisRunSkipped", "AnalysisRunFailed")


def sim_config() -> SimulatorConfig:
    """Seed 23, thinned (30% of the trades, book and mark every 5 s): ~25k events per symbol.

    Regime segments of 4-8 windows (the simulator's default is 10-40), so a short run holds many
    label changes, squeezes and cascades for the detectors to be checked against.
    """
    return SimulatorConfig(
        seed=23,
        symbols=SYMBOLS,
        windows=WINDOWS,
        activity=0.3,
        book_interval_s=5,
        mark_interval_s=5,
        min_segment_windows=4,
        max_segment_windows=8,
    )


def read_committed(bootstrap: str, spec: TopicSpec, namespace: str) -> list[bytes]:
    """Every committed value of a catalogue topic, partition by partition in offset order."""
    reader = PartitionReader({"bootstrap.servers": bootstrap, "group.id": "unused"})
    try:
        messages = reader.read_to_end(spec.topic(namespace), list(range(spec.partitions)))
        return [m.value() or b"" for m in messages]
    finally:
        reader.close()


def analysis_events(bootstrap: str, namespace: str) -> list[AnalysisEngineEvent]:
    """The committed analysis_engine_event records."""
    codec = codec_for(AnalysisEngineEvent)
    return [codec.decode(v) for v in read_committed(bootstrap, catalogue.ANALYSIS_ENGINE_EVENT, namespace)]


def gate_events(bootstrap: str, namespace: str) -> list[StateGateEvent]:
    """The committed state_gate_event records."""
    codec = codec_for(StateGateEvent)
    return [codec.decode(v) for v in read_committed(bootstrap, catalogue.STATE_GATE_EVENT, namespace)]


def await_analysis(
    services: ServiceRunner, runs_per_symbol: int, timeout_s: float, poll_s: float = 2.0
) -> list[AnalysisEngineEvent]:
    """Wait until each symbol has `runs_per_symbol` finished analysis runs and the output stops growing."""
    deadline = time.monotonic() + timeout_s
    last = -1
    while True:
        services.check_running()
        events = analysis_events(services.bootstrap, services.namespace)
        done = Counter(e.symbol for e in events if e.event_type in TERMINAL)
        if all(done[s] >= runs_per_symbol for s in SYMBOLS) and len(events) == last:
            return events
        if time.monotonic() > deadline:
            raise AssertionError(f"analysis runs per symbol {dict(done)}, expected {runs_per_symbol}")
        last = len(events)
        time.sleep(poll_s)


def check_against_labels(
    events: list[AnalysisEngineEvent],
    gates: list[StateGateEvent],
    labels: Mapping[tuple[str, int], str],
    min_runs: int,
) -> LabelScore:
    """One analysis run per OPEN gate, none twice, no module failure, and the detectors follow the labels."""
    runs = [(e.symbol, e.run_id) for e in events if e.event_type in TERMINAL]
    assert len(runs) == len(set(runs)), "a run was analysed twice"
    opened = {
        (g.symbol, g.run_id) for g in gates if g.event_type == "GateEvaluated" and g.gate_status == "OPEN"
    }
    completed = {(e.symbol, e.run_id) for e in events if e.event_type == "AnalysisRunCompleted"}
    assert completed == opened, (len(completed), len(opened))
    failures = [e for e in events if e.event_type == "ModuleFailed"]
    assert not failures, failures[:3]
    score = score_runs(runs_from_events(events), labels)
    assert score.runs >= min_runs, score.summary()
    assert not score.problems(), (score.summary(), score.problems())
    return score
