"""Test doubles for market_data: a recording sink, capturing logger and metrics, a fixed-clock pipeline."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from market_data.config import BackpressureConfig, BackpressurePolicy
from market_data.contracts import RawEventSink, RawMarketEvent
from market_data.kafka_sink import Headers
from market_data.observability import Logger, Metrics, NullLogger, NullMetrics, Observability
from market_data.pipeline import IngestionPipeline


class RecordingSink:
    """Keeps every accepted event and the (block, timeout_ms) of every call."""

    def __init__(self) -> None:
        self.events: list[RawMarketEvent] = []
        self.calls: list[tuple[bool, int | None]] = []

    def write(self, event: RawMarketEvent, *, block: bool, timeout_ms: int | None) -> None:
        """Record the call and the event."""
        self.calls.append((block, timeout_ms))
        self.events.append(event)


class FullQueueProducer:
    """A producer whose local queue accepts `room` records, then raises BufferError like librdkafka."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.records: list[
            tuple[str, bytes | None, bytes | None, list[tuple[str, str | bytes | None]], int]
        ] = []
        self.polls: list[float] = []

    def produce(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        *,
        headers: Headers,
        timestamp: int,
    ) -> None:
        """Queue one record, or raise BufferError when `room` records are queued."""
        if len(self.records) >= self.room:
            raise BufferError("Local: Queue full")
        self.records.append((topic, value, key, headers, timestamp))

    def poll(self, timeout: float) -> int:
        """Record the poll and sleep its timeout (a real poll would wait for deliveries)."""
        self.polls.append(timeout)
        if timeout > 0:
            time.sleep(timeout)
        return 0

    def flush(self, timeout: float) -> int:
        """Nothing is ever undelivered."""
        return 0

    def __len__(self) -> int:
        """Records queued."""
        return len(self.records)


class CapturingLogger:
    """Keeps every structured log record."""

    def __init__(self) -> None:
        self.records: list[tuple[int, str, dict[str, Any]]] = []

    def log(self, level: int, message: str, fields: Mapping[str, Any]) -> None:
        """Record one log call."""
        self.records.append((level, message, dict(fields)))


class CapturingMetrics:
    """Keeps every metric call as (kind, name, value, tags)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float, dict[str, str]]] = []

    def increment(self, name: str, value: float = 1, tags: Mapping[str, str] | None = None) -> None:
        """Record a counter increment."""
        self.calls.append(("increment", name, value, dict(tags or {})))

    def observe(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Record a distribution sample."""
        self.calls.append(("observe", name, value, dict(tags or {})))

    def gauge(self, name: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Record a gauge set."""
        self.calls.append(("gauge", name, value, dict(tags or {})))

    def names(self, kind: str | None = None) -> list[str]:
        """Metric names called, optionally of one kind."""
        return [c[1] for c in self.calls if kind is None or c[0] == kind]

    def total(self, name: str) -> float:
        """Sum of a counter's increments."""
        return sum(c[2] for c in self.calls if c[0] == "increment" and c[1] == name)


def make_pipeline(
    sink: RawEventSink | None = None,
    *,
    policy: BackpressurePolicy = "block",
    max_block_ms: int | None = 50,
    clock_value: int = 500,
    logger: Logger | None = None,
    metrics: Metrics | None = None,
) -> IngestionPipeline:
    """A pipeline with a fixed clock and null (or the given) observability."""
    return IngestionPipeline(
        sink=sink if sink is not None else RecordingSink(),
        backpressure=BackpressureConfig(policy=policy, max_pending=10, max_block_ms=max_block_ms),
        observability=Observability(logger=logger or NullLogger(), metrics=metrics or NullMetrics()),
        clock=lambda: clock_value,
    )


def consume_events(bootstrap: str, topic: str, expected: int, timeout_s: float = 60.0) -> list[Any]:
    """Read `topic` from the start until `expected` records arrived (or the timeout); returns
    (key, headers, decoded RawMarketEvent) tuples in partition order per key."""
    import time
    import uuid

    from confluent_kafka import Consumer, KafkaError
    from xray_contracts.codec import codec_for

    codec = codec_for(RawMarketEvent)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"md-test-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": "false",
            "fetch.max.bytes": "52428800",
        }
    )
    consumer.subscribe([topic])
    out: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(out) < expected and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=5000, timeout=0.5):
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        continue
                    raise RuntimeError(str(err))
                out.append((msg.key(), dict(msg.headers() or []), codec.decode(msg.value() or b"")))
    finally:
        consumer.close()
    return out
