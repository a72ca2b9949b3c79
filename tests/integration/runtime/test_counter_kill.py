"""Exactly-once under SIGKILL: 50,000 keyed records through the counter, killed at >= 5 random points."""

from __future__ import annotations

import random
import signal

from xray_runtime.examples.counter_harness import (
    CounterHarness,
    assert_exactly_once,
    expected_counts,
    keyed_input,
)

N_RECORDS = 50_000
N_KEYS = 200
N_KILLS = 5
SEED = 20261124


def test_killed_counter_outputs_each_record_exactly_once(counter_harness: CounterHarness) -> None:
    h = counter_harness
    records = keyed_input(N_RECORDS, N_KEYS, SEED)
    expected = expected_counts(records)
    h.produce_input(records)
    rng = random.Random(SEED)
    # Each incarnation is killed after a seeded random amount of its own output (uncommitted records
    # included), so every kill lands mid-stream, usually inside an open transaction.
    for _ in range(N_KILLS):
        base = h.progress(h.output)
        proc = h.start("solo")
        h.wait_progress(h.output, base + rng.randrange(1_500, 7_000), [proc])
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL

    final = h.start("solo")
    rows = h.wait_committed(h.output, N_RECORDS, [final], timeout_s=180)
    assert h.stop(final) == 0, h.log_tail(final)

    rows = h.read_committed(h.output)
    assert len(rows) == N_RECORDS
    assert_exactly_once(rows, expected)
    assert h.final_state() == expected
    assert h.read_committed(h.dlq) == []
    assert sum(len(h.events(p, "rebalance_inside_transaction")) for p in h.procs) == 0
    # Every restart rebuilt its counts from the compacted topic before processing.
    assert len(h.procs) == N_KILLS + 1
    restored = [h.events(proc, "store_restored") for proc in h.procs[1:]]
    assert all(restored)
    assert all(int(events[0]["records"]) > 0 for events in restored[1:])
