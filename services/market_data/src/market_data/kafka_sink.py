"""The Kafka sink: RawMarketEvent -> one keyed, headed, Avro-encoded record; backpressure from the queue."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from market_data.avro_encoder import RawMarketEventEncoder
from market_data.contracts import BackpressureError, RawMarketEvent

Encoder = Callable[[RawMarketEvent], bytes]
Headers = list[tuple[str, str | bytes | None]]

# librdkafka settings this sink relies on; pass-through settings may tune but not remove them.
PRODUCER_SETTINGS: Mapping[str, str | bool] = {
    "enable.idempotence": "true",
    "acks": "all",
    "compression.type": "lz4",
    # Frames arrive in bursts of a few per ms; 20 ms fills lz4 batches well for ~1 ms of extra latency p50.
    "linger.ms": "20",
    "batch.size": "1000000",
    "partitioner": "murmur2_random",
    # Only failed deliveries call back: successes cost nothing per record.
    "delivery.report.only.error": True,  # a client-side setting: confluent-kafka wants a bool
}


class DeliveryFailedError(RuntimeError):
    """The producer gave up on a record after its retries: an accepted event was lost."""


class ProducerLike(Protocol):
    """The part of confluent_kafka.Producer the sink uses."""

    def produce(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        *,
        headers: Headers,
        timestamp: int,
    ) -> None:
        """Queue one record; raises BufferError when the local queue is full."""
        ...

    def poll(self, timeout: float) -> int:
        """Serve delivery callbacks."""
        ...

    def flush(self, timeout: float) -> int:
        """Wait for queued records; returns how many are still queued."""
        ...

    def __len__(self) -> int:
        """Records queued or in flight."""
        ...


def producer_settings(
    bootstrap_servers: str, max_pending: int, overrides: Mapping[str, str] | None = None
) -> dict[str, str | bool]:
    """librdkafka properties of the ingestion producer; `max_pending` bounds the local queue."""
    props: dict[str, str | bool] = {"bootstrap.servers": bootstrap_servers, **PRODUCER_SETTINGS}
    props["queue.buffering.max.messages"] = str(max_pending)
    props.update(overrides or {})
    return props


class DeliveryTracker:
    """Counts records the producer reported as failed (the producer-level `on_delivery` callback)."""

    def __init__(self) -> None:
        self.failures = 0
        self.last_error: str | None = None
        self._lock = threading.Lock()

    def __call__(self, err: Any, msg: Any) -> None:
        """librdkafka delivery report; with `delivery.report.only.error` only failures arrive."""
        if err is not None:
            with self._lock:
                self.failures += 1
                self.last_error = str(err)


class KafkaEventSink:
    """RawEventSink on a Kafka producer: key = symbol, headers schema/schema_version/event_type.

    Also a `RecordSink` (market_data.pipeline) when its encoder is a RawMarketEventEncoder: the frame
    path then hands it records it encoded itself with that encoder.
    """

    def __init__(
        self,
        producer: ProducerLike,
        topic: str,
        encode: Encoder,
        *,
        delivery: DeliveryTracker | None = None,
        poll_every: int = 1000,
    ) -> None:
        self.producer = producer
        self.topic = topic
        self.encode = encode
        self.delivery = delivery or DeliveryTracker()
        self.poll_every = poll_every
        self.written = 0
        self.refused = 0
        self.waited = 0  # writes that found the queue full and got in after waiting
        self._keys: dict[str, bytes] = {}
        self._headers: dict[tuple[str, str, str, str], Headers] = {}
        owner = getattr(encode, "__self__", encode)  # the encoder itself or its bound `encode`
        self._record_encoder = owner if isinstance(owner, RawMarketEventEncoder) else None
        self._produce = producer.produce

    def headers_for(self, event: RawMarketEvent) -> Headers:
        """Record headers schema/schema_version/event_type/source_id (cached per combination)."""
        return self.record_headers(event.schema, event.schema_version, event.event_type, event.source_id)

    def record_headers(self, schema: str, schema_version: str, event_type: str, source_id: str) -> Headers:
        """Record headers of one kind of event (cached per combination)."""
        cache_key = (schema, schema_version, event_type, source_id)
        headers = self._headers.get(cache_key)
        if headers is None:
            headers = [
                ("schema", schema.encode()),
                ("schema_version", schema_version.encode()),
                ("event_type", event_type.encode()),
                ("source_id", source_id.encode()),
            ]
            if len(self._headers) < 10_000:
                self._headers[cache_key] = headers
        return headers

    def record_key(self, symbol: str) -> bytes:
        """The record key: the symbol as UTF-8."""
        key = self._keys.get(symbol)
        if key is None:
            key = symbol.encode()
            if len(self._keys) < 100_000:
                self._keys[symbol] = key
        return key

    def record_encoder(self) -> RawMarketEventEncoder | None:
        """The RawMarketEventEncoder this sink encodes with, if that is what it was given."""
        return self._record_encoder

    def try_write_record(self, value: bytes, key: bytes, headers: Headers, timestamp: int) -> bool:
        """Queue one encoded record if the local queue has room; False when it is full."""
        if self.delivery.failures:
            raise DeliveryFailedError(f"{self.delivery.failures} record(s) lost: {self.delivery.last_error}")
        try:
            self._produce(self.topic, value, key, headers=headers, timestamp=timestamp)
        except BufferError:
            return False
        self.written += 1
        if self.written % self.poll_every == 0:
            self.producer.poll(0)
        return True

    def wait_and_write_record(
        self,
        value: bytes,
        key: bytes,
        headers: Headers,
        timestamp: int,
        *,
        block: bool,
        timeout_ms: int | None,
    ) -> None:
        """After `try_write_record` found the queue full: wait up to `timeout_ms` for room (block) or
        refuse at once (fail), as `write` does."""
        self._wait_and_retry(value, key, headers, timestamp, block=block, timeout_ms=timeout_ms)
        self._count_written()

    def write(self, event: RawMarketEvent, *, block: bool, timeout_ms: int | None) -> None:
        """Queue one record; when the queue is full wait up to `timeout_ms` (block) or refuse at once."""
        if self.delivery.failures:
            raise DeliveryFailedError(f"{self.delivery.failures} record(s) lost: {self.delivery.last_error}")
        value = self.encode(event)
        key = self.record_key(event.symbol)
        headers = self.headers_for(event)
        try:
            self._produce(self.topic, value, key, headers=headers, timestamp=event.recv_ts_ms)
        except BufferError:
            self._wait_and_retry(value, key, headers, event.recv_ts_ms, block=block, timeout_ms=timeout_ms)
        self._count_written()

    def _count_written(self) -> None:
        self.written += 1
        if self.written % self.poll_every == 0:
            self.producer.poll(0)

    def _wait_and_retry(
        self, value: bytes, key: bytes, headers: Headers, ts: int, *, block: bool, timeout_ms: int | None
    ) -> None:
        if not block:
            self.refused += 1
            self.producer.poll(0)
            raise BackpressureError("producer queue full")
        deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000
        while True:
            remaining = 0.05 if deadline is None else min(0.05, deadline - time.monotonic())
            if remaining <= 0:
                self.refused += 1
                raise BackpressureError(f"producer queue still full after {timeout_ms} ms")
            self.producer.poll(remaining)
            try:
                self.producer.produce(self.topic, value, key, headers=headers, timestamp=ts)
            except BufferError:
                continue
            self.waited += 1
            return

    def queue_depth(self) -> int:
        """Records queued locally or in flight."""
        return len(self.producer)

    def flush(self, timeout_s: float) -> int:
        """Deliver what is queued (bounded wait); returns how many records are still undelivered."""
        return self.producer.flush(timeout_s)
