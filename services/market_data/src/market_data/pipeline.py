"""The ingestion pipeline: stamp, validate the envelope, hand to the sink under the backpressure policy."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

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
from market_data.observability import Observability


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
        self.sink = sink
        self.backpressure = backpressure
        self.observability = observability
        self.clock = clock
        self._block = backpressure.policy == "block"
        self._timeout_ms: int | None = backpressure.max_block_ms if self._block else 0

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
        started = time.monotonic_ns()
        try:
            self.sink.write(event, block=True, timeout_ms=self._timeout_ms)
        except BackpressureError:
            blocked = (time.monotonic_ns() - started) // 1_000_000
            self.observability.record_backpressure(event.source_id, blocked, refused=True)
            raise
        blocked = (time.monotonic_ns() - started) // 1_000_000
        if blocked > 0:
            self.observability.record_backpressure(event.source_id, blocked, refused=False)
        self.observability.record_event(event)
