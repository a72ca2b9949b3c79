"""Property tests: invariants of the gate over random input streams (hypothesis)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from consumers.state_gate import StateGateConfig, StateGateProcessor, StateGateStateStore
from consumers.state_gate import contracts as c
from consumers.state_gate.samples import completed, failed, hysteresis, sample_config, started
from hypothesis import given, settings
from hypothesis import strategies as st
from xray_contracts.orchestrator_event import OrchestratorEvent

KINDS = ("completed", "completed_h", "state", "state_both", "failed", "failed_null", "started", "broken")


@st.composite
def input_event(draw: st.DrawFn) -> OrchestratorEvent:
    symbol = draw(st.sampled_from(("AAA", "BBB")))
    ts = draw(st.integers(0, 12)) * 10
    kind = draw(st.sampled_from(KINDS))
    invalidations = tuple(draw(st.lists(st.sampled_from(("late", "gap", "ok")), max_size=2)))
    progress = draw(st.integers(0, 2))
    hyst = kind in {"completed_h", "state", "state_both"}
    run_id = f"{symbol}|{ts}|{'hysteresis' if hyst else 'truth'}"
    if kind == "completed":
        return completed(run_id, ts, symbol=symbol, invalidations=invalidations)
    if kind == "completed_h":
        return completed(run_id, ts, symbol=symbol, engine_mode="hysteresis", invalidations=invalidations)
    if kind == "state":
        return hysteresis(run_id, ts, symbol=symbol, progress=progress)
    if kind == "state_both":
        return hysteresis(run_id, ts, symbol=symbol, progress=progress, invalidations=invalidations)
    if kind == "failed":
        return failed(run_id, ts, symbol=symbol)
    if kind == "failed_null":
        return failed(run_id, ts, symbol=symbol, with_payload=False)
    if kind == "started":
        return started(run_id, ts, symbol=symbol)
    return replace(completed(run_id, ts, symbol=symbol), payload=None)


streams = st.lists(input_event(), max_size=40)


def _config() -> StateGateConfig:
    return sample_config(max_gap_ms=25, denylist=("late",), block_during_transition=True)


def _run(
    events: list[OrchestratorEvent], processor: StateGateProcessor | None = None
) -> list[c.StateGateEvent]:
    processor = processor or StateGateProcessor(_config())
    out: list[c.StateGateEvent] = []
    for event in events:
        out.extend(processor.consume(event))
    return out


@settings(max_examples=150, deadline=None)
@given(streams)
def test_never_open_unless_ready_and_one_gate_per_run(events: list[OrchestratorEvent]) -> None:
    out = _run(events)
    for event in out:
        assert event.gate_status in c.GATE_STATUSES
        if event.gate_status == c.GATE_OPEN:
            assert event.state_status == c.STATE_READY
            assert event.event_type == c.EVENT_GATE_EVALUATED
    gates = Counter((e.symbol, e.run_id) for e in out if e.event_type == c.EVENT_GATE_EVALUATED)
    assert all(n == 1 for n in gates.values())


@settings(max_examples=100, deadline=None)
@given(streams)
def test_deterministic_and_duplicate_insensitive(events: list[OrchestratorEvent]) -> None:
    once = _run(events)
    assert _run(events) == once
    doubled = [e for event in events for e in (event, event)]
    assert _run(doubled) == once


@settings(max_examples=100, deadline=None)
@given(streams, st.integers(0, 40))
def test_restart_from_snapshots_is_equivalent(events: list[OrchestratorEvent], cut: int) -> None:
    whole = _run(events)
    first = StateGateProcessor(_config())
    head = _run(events[:cut], first)
    restarted = StateGateProcessor(
        _config(), store=StateGateStateStore(snapshots=first.store.snapshots.values())
    )
    tail = _run(events[cut:], restarted)
    assert head + tail == whole
