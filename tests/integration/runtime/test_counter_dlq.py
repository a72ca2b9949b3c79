"""A garbage record goes to the DLQ with provenance headers; processing continues; /metrics counts it."""

from __future__ import annotations

import urllib.request

from xray_runtime.dlq import (
    H_ERROR_CLASS,
    H_ERROR_MESSAGE,
    H_SERVICE,
    H_SOURCE_OFFSET,
    H_SOURCE_PARTITION,
    H_SOURCE_TOPIC,
)
from xray_runtime.examples.counter_harness import CounterHarness, assert_exactly_once, expected_counts

GARBAGE = b"\xff\xfe not a number \x00"


def test_garbage_record_lands_in_dlq_and_processing_goes_on(counter_harness: CounterHarness) -> None:
    h = counter_harness
    good_before = [(b"k1", b"1"), (b"k1", b"2"), (b"k1", b"3")]
    good_after = [(b"k1", b"4"), (b"k2", b"5")]
    h.produce_input(good_before)
    h.produce_input([(b"k1", GARBAGE)])
    h.produce_input(good_after)

    # A (harmless, unused) secret in the pass-through must never reach the logs.
    proc = h.start("dlq", XRAY_KAFKA__SSL_KEY_PASSWORD="hunter2-in-logs")
    port = int(h.wait_for_event(proc, "http_started")["port"])
    good = good_before + good_after
    h.wait_committed(h.output, len(good), [proc], timeout_s=60)
    assert_exactly_once(h.read_committed(h.output), expected_counts(good))

    dlq = h.wait_committed(h.dlq, 1, [proc], timeout_s=30)
    assert len(dlq) == 1
    _, _, key, value, headers = dlq[0]
    assert key == b"k1"
    assert value == GARBAGE
    named = {k: v for k, v in headers}
    assert named[H_SERVICE] == b"counter"
    assert named[H_SOURCE_TOPIC] == h.input.encode()
    assert named[H_SOURCE_OFFSET] == b"3"  # after the three good k1 records
    assert int(named[H_SOURCE_PARTITION]) in range(6)
    assert named[H_ERROR_CLASS] == b"UnicodeDecodeError"
    assert named[H_ERROR_MESSAGE]

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        metrics = response.read().decode()
    assert f'xray_dlq_records_total{{source_topic="{h.input}"}} 1.0' in metrics
    for path in ("/healthz", "/readyz"):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            assert response.status == 200
    assert h.stop(proc) == 0, h.log_tail(proc)
    log_text = h.log_tail(proc, lines=10_000)
    assert "hunter2-in-logs" not in log_text
    assert h.events(proc, "client_config")[0]["producer"]["ssl.key.password"] == "**********"
