"""Two counter instances in one group; one stops mid-stream; the survivor restores and finishes the job."""

from __future__ import annotations

import signal
import threading

import pytest
from xray_runtime.examples.counter_harness import (
    CounterHarness,
    assert_exactly_once,
    expected_counts,
    keyed_input,
)

N_RECORDS = 12_000
N_KEYS = 120


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_survivor_takes_over_moved_partitions(counter_harness: CounterHarness, stop_signal: int) -> None:
    h = counter_harness
    records = keyed_input(N_RECORDS, N_KEYS, seed=7)
    expected = expected_counts(records)

    leaver = h.start("leaver")
    h.wait_for_event(leaver, "partitions_assigned")
    survivor = h.start("survivor")
    # Both members own partitions once the survivor's join has rebalanced the group.
    h.wait_for_event(survivor, "partitions_assigned")

    # Feed the input at a pace, so the stop lands while records are flowing.
    feeder = threading.Thread(target=h.produce_input, args=(records,), kwargs={"pace_s": 0.15, "chunk": 500})
    feeder.start()
    try:
        h.wait_progress(h.output, N_RECORDS // 3, [leaver, survivor])
        code = h.stop(leaver, stop_signal)
        assert code == (0 if stop_signal == signal.SIGTERM else -signal.SIGKILL), h.log_tail(leaver)
    finally:
        feeder.join()

    h.wait_committed(h.output, N_RECORDS, [survivor], timeout_s=120)
    assert h.stop(survivor) == 0, h.log_tail(survivor)

    rows = h.read_committed(h.output)
    assert len(rows) == N_RECORDS
    assert_exactly_once(rows, expected)
    assert h.final_state() == expected

    # The survivor ended up owning every partition, and restored the moved ones' state from the topic.
    assigned = h.events(survivor, "partitions_assigned")
    assert len({tuple(p[:2]) for p in assigned[-1]["partitions"]}) == 6
    restored = h.events(survivor, "store_restored")
    assert any(int(e["records"]) > 0 for e in restored)
    assert sum(len(h.events(p, "rebalance_inside_transaction")) for p in h.procs) == 0
