"""The state_gate service on a real broker: duplicates, out-of-order runs, kills, two instances, halts."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson
from click.testing import CliRunner
from confluent_kafka import Consumer, TopicPartition
from consumers.state_gate.cli import gate
from consumers.state_gate.contracts import StateGateEvent, StateGateHaltedPayload, StateGateSnapshot
from consumers.state_gate.harness import GateHarness, expected_by_symbol, run_id_for, workload
from consumers.state_gate.samples import completed
from xray_contracts import catalogue
from xray_contracts.codec import codec_for
from xray_contracts.orchestrator_event import OrchestratorEvent

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "BNBUSDT", "ADAUSDT", "DOGEUSDT", "LTCUSDT")
# The orchestrator issue's scaling bar: at least 12 symbols over the 6 partitions; murmur2 puts at least
# one of these on every partition (SYMBOLS alone leave 0 and 4 empty), which the test checks.
SCALING_SYMBOLS = (*SYMBOLS, "DOTUSDT", "TRXUSDT", "INJUSDT", "BCHUSDT")
PARTITIONS = catalogue.ORCHESTRATOR_EVENT.partitions


def _count(expected: dict[str, list[StateGateEvent]]) -> int:
    return sum(len(v) for v in expected.values())


def test_duplicates_and_out_of_order_give_one_gate_per_run(gate_harness: GateHarness) -> None:
    h = gate_harness
    events = workload(SYMBOLS, runs=25, seed=1)
    expected = expected_by_symbol(events)
    proc = h.start("solo")
    h.wait_for_event(proc, "partitions_assigned")
    h.produce(events)
    out = h.wait_outputs(_count(expected), [proc])
    assert h.stop(proc) == 0, h.log_tail(proc)
    assert out == expected
    gates = Counter((e.symbol, e.run_id) for v in out.values() for e in v if e.event_type == "GateEvaluated")
    runs = {(e.symbol, e.run_id) for e in events if e.event_type != "EngineRunStarted"}
    assert set(gates) == runs
    assert set(gates.values()) == {1}


def _assert_state_matches(h: GateHarness, expected: dict[str, list[StateGateEvent]]) -> None:
    """One log record per output event, and each symbol's compacted snapshot names its last output."""
    assert len(h.read_committed(h.state_log)) == _count(expected)
    snapshots = {}
    codec = codec_for(StateGateSnapshot)
    for _, _, key, value, _ in sorted(h.read_committed(h.state), key=lambda r: (r[0], r[1])):
        assert key is not None
        assert value is not None
        snapshots[key.decode()] = codec.decode(value)
    for symbol, events in expected.items():
        assert snapshots[symbol].last_run_id == events[-1].run_id
        assert snapshots[symbol].state_status == events[-1].state_status


