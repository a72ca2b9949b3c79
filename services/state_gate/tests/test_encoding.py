"""GateEncoder writes exactly the codecs' bytes (replays and the chaos comparison compare bytes)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from consumers.state_gate import contracts as c
from consumers.state_gate.encoding import GateEncoder
from consumers.state_gate.samples import completed, failed, hysteresis, regime_output, sample_config
from consumers.state_gate.transitions import bootstrap_snapshot, gate_step, halt_step
from hypothesis import given, settings
from hypothesis import strategies as st
from xray_contracts.codec import EncodeError, InMemoryResolver, build_codecs, default_codecs
from xray_contracts.orchestrator_event import OrchestratorEvent


@st.composite
def input_event(draw: st.DrawFn) -> OrchestratorEvent:
    """Inputs of both engine modes that decide, wait in `pending`, reset, deny, fail or repeat."""
    symbol = draw(st.sampled_from(("AAA", "BBB")))
    ts = draw(st.integers(0, 12)) * 10
    kind = draw(st.sampled_from(("completed", "completed_h", "state", "failed")))
    invalidations = tuple(draw(st.lists(st.sampled_from(("late", "ok")), max_size=2)))
    run_id = f"{symbol}|{ts}|{kind == 'completed' or kind == 'failed'}"
    if kind == "completed":
        return completed(run_id, ts, symbol=symbol, invalidations=invalidations)
    if kind == "completed_h":
        return completed(run_id, ts, symbol=symbol, engine_mode="hysteresis", invalidations=invalidations)
    if kind == "state":
        return hysteresis(run_id, ts, symbol=symbol, progress=draw(st.integers(0, 2)))
    return failed(run_id, ts, symbol=symbol)


def _check_step_outputs(encoder: GateEncoder, events: list[OrchestratorEvent]) -> int:
    """Run the pure step over `events`; every output must encode exactly as the plain codecs do."""
    codecs = default_codecs()
    config = sample_config(max_gap_ms=25, denylist=("late",), block_during_transition=True)
    snapshots: dict[str, c.StateGateSnapshot] = {}
    checked = 0
    for event in events:
        symbol = event.symbol
        result = gate_step(snapshots.get(symbol) or bootstrap_snapshot(symbol), event, config)
        snapshots[symbol] = result.snapshot
        for out, record in zip(result.events, result.records, strict=True):
            assert encoder.event(out) == codecs.for_type(c.StateGateEvent).encode(out)
            assert encoder.record(record) == codecs.for_type(c.StateGateStateRecord).encode(record)
        if result.state_changed:
            snapshot = replace(result.snapshot, config_fingerprint="fp")
            assert encoder.snapshot(snapshot) == codecs.for_type(c.StateGateSnapshot).encode(snapshot)
            checked += 1
    return checked


@settings(max_examples=150, deadline=None)
@given(st.lists(input_event(), max_size=40))
def test_outputs_are_byte_identical_to_the_codecs(events: list[OrchestratorEvent]) -> None:
    _check_step_outputs(GateEncoder(default_codecs()), events)


def test_shared_payloads_pending_runs_and_a_tiny_memo() -> None:
    # Hysteresis mode: the completed run waits in `pending` (its regime_output embedded in the snapshot),
    # the state decides it, a later duplicate re-embeds the same objects; memo_limit=1 keeps evicting.
    events = [
        completed("r1", 10, engine_mode="hysteresis"),
        hysteresis("r1", 10, progress=0),
        hysteresis("r1", 10, progress=0),
        completed("r2", 20, engine_mode="hysteresis", invalidations=("late",)),
        hysteresis("r2", 20, progress=1),
        failed("r3", 30),
        completed("r4", 100),
    ]
    for limit in (1, 2, 4096):
        assert _check_step_outputs(GateEncoder(default_codecs(), memo_limit=limit), events) >= 6


def test_halt_and_confluent_framing() -> None:
    codecs = build_codecs(resolver=InMemoryResolver())
    encoder = GateEncoder(codecs)
    halted = halt_step(bootstrap_snapshot("AAA"), error_kind=c.ERROR_MALFORMED_INPUT, error_detail="bad")
    (event,) = halted.events
    assert encoder.event(event) == codecs.for_type(c.StateGateEvent).encode(event)
    (record,) = halted.records
    assert encoder.record(record) == codecs.for_type(c.StateGateStateRecord).encode(record)
    assert encoder.snapshot(halted.snapshot) == codecs.for_type(c.StateGateSnapshot).encode(halted.snapshot)


def test_a_value_that_does_not_fit_still_raises_encode_error() -> None:
    encoder = GateEncoder(default_codecs())
    bad = replace(bootstrap_snapshot("AAA"), record_count=1 << 70)
    with pytest.raises(EncodeError):
        encoder.snapshot(bad)
    wrong = replace(regime_output("AAA", 1), regime=5)  # type: ignore[arg-type]
    event = c.StateGateEvent(
        schema=c.SCHEMA,
        schema_version=c.SCHEMA_VERSION,
        event_type=c.EVENT_GATE_EVALUATED,
        symbol="AAA",
        engine_timestamp_ms=1,
        run_id="r",
        state_status=c.STATE_READY,
        gate_status=c.GATE_OPEN,
        reasons=(),
        payload=c.GateEvaluatedPayload(regime_output=wrong),
    )
    with pytest.raises(EncodeError):
        default_codecs().for_type(c.StateGateEvent).encode(event)
    with pytest.raises(EncodeError):
        encoder.event(event)
