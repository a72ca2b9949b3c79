"""The sink's backpressure against a producer whose queue is full (unit level; the broker tests are in
tests/integration/market_data)."""

from __future__ import annotations

import time

import pytest
from market_data.contracts import SCHEMA, SCHEMA_VERSION, BackpressureError, RawMarketEvent
from market_data.kafka_sink import (
    DeliveryFailedError,
    DeliveryTracker,
    KafkaEventSink,
    producer_settings,
)
from market_data.testing import FullQueueProducer


def event(symbol: str = "BTCUSDT") -> RawMarketEvent:
    return RawMarketEvent(
        SCHEMA, SCHEMA_VERSION, "MarkPrice", "binance", symbol, 1, 2, b"{}", {"mark_price": 1.0}
    )


def test_record_shape() -> None:
    producer = FullQueueProducer(10)
    sink = KafkaEventSink(producer, "ns.raw_market_event.v1", lambda e: b"v:" + e.symbol.encode())
    sink.write(event(), block=False, timeout_ms=0)
    topic, value, key, headers, ts = producer.records[0]
    assert (topic, value, key, ts) == ("ns.raw_market_event.v1", b"v:BTCUSDT", b"BTCUSDT", 2)
    assert dict(headers) == {
        "schema": b"raw_market_event",
        "schema_version": b"1",
        "event_type": b"MarkPrice",
        "source_id": b"binance",
    }


def test_fail_refuses_at_once_and_block_waits_bounded() -> None:
    producer = FullQueueProducer(0)
    sink = KafkaEventSink(producer, "t", lambda e: b"")
    started = time.monotonic()
    with pytest.raises(BackpressureError):
        sink.write(event(), block=False, timeout_ms=0)
    assert producer.polls == [0]
    with pytest.raises(BackpressureError):
        sink.write(event(), block=True, timeout_ms=120)
    waited = sum(producer.polls)
    assert 0.1 <= waited <= 0.2  # the polls, not the wall clock, prove the bounded wait
    assert sink.refused == 2
    del started


def test_block_succeeds_when_room_appears() -> None:
    producer = FullQueueProducer(0)
    sink = KafkaEventSink(producer, "t", lambda e: b"")
    original_poll = producer.poll

    def poll_frees_room(timeout: float) -> int:
        producer.room = 1
        return original_poll(0)

    producer.poll = poll_frees_room  # type: ignore[method-assign]
    sink.write(event(), block=True, timeout_ms=1000)
    assert len(producer.records) == 1
    assert sink.refused == 0


def test_lost_delivery_is_fatal() -> None:
    tracker = DeliveryTracker()
    sink = KafkaEventSink(FullQueueProducer(10), "t", lambda e: b"", delivery=tracker)
    tracker("Local: Message timed out", None)
    with pytest.raises(DeliveryFailedError):
        sink.write(event(), block=True, timeout_ms=10)


def test_producer_settings() -> None:
    props = producer_settings("b:1", 500, {"linger.ms": "5"})
    assert props["enable.idempotence"] == "true"
    assert props["acks"] == "all"
    assert props["compression.type"] == "lz4"
    assert props["partitioner"] == "murmur2_random"
    assert props["queue.buffering.max.messages"] == "500"
    assert props["linger.ms"] == "5"
