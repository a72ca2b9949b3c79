"""The service on a real broker: killed with SIGKILL mid-stream and restarted, its committed output equals
an uninterrupted in-process run — no run executed twice, no duplicate artifact, state and alerts intact."""

from __future__ import annotations

import random
import signal
from collections import Counter, defaultdict

from consumers.analysis_engine import AnalysisEngine, AnalysisEngineConfig
from consumers.analysis_engine.contracts import AnalysisEngineEvent, ArtifactEmittedPayload, module_state_key
from consumers.analysis_engine.discovery import discover_registry
from consumers.analysis_engine.harness import AnalysisHarness, labelled_gate_series
from xray_contracts.state_gate import StateGateEvent

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]
RUNS_PER_SYMBOL = 120
SEED = 8
N_KILLS = 5  # "5 or more random points", as the orchestrator issue asks


def expected_run(series: list[StateGateEvent]) -> tuple[dict[str, list[AnalysisEngineEvent]], AnalysisEngine]:
    """What an uninterrupted run gives, per symbol, from the in-process engine."""
    engine = AnalysisEngine(
        registry=discover_registry(), config=AnalysisEngineConfig(enabled_modules=[], module_configs=[])
    )
    out: dict[str, list[AnalysisEngineEvent]] = defaultdict(list)
    for event in series:
        out[event.symbol].extend(engine.consume(event))
    return dict(out), engine


def test_killed_service_gives_the_uninterrupted_output(analysis_harness: AnalysisHarness) -> None:
    h = analysis_harness
    series = labelled_gate_series(SYMBOLS, RUNS_PER_SYMBOL, SEED)
    expected, engine = expected_run(series)
    total = sum(len(v) for v in expected.values())
    h.produce(series, garbage=[("BTCUSDT", b"not avro")])

    rng = random.Random(SEED)
    for point in sorted(rng.sample(range(total // 10, total - total // 10), N_KILLS)):
        proc = h.start()
        h.wait_progress(point, proc)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL

    final = h.start()
    h.wait_events(total, final)
    final.send_signal(signal.SIGTERM)
    assert final.wait(30) == 0, h.log_tail(final)

    got = h.events(h.output)
    assert got == expected
    keys = Counter(e.event_key for events in got.values() for e in events)
    assert max(keys.values()) == 1  # no run executed twice, no duplicate artifact
    runs = [e.run_id for events in got.values() for e in events if e.event_type == "AnalysisRunStarted"]
    assert len(runs) == len(set(runs))

    alerts = h.events(h.alerts)
    expected_alerts = {
        s: [
            e
            for e in events
            if isinstance(e.payload, ArtifactEmittedPayload) and e.payload.module_id == "output.alerts"
        ]
        for s, events in expected.items()
    }
    assert alerts == {s: a for s, a in expected_alerts.items() if a}
    assert sum(len(a) for a in alerts.values()) > 0

    states = h.module_states()
    want = {module_state_key(*key).encode(): record for key, record in engine.state.records.items()}
    assert states == want
    assert len(h.read_committed(h.dlq)) == 1  # the undecodable record, and the service went on
    halts = [e for events in got.values() for e in events if e.event_type == "AnalysisRunFailed"]
    assert halts  # the series holds StateGateHalted inputs; each gives one AnalysisRunFailed


def test_two_instances_one_killed_give_the_same_output(analysis_harness: AnalysisHarness) -> None:
    h = analysis_harness
    series = labelled_gate_series(SYMBOLS, RUNS_PER_SYMBOL // 2, SEED + 1)
    expected, _ = expected_run(series)
    total = sum(len(v) for v in expected.values())
    h.produce(series)
    a = h.start("a")
    b = h.start("b")
    h.wait_progress(total // 3, a)
    a.send_signal(signal.SIGKILL)
    assert a.wait(10) == -signal.SIGKILL
    h.wait_events(total, b)
    b.send_signal(signal.SIGTERM)
    assert b.wait(30) == 0, h.log_tail(b)
    got = h.events(h.output)
    assert got == expected
    assert max(Counter(e.event_key for events in got.values() for e in events).values()) == 1
