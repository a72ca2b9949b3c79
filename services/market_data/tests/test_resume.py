"""Resuming a killed replay: Kafka's murmur2 partitioner and the sink that skips what was written."""

from __future__ import annotations

from market_data.contracts import RawMarketEvent
from market_data.resume import SkippingSink, murmur2, partition_for
from market_data.testing import RecordingSink


def event(symbol: str, n: int) -> RawMarketEvent:
    return RawMarketEvent(
        "raw_market_event", "1", "MarkPrice", "sim", symbol, None, n, b"{}", {"mark_price": 1.0}
    )


def test_murmur2_partitions_match_the_java_client() -> None:
    # Checked against librdkafka's murmur2_random on a real broker (6 partitions).
    assert [partition_for(k, 6) for k in (b"BTCUSDT", b"ETHUSDT", b"x", b"ab", b"abc")] == [2, 5, 4, 2, 3]
    assert murmur2(b"BTCUSDT") == 3453253906


def test_skipping_sink_drops_the_first_n_events_of_each_partition() -> None:
    events = [event(s, i) for i in range(5) for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT")]
    skip = {partition_for(b"BTCUSDT", 6): 3, partition_for(b"ETHUSDT", 6): 1}
    inner = RecordingSink()
    sink = SkippingSink(inner, skip, 6)
    for e in events:
        sink.write(e, block=True, timeout_ms=None)
    written = [(e.symbol, e.recv_ts_ms) for e in inner.events]
    assert [n for s, n in written if s == "BTCUSDT"] == [3, 4]
    assert [n for s, n in written if s == "ETHUSDT"] == [1, 2, 3, 4]
    assert [n for s, n in written if s == "SOLUSDT"] == [0, 1, 2, 3, 4]  # partition 3: nothing to skip
    assert sink.skipped == 4
    assert not sink.remaining
