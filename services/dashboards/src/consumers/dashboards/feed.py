"""The dashboard's Kafka reader: assigned (no group, no commits), read_committed, history first.

On start every partition of the three core topics is assigned at `high watermark - history_records`,
so a fresh dashboard replays the recent past and shows the current picture within seconds; then it
simply keeps reading. Lag is what the topics say: the high watermark (last stable offset, as a
read_committed reader sees it) minus the consumed position, per topic. Record times are the records'
Kafka timestamps. The optional price feed reads raw_market_event the same way but decodes only the
newest price-bearing record per symbol and time bucket (chosen by header and record timestamp).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, cast

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from consumers.dashboards.builder import PRICE_KEYS, DashboardBuilder
from consumers.dashboards.observability import ERROR_INGEST, ERROR_INVALID_SCHEMA
from consumers.dashboards.telemetry import (
    STREAM_ANALYSIS,
    STREAM_MARKET,
    STREAM_ORCHESTRATOR,
    STREAM_STATE_GATE,
)
from xray_contracts import catalogue
from xray_contracts.analysis_engine import AnalysisEngineEvent
from xray_contracts.codec import (
    HEADER_EVENT_TYPE,
    CodecSet,
    DecodeError,
    UnknownFramingError,
    UnknownSchemaError,
)
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_contracts.raw_market_event import RawMarketEvent
from xray_contracts.state_gate import StateGateEvent
from xray_runtime.clients import reader_config
from xray_runtime.config import ServiceSettings
from xray_runtime.logs import get_logger

_log = get_logger("dashboards.feed")

CORE_TOPICS: Final[Mapping[str, catalogue.TopicSpec]] = {
    STREAM_ORCHESTRATOR: catalogue.ORCHESTRATOR_EVENT,
    STREAM_STATE_GATE: catalogue.STATE_GATE_EVENT,
    STREAM_ANALYSIS: catalogue.ANALYSIS_ENGINE_EVENT,
}
_PRICE_TYPES: Final = frozenset(t.encode() for t in PRICE_KEYS)
_METADATA_TIMEOUT_S: Final = 5.0
_REDISCOVER_S: Final = 5.0


def _header(msg: Message, name: str) -> bytes | None:
    headers = cast(list[tuple[str, bytes | None]], msg.headers() or [])
    for key, value in headers:
        if key == name:
            return value
    return None


def _failure_kind(error: Exception) -> str:
    return (
        ERROR_INVALID_SCHEMA if isinstance(error, UnknownSchemaError | UnknownFramingError) else ERROR_INGEST
    )


@dataclass(slots=True)
class PartitionPosition:
    """Where the reader is on one partition."""

    start: int
    high: int
    at_end: bool = False


@dataclass(slots=True)
class PriceSampler:
    """Holds the newest undecoded price record per symbol until its time bucket is over."""

    bucket_ms: int
    pending: dict[bytes, tuple[int, int, bytes]] = field(default_factory=dict)

    def offer(self, key: bytes, ts_ms: int, value: bytes) -> tuple[int, bytes] | None:
        """Keep this record; return the one it replaces if that closed an earlier bucket."""
        bucket = ts_ms // self.bucket_ms
        held = self.pending.get(key)
        self.pending[key] = (bucket, ts_ms, value)
        if held is not None and held[0] < bucket:
            return held[1], held[2]
        return None

    def drain(self) -> list[tuple[int, bytes]]:
        """Every held record (the newest price so far of each symbol); they stay held for their bucket."""
        return [(ts, value) for _, ts, value in self.pending.values()]


class KafkaFeed:
    """Reads the dashboard's topics into a builder."""

    def __init__(
        self,
        settings: ServiceSettings,
        builder: DashboardBuilder,
        codecs: CodecSet,
        *,
        history_records: int,
        price_feed: bool,
        price_history_records: int,
        price_bucket_ms: int,
        consumer_factory: Callable[[dict[str, str]], Consumer] = Consumer,
    ) -> None:
        """Nothing connects until `discover()`."""
        self._builder = builder
        ns = settings.namespace
        self._topics: dict[str, str] = {stream: spec.topic(ns) for stream, spec in CORE_TOPICS.items()}
        self._history: dict[str, int] = dict.fromkeys(self._topics, history_records)
        if price_feed:
            self._topics[STREAM_MARKET] = catalogue.RAW_MARKET_EVENT.topic(ns)
            self._history[STREAM_MARKET] = price_history_records
        self._stream_of = {topic: stream for stream, topic in self._topics.items()}
        self._decoders: dict[str, Callable[[bytes], Any]] = {
            STREAM_ORCHESTRATOR: codecs.for_type(OrchestratorEvent).decode,
            STREAM_STATE_GATE: codecs.for_type(StateGateEvent).decode,
            STREAM_ANALYSIS: codecs.for_type(AnalysisEngineEvent).decode,
            STREAM_MARKET: codecs.for_type(RawMarketEvent).decode,
        }
        props = reader_config(settings, "dashboards")
        props["enable.partition.eof"] = "true"
        self._consumer = consumer_factory(props)
        self._positions: dict[tuple[str, int], PartitionPosition] = {}
        self._assigned_topics: set[str] = set()
        self._next_discovery = 0.0
        self._sampler = PriceSampler(price_bucket_ms)
        self.records = 0

    @property
    def missing_topics(self) -> list[str]:
        """Topics not found yet (the service keeps looking)."""
        return sorted(set(self._topics.values()) - self._assigned_topics)

    def discover(self) -> None:
        """Assign the partitions of every topic that exists and is not assigned yet."""
        now = time.monotonic()
        if now < self._next_discovery or not self.missing_topics:
            return
        self._next_discovery = now + _REDISCOVER_S
        try:
            metadata = self._consumer.list_topics(timeout=_METADATA_TIMEOUT_S).topics
        except KafkaException as error:
            _log.warning("metadata_failed", error=str(error))
            return
        assignment: list[TopicPartition] = []
        for stream, topic in self._topics.items():
            info = metadata.get(topic)
            if topic in self._assigned_topics or info is None or info.error is not None:
                continue
            try:
                marks = {
                    p: self._consumer.get_watermark_offsets(
                        TopicPartition(topic, p), timeout=_METADATA_TIMEOUT_S
                    )
                    for p in sorted(info.partitions)
                }
            except KafkaException as error:  # e.g. a new topic whose leaders are still being elected
                _log.warning("watermarks_failed", topic=topic, error=str(error))
                continue  # the next discovery tries the topic again
            for partition, (low, high) in marks.items():
                start = max(int(low), int(high) - self._history[stream])
                self._positions[(topic, partition)] = PartitionPosition(
                    start, int(high), at_end=start >= high
                )
                assignment.append(TopicPartition(topic, partition, start))
            self._assigned_topics.add(topic)
            _log.info("topic_assigned", topic=topic, partitions=len(info.partitions))
        if assignment:
            self._consumer.incremental_assign(assignment)

    def poll(self, timeout_s: float, max_records: int = 2000) -> int:
        """Consume what is there (waiting at most `timeout_s`) into the builder; return records read."""
        self.discover()
        messages = self._consumer.consume(max_records, timeout=timeout_s)
        market_skipped = 0
        market_newest: int | None = None
        read = 0
        for msg in messages:
            topic = cast(str, msg.topic())
            position = self._positions.get((topic, cast(int, msg.partition())))
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    if position is not None:
                        position.at_end = True
                    continue
                _log.warning("consume_error", topic=topic, error=str(error))
                continue
            if position is not None:
                position.at_end = False
            read += 1
            stream = self._stream_of.get(topic)
            ts_ms = int(msg.timestamp()[1])
            if stream == STREAM_MARKET:
                if _header(msg, HEADER_EVENT_TYPE) in _PRICE_TYPES and msg.key():
                    closed = self._sampler.offer(cast(bytes, msg.key()), ts_ms, msg.value() or b"")
                    if closed is not None:
                        self._ingest(STREAM_MARKET, closed[1], closed[0])
                        market_skipped -= 1
                market_skipped += 1
                market_newest = ts_ms if market_newest is None else max(market_newest, ts_ms)
            elif stream is not None:
                self._ingest(stream, msg.value() or b"", ts_ms)
        if market_skipped:
            self._builder.note_market_records(market_skipped, market_newest)
        self.records += read
        return read

    def flush_prices(self) -> None:
        """Hand the builder the newest held price of every symbol (called before each frame)."""
        for ts_ms, value in self._sampler.drain():
            self._ingest(STREAM_MARKET, value, ts_ms, count=False)

    def _ingest(self, stream: str, value: bytes, ts_ms: int, count: bool = True) -> None:
        try:
            event = self._decoders[stream](value)
        except DecodeError as error:
            self._builder.record_ingest_failure(
                stream, _failure_kind(error), f"{type(error).__name__}: {error}"
            )
            return
        builder = self._builder
        if stream == STREAM_ORCHESTRATOR:
            builder.ingest_orchestrator_event(event, record_ts_ms=ts_ms)
        elif stream == STREAM_STATE_GATE:
            builder.ingest_state_gate_event(event, record_ts_ms=ts_ms)
        elif stream == STREAM_ANALYSIS:
            builder.ingest_analysis_engine_event(event, record_ts_ms=ts_ms)
        elif count:
            builder.ingest_market_event(event, record_ts_ms=ts_ms)
        else:
            builder.ingest_market_event(event, record_ts_ms=ts_ms, count=False)

    def report_positions(self) -> None:
        """Per stream: lag (high watermark minus position, 0 where the reader hit the end) and caught-up."""
        by_stream: dict[str, list[tuple[TopicPartition, PartitionPosition]]] = {}
        for (topic, partition), pos in self._positions.items():
            by_stream.setdefault(self._stream_of[topic], []).append((TopicPartition(topic, partition), pos))
        for stream in self._topics:
            entries = by_stream.get(stream)
            if not entries:
                self._builder.observe_stream_position(stream, lag_records=None, caught_up=None)
                continue
            positions = self._consumer.position([tp for tp, _ in entries])
            lag = 0
            known = True
            for (tp, pos), current in zip(entries, positions, strict=True):
                if pos.at_end:
                    continue  # transaction markers can sit past the last record: the end is the end
                _, cached = self._consumer.get_watermark_offsets(tp, cached=True)
                if cached >= 0:
                    pos.high = max(pos.high, int(cached))  # fetch responses carry the newest watermark
                offset = current.offset if current.offset >= 0 else pos.start
                if pos.high < 0:
                    known = False
                    continue
                lag += max(0, pos.high - int(offset))
            caught_up = all(pos.at_end for _, pos in entries)
            self._builder.observe_stream_position(
                stream, lag_records=lag if known else None, caught_up=caught_up
            )

    def close(self) -> None:
        """Leave the assignment and close the connection (nothing to commit: the dashboard is read-only)."""
        self._consumer.close()
