"""The ingestion pipeline: stamp, validate the envelope, hand to the sink under the backpressure policy.

Two ways in: `publish(event)` for RawMarketEvents (every sink), and `publish_encoded(record)` for
records the frame path already encoded (sinks that implement `RecordSink`, i.e. the Kafka sink). Both
apply the same backpressure policy and feed the same metrics.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from market_data.clock import Clock, wall_clock_ms
from market_data.config import BackpressureConfig
from market_data.contracts import (
    REQUIRED_NORMALIZED_KEYS,
    SCHEMA,
    SCHEMA_VERSION,
    BackpressureError,
    RawEventSink,
    RawMarketEvent,
)
from market_data.observability import EventTally, Observability

if TYPE_CHECKING:
    from market_data.avro_encoder import RawMarketEventEncoder

Headers = list[tuple[str, str | bytes | None]]
# Metrics of the encoded path are added in bulk at least every this many records (and on flush).
FOLD_EVERY: Final = 1024


@runtime_checkable
class RecordSink(Protocol):
    """A sink that also takes records already encoded with its own encoder (the frame path)."""

    waited: int  # writes so far that found the queue full and got in after waiting

    def record_encoder(self) -> RawMarketEventEncoder | None:
        """The encoder whose bytes this sink writes, or None when it encodes some other way."""
        ...

    def record_key(self, symbol: str) -> bytes:
        """The record key of a symbol."""
        ...

    def record_headers(self, schema: str, schema_version: str, event_type: str, source_id: str) -> Headers:
        """The record headers of one kind of event."""
        ...

    def try_write_record(self, value: bytes, key: bytes, headers: Headers, timestamp: int) -> bool:
        """Queue one record if there is room now; False (nothing queued) when the queue is full."""
        ...

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
        """After a full queue: wait up to `timeout_ms` for room (block) or refuse (BackpressureError)."""
        ...


@dataclass(slots=True, eq=False)
class RecordTarget:
    """The constant parts of the records of one (event type, source, symbol): key, headers, tally."""

    event_type: str
    source_id: str
    symbol: str
    key: bytes
    headers: Headers
    tally: EventTally
    latency: Callable[[int], None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.latency = self.tally.latency  # one attribute hop less per record


def _no_record_sink(value: bytes, key: bytes, headers: Headers, timestamp: int) -> bool:
    raise TypeError("the sink does not take encoded records")


# (value, target, recv_ts_ms, exchange_ts_ms): one encoded record of the frame path
EncodedEvent = tuple[bytes, RecordTarget, int, int]


class IngestionPipeline:
    """Builds RawMarketEvents and writes them to the sink; counts and re-raises backpressure."""

    def __init__(
        self,
        *,
        sink: RawEventSink,
        backpressure: BackpressureConfig,
        observability: Observability,
        clock: Clock = wall_clock_ms,
    ) -> None:
        self.backpressure = backpressure
        self.observability = observability
        self.clock = clock
        self._block = backpressure.policy == "block"
        self._timeout_ms: int | None = backpressure.max_block_ms if self._block else 0
        self.sink = sink
        self._unfolded = 0

    @property
    def sink(self) -> RawEventSink:
        """Where events go."""
        return self._sink

    @sink.setter
    def sink(self, sink: RawEventSink) -> None:
        # The encoded-record path binds to the sink too: a wrapper that only takes events (e.g. the
        # resume filter) must not be bypassed by records written straight to the sink underneath.
        self._sink = sink
        self._records: RecordSink | None = sink if isinstance(sink, RecordSink) else None
        self._try_write = self._records.try_write_record if self._records is not None else _no_record_sink

    def ingest(
        self,
        *,
        event_type: str,
        source_id: str,
        symbol: str,
        exchange_ts_ms: int | None,
        raw_payload: bytes,
        normalized: Mapping[str, Any],
        source_event_id: str | None = None,
        source_seq: int | None = None,
        channel: str | None = None,
        payload_content_type: str | None = None,
        payload_hash: str | None = None,
        recv_ts_ms: int | None = None,
    ) -> RawMarketEvent:
        """Validate and emit one event; `recv_ts_ms` defaults to the clock read once here."""
        stamped = self.clock() if recv_ts_ms is None else recv_ts_ms
        required = REQUIRED_NORMALIZED_KEYS.get(event_type)
        if required is None:
            raise ValueError(f"unsupported event_type: {event_type}")
        missing = sorted(k for k in required if k not in normalized)
        if missing:
            raise ValueError(f"missing normalized keys for {event_type}: {', '.join(missing)}")
        event = RawMarketEvent(
            SCHEMA,
            SCHEMA_VERSION,
            event_type,
            source_id,
            symbol,
            exchange_ts_ms,
            stamped,
            raw_payload,
            normalized,
            source_event_id,
            source_seq,
            channel,
            payload_content_type,
            payload_hash,
        )
        self.publish(event)
        return event

    def publish(self, event: RawMarketEvent) -> None:
        """Write an already-built, already-valid event to the sink (the decoders' fast path)."""
        if not self._block:
            try:
                self.sink.write(event, block=False, timeout_ms=0)
            except BackpressureError:
                self.observability.record_backpressure(event.source_id, 0, refused=True)
                raise
            self.observability.record_event(event)
            return
        records = self._records
        waited_before = records.waited if records is not None else 0
        started = time.monotonic_ns()
        try:
            self.sink.write(event, block=True, timeout_ms=self._timeout_ms)
        except BackpressureError:
            blocked = (time.monotonic_ns() - started) // 1_000_000
            self.observability.record_backpressure(event.source_id, blocked, refused=True)
            raise
        blocked = (time.monotonic_ns() - started) // 1_000_000
        # A RecordSink says whether it waited; for other sinks a write that took >= 1 ms counts.
        if (records.waited != waited_before) if records is not None else blocked > 0:
            self.observability.record_backpressure(event.source_id, blocked, refused=False)
        self.observability.record_event(event)

    # ---- the frame path: records already encoded --------------------------------------------------

    def record_encoder(self) -> RawMarketEventEncoder | None:
        """The encoder records must be written with, or None when only `publish(event)` applies."""
        if self._records is None or self.observability.logs_events:
            return None
        return self._records.record_encoder()

    def record_target(self, event_type: str, source_id: str, symbol: str) -> RecordTarget:
        """Key, headers and tally of one series of encoded records (needs a RecordSink)."""
        sink = self._records
        if sink is None:
            raise TypeError("the sink does not take encoded records")
        return RecordTarget(
            event_type,
            source_id,
            symbol,
            sink.record_key(symbol),
            sink.record_headers(SCHEMA, SCHEMA_VERSION, event_type, source_id),
            self.observability.event_tally(source_id, event_type, symbol),
        )

    def publish_encoded(self, record: EncodedEvent) -> None:
        """Write one encoded record under the backpressure policy; counted like `publish`."""
        value, target, recv, ts = record
        if not self._try_write(value, target.key, target.headers, recv):
            self._write_record_waiting(record)
        target.latency(recv - ts)
        self._unfolded += 1
        if self._unfolded >= FOLD_EVERY:
            self.flush_metrics()

    def _write_record_waiting(self, record: EncodedEvent) -> None:
        """The queue was full: wait (block) or refuse (fail), timed and counted as in `publish`."""
        value, target, recv, _ = record
        sink = self._records
        assert sink is not None  # a full queue was reported by a RecordSink
        started = time.monotonic_ns()
        try:
            sink.wait_and_write_record(
                value, target.key, target.headers, recv, block=self._block, timeout_ms=self._timeout_ms
            )
        except BackpressureError:
            blocked = (time.monotonic_ns() - started) // 1_000_000
            self.observability.record_backpressure(target.source_id, blocked, refused=True)
            raise
        blocked = (time.monotonic_ns() - started) // 1_000_000
        self.observability.record_backpressure(target.source_id, blocked, refused=False)

    def flush_metrics(self) -> None:
        """Add the encoded path's pending counts and latencies to the metrics (ingest thread only)."""
        self._unfolded = 0
        self.observability.fold()
