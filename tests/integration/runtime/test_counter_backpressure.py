"""A tiny producer queue forces BufferError: input pauses and resumes, nothing is dropped or duplicated."""

from __future__ import annotations

import re
import urllib.request

from xray_runtime.examples.counter_harness import (
    CounterHarness,
    assert_exactly_once,
    expected_counts,
    keyed_input,
)

N_RECORDS = 3000


def test_full_producer_queue_pauses_input_and_loses_nothing(counter_harness: CounterHarness) -> None:
    h = counter_harness
    records = keyed_input(N_RECORDS, 30, seed=3)
    h.produce_input(records)
    # Each output needs a state record too, so 20 queued messages fill up within every batch.
    proc = h.start("bp", XRAY_KAFKA__PRODUCER__QUEUE_BUFFERING_MAX_MESSAGES="20")
    port = int(h.wait_for_event(proc, "http_started")["port"])
    h.wait_committed(h.output, N_RECORDS, [proc], timeout_s=120)

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        metrics = response.read().decode()
    pauses = re.search(r"^xray_backpressure_pauses_total (\S+)$", metrics, re.MULTILINE)
    assert pauses is not None
    assert float(pauses.group(1)) > 0
    assert h.events(proc, "backpressure_paused")
    assert h.stop(proc) == 0, h.log_tail(proc)

    assert_exactly_once(h.read_committed(h.output), expected_counts(records))
    assert h.final_state() == expected_counts(records)