def test_kill_restart_equivalence(gate_harness: GateHarness) -> None:
    h = gate_harness
    events = workload(SYMBOLS, runs=25, seed=2)
    expected = expected_by_symbol(events)
    total = _count(expected)
    proc = h.start("gate-0")
    h.wait_for_event(proc, "partitions_assigned")
    feeder = threading.Thread(target=h.produce_paced, args=(events,), kwargs={"chunk": 60, "pace_s": 0.25})
    feeder.start()
    try:
        # SIGKILL at 5 seeded random points of the output stream (the orchestrator issue's bar).
        rng = random.Random(2)
        for point in sorted(rng.sample(range(total // 10, total - total // 10), 5)):
            h.wait_progress(h.output, point, [proc])
            proc.kill()
            proc.wait(10)
            proc = h.start("gate-0")
    finally:
        feeder.join()
    out = h.wait_outputs(total, [proc], timeout_s=120)
    assert h.stop(proc) == 0, h.log_tail(proc)
    assert out == expected
    _assert_state_matches(h, expected)
    # The restarted incarnations rebuilt their state from the compacted topic.
    restored = [e for p in h.procs[1:] for e in h.events(p, "store_restored")]
    assert any(int(e["records"]) > 0 for e in restored)


def _owned(h: GateHarness, proc: subprocess.Popen[bytes]) -> set[int]:
    """The input partitions `proc` owns now, folded from its partitions_assigned/revoked log events."""
    owned: set[int] = set()
    for line in Path(proc.log_path).read_bytes().splitlines():  # type: ignore[attr-defined]
        if not line.startswith(b"{"):
            continue
        event = orjson.loads(line)
        if event.get("event") not in ("partitions_assigned", "partitions_revoked"):
            continue
        parts = {int(p[1]) for p in event["partitions"] if p[0] == h.input}
        if event["event"] == "partitions_assigned":
            owned |= parts
        else:
            owned -= parts
    return owned


def _wait_owned(
    h: GateHarness, proc: subprocess.Popen[bytes], ok: Callable[[set[int]], bool], timeout_s: float = 60.0
) -> set[int]:
    deadline = time.monotonic() + timeout_s
    while not ok(owned := _owned(h, proc)):
        assert proc.poll() is None, h.log_tail(proc)
        assert time.monotonic() < deadline, f"{proc.log_path} owns {sorted(owned)}"  # type: ignore[attr-defined]
        time.sleep(0.1)
    return owned


def _high_watermarks(h: GateHarness, topic: str) -> list[int]:
    watch = Consumer({"bootstrap.servers": h.bootstrap, "group.id": "unused"})
    try:
        return [
            watch.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(PARTITIONS)
        ]
    finally:
        watch.close()


def test_two_instances_equal_one(gate_harness: GateHarness) -> None:
    """The orchestrator issue's scaling bar: 2 instances in one group, 6 partitions, >= 12 symbols, one
    instance leaving mid-stream, give what 1 instance gives (the in-memory reference, which the solo
    test above checks the single service against)."""
    h = gate_harness
    assert len(SCALING_SYMBOLS) >= 12
    assert PARTITIONS == 6
    events = workload(SCALING_SYMBOLS, runs=20, seed=3)
    expected = expected_by_symbol(events)
    total = _count(expected)
    half = len(events) // 2
    leaver = h.start("gate-a")
    h.wait_for_event(leaver, "partitions_assigned")
    survivor = h.start("gate-b")
    # Both members hold a share of the 6 partitions before anything flows.
    b_owned = _wait_owned(h, survivor, lambda o: 0 < len(o) < PARTITIONS)
    a_owned = _wait_owned(h, leaver, lambda o: bool(o) and not o & b_owned)
    assert a_owned | b_owned == set(range(PARTITIONS))
    first_half_in, left = threading.Event(), threading.Event()

    def feed() -> None:
        h.produce_paced(events[:half], chunk=60, pace_s=0.25)
        first_half_in.set()
        # The second half goes in only after the leaver left: records of its partitions arrive that
        # only the survivor can handle, whatever the machine's speed.
        if left.wait(120):
            h.produce_paced(events[half:], chunk=60, pace_s=0.25)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        assert first_half_in.wait(120), "the feeder stalled"
        # The leaver has written outputs for its partitions (it took part) before it leaves.
        deadline = time.monotonic() + 90
        while not all(_high_watermarks(h, h.output)[p] > 0 for p in a_owned):
            assert leaver.poll() is None, h.log_tail(leaver)
            assert time.monotonic() < deadline, "the leaver never produced on its partitions"
            time.sleep(0.1)
        assert h.stop(leaver, signal.SIGTERM) == 0, h.log_tail(leaver)
        at_leave_in = _high_watermarks(h, h.input)
        at_leave_out = _high_watermarks(h, h.output)
    finally:
        left.set()
        feeder.join()
    out = h.wait_outputs(total, [survivor], timeout_s=120)
    assert _owned(h, survivor) == set(range(PARTITIONS)), "the survivor never took the leaver's partitions"
    assert h.stop(survivor) == 0, h.log_tail(survivor)
    assert out == expected
    _assert_state_matches(h, expected)
    # Mid-stream: every partition (the 12+ symbols cover all 6) got input after the leaver left, and
    # the leaver's former partitions got outputs only the survivor could have written.
    at_end_in, at_end_out = _high_watermarks(h, h.input), _high_watermarks(h, h.output)
    assert all(at_end_in[p] > at_leave_in[p] for p in range(PARTITIONS)), (at_leave_in, at_end_in)
    assert all(at_end_out[p] > at_leave_out[p] for p in a_owned), (a_owned, at_leave_out, at_end_out)


def _gates_for(h: GateHarness, symbol: str) -> list[StateGateEvent]:
    return h.outputs_by_symbol().get(symbol, [])


def _await_marker(h: GateHarness, ts: int, procs: list[subprocess.Popen[bytes]]) -> None:
    """Produce a run for another symbol and wait for its gate: everything before it was processed."""
    h.produce([completed(run_id_for("MARKER", ts, "truth"), ts, symbol="MARKER")])
    deadline = time.monotonic() + 60
    while not any(e.engine_timestamp_ms == ts for e in _gates_for(h, "MARKER")):
        for proc in procs:
            assert proc.poll() is None, h.log_tail(proc)
        assert time.monotonic() < deadline, "marker never gated"
        time.sleep(0.2)


def test_corrupt_record_halts_symbol_until_resume(gate_harness: GateHarness) -> None:
    h = gate_harness
    sym = "BTCUSDT"

    def run(ts: int) -> OrchestratorEvent:
        return completed(run_id_for(sym, ts, "truth"), ts, symbol=sym)

    proc = h.start("gate-0")
    h.wait_for_event(proc, "partitions_assigned")
    h.produce([run(180_000)])
    h.produce_raw(sym.encode(), b"\xc3\x01 definitely not avro")
    h.produce([run(360_000)])
    _await_marker(h, 1, [proc])
    gates = _gates_for(h, sym)
    assert [(e.event_type, e.gate_status) for e in gates] == [
        ("GateEvaluated", "OPEN"),
        ("StateGateHalted", "CLOSED"),
    ]
    halt = gates[-1]
    assert isinstance(halt.payload, StateGateHaltedPayload)
    assert halt.payload.error_kind == "malformed_input"
    (dead,) = h.read_committed(h.dlq)
    assert dead[2] == sym.encode()
    assert dead[3] == b"\xc3\x01 definitely not avro"
    headers = dict(dead[4])
    assert headers["dlq.source.topic"] == h.input.encode()

    metrics = h.metrics_text(proc)
    assert 'xray_dlq_records_total{source_topic="' + h.input + '"} 1.0' in metrics
    assert 'state_gate_failures_total{error_kind="malformed_input"} 1.0' in metrics
    assert "state_gate_halted 1.0" in metrics

    # A restart does not clear the halt.
    assert h.stop(proc) == 0, h.log_tail(proc)
    proc = h.start("gate-0")
    h.produce([run(540_000)])
    _await_marker(h, 2, [proc])
    assert len(_gates_for(h, sym)) == 2

    where = ["--bootstrap", h.bootstrap, "--namespace", h.namespace]
    shown = CliRunner().invoke(gate, ["status", sym, *where])
    assert shown.exit_code == 0, shown.output
    status = orjson.loads(shown.output)
    assert (status["halted"], status["gate_status"], status["halt_error_kind"]) == (
        True,
        "CLOSED",
        "malformed_input",
    )

    result = CliRunner().invoke(gate, ["resume", sym, *where, "--note", "test"])
    assert result.exit_code == 0, result.output
    h.wait_for_event(proc, "state_gate.resumed")
    h.produce([run(720_000)])
    _await_marker(h, 3, [proc])
    assert h.stop(proc) == 0, h.log_tail(proc)
    after = _gates_for(h, sym)[2:]
    assert [(e.event_type, e.gate_status) for e in after] == [
        ("StateReset", "CLOSED"),
        ("GateEvaluated", "OPEN"),
    ]
    assert after[-1].engine_timestamp_ms == 720_000
    status = orjson.loads(CliRunner().invoke(gate, ["status", sym, *where]).output)
    assert (status["halted"], status["gate_status"], status["state_status"]) == (False, "OPEN", "READY")
