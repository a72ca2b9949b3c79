"""Records of the frame path: same records, same metrics and the same backpressure as events."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import orjson
import pytest
from market_data.avro_encoder import RawMarketEventEncoder
from market_data.binance.adapter import BinanceUsdmAdapter
from market_data.binance.frame_encoder import FrameEncoder
from market_data.config import BackpressureConfig, BinanceFeedConfig, RetryPolicy, SymbolStreams
from market_data.contracts import BackpressureError, RawMarketEvent
from market_data.fake_exchange import FakeBinanceExchange
from market_data.kafka_sink import KafkaEventSink
from market_data.observability import DEBUG, WARNING, NullLogger, Observability
from market_data.pipeline import FOLD_EVERY, IngestionPipeline
from market_data.prometheus import PrometheusMetrics
from market_data.recording import RecordedFrame
from market_data.replay import RecordingFeed
from market_data.resume import SkippingSink, partition_for
from market_data.testing import CapturingLogger, CapturingMetrics, FullQueueProducer
from market_data.testing_fuzz import BASE_FRAMES, mutated_frames
from prometheus_client import CollectorRegistry, generate_latest
from xray_contracts.codec import codec_for

E = 1_723_161_256_359
CODEC = codec_for(RawMarketEvent)
OI_BODY = b'{"symbol":"BTCUSDT","openInterest":"10659.509","time":1589437530011}'
EVENTS = "market_data.events.count"
TAGS = {"source_id": "binance", "event_type": "BookTop", "symbol": "BTCUSDT"}


def live_like_frames(rounds: int) -> list[RecordedFrame]:
    """Every stream kind with real magnitudes, a few broken frames and a REST body, in time order."""
    out: list[RecordedFrame] = []
    broken = mutated_frames(rounds, seed=3)
    for i in range(rounds):
        recv_ns = (E + 1500 + i) * 1_000_000
        for stream, data in BASE_FRAMES.items():
            body = {**data}
            for key in ("E", "T", "u"):
                if key in body:
                    body[key] = E + i if key != "u" else 5_000_000_000_000 + i
            payload = orjson.dumps({"stream": stream, "data": body})
            out.append(RecordedFrame(recv_ns, "ws", payload))
        out.append(RecordedFrame(recv_ns, "ws", broken[i]))
    out.append(RecordedFrame((E + 1500 + rounds) * 1_000_000, "rest", OI_BODY))
    return out


def pipeline_on(
    producer: FullQueueProducer,
    *,
    frame_path: bool,
    policy: Any = "block",
    max_block_ms: int = 50,
    metrics: Any = None,
    logger: Any = None,
) -> IngestionPipeline:
    encoder = RawMarketEventEncoder()

    def plain(event: RawMarketEvent) -> bytes:  # same bytes, but the sink then takes whole events only
        return encoder.encode(event)

    return IngestionPipeline(
        sink=KafkaEventSink(producer, "t", encoder if frame_path else plain),
        backpressure=BackpressureConfig(policy=policy, max_pending=10, max_block_ms=max_block_ms),
        observability=Observability(logger or NullLogger(), metrics or CapturingMetrics()),
    )


def metrics_text(frame_path: bool, frames: list[RecordedFrame]) -> tuple[str, list[Any], dict[str, int]]:
    registry = CollectorRegistry()
    producer = FullQueueProducer(10**6)
    pipeline = pipeline_on(producer, frame_path=frame_path, metrics=PrometheusMetrics(registry))
    feed = RecordingFeed(pipeline)
    assert (feed.frame_encoder is not None) == frame_path
    stats = feed.run(frames)
    return generate_latest(registry).decode(), producer.records, stats.by_event_type


def test_frame_path_writes_the_same_records_and_metrics_as_the_event_path() -> None:
    frames = live_like_frames(300)
    fast_metrics, fast_records, fast_counts = metrics_text(True, frames)
    slow_metrics, slow_records, slow_counts = metrics_text(False, frames)
    assert len(fast_records) == len(slow_records) > 3000
    assert fast_records == slow_records  # topic, value, key, headers, timestamp, in order
    assert fast_counts == slow_counts
    assert fast_metrics == slow_metrics
    assert 'event_type="BookTop",source_id="binance",symbol="BTCUSDT"} 300.0' in fast_metrics


def test_metrics_fold_in_bulk_and_on_flush() -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry)
    pipeline = pipeline_on(FullQueueProducer(10**6), frame_path=True, metrics=metrics)
    fast = FrameEncoder.for_pipeline(pipeline, RecordingFeed(pipeline).decoder)
    assert fast is not None
    frame = orjson.dumps(
        {"stream": "btcusdt@bookTicker", "data": {**BASE_FRAMES["btcusdt@bookTicker"], "E": E, "u": E}}
    )
    for _ in range(FOLD_EVERY + 10):
        record = fast.encode(frame, E + 7)
        assert isinstance(record, tuple)
        pipeline.publish_encoded(record)
    assert metrics.value(EVENTS, TAGS) == FOLD_EVERY  # folded once on the way
    pipeline.flush_metrics()
    assert metrics.value(EVENTS, TAGS) == FOLD_EVERY + 10
    assert (
        'latency_ms_bucket{event_type="BookTop",le="10.0",source_id="binance",symbol="BTCUSDT"} 1034.0'
        in (generate_latest(registry).decode())
    )


class WarningLogger(CapturingLogger):
    """Keeps records of WARNING and above (so events themselves are not logged)."""

    def is_enabled(self, level: int) -> bool:
        return level >= WARNING


def one_record(pipeline: IngestionPipeline) -> Any:
    fast = FrameEncoder.for_pipeline(pipeline, RecordingFeed(pipeline).decoder)
    assert fast is not None
    frame = orjson.dumps({"stream": "btcusdt@trade", "data": {**BASE_FRAMES["btcusdt@trade"], "T": E}})
    record = fast.encode(frame, E + 3)
    assert isinstance(record, tuple)
    return record


def test_fail_refuses_at_once_counted_and_nothing_written() -> None:
    producer = FullQueueProducer(0)
    metrics, logger = CapturingMetrics(), WarningLogger()
    pipeline = pipeline_on(producer, frame_path=True, policy="fail", metrics=metrics, logger=logger)
    with pytest.raises(BackpressureError):
        pipeline.publish_encoded(one_record(pipeline))
    assert producer.records == []
    assert producer.polls == [0]
    assert metrics.total("market_data.backpressure.count") == 1
    assert [r[1] for r in logger.records] == ["market_data.backpressure"]
    pipeline.flush_metrics()
    assert metrics.total(EVENTS) == 0  # a refused record is not counted as an event


def test_block_waits_bounded_then_refuses_or_succeeds_when_room_appears() -> None:
    producer = FullQueueProducer(0)
    metrics = CapturingMetrics()
    pipeline = pipeline_on(producer, frame_path=True, max_block_ms=120, metrics=metrics)
    record = one_record(pipeline)
    with pytest.raises(BackpressureError):
        pipeline.publish_encoded(record)
    assert 0.1 <= sum(producer.polls) <= 0.2  # the bounded wait happened in polls
    original_poll = producer.poll

    def poll_frees_room(timeout: float) -> int:
        producer.room = 1
        return original_poll(0)

    producer.poll = poll_frees_room  # type: ignore[method-assign]
    pipeline.publish_encoded(record)
    assert len(producer.records) == 1
    assert metrics.total("market_data.backpressure.count") == 2  # the refusal and the wait
    pipeline.flush_metrics()
    assert metrics.total(EVENTS) == 1


def test_debug_event_logging_keeps_whole_events() -> None:
    class DebugLogger(CapturingLogger):
        def is_enabled(self, level: int) -> bool:
            return level >= DEBUG

    assert pipeline_on(FullQueueProducer(10), frame_path=True, logger=WarningLogger()).record_encoder()
    pipeline = pipeline_on(FullQueueProducer(10), frame_path=True, logger=DebugLogger())
    assert pipeline.record_encoder() is None
    assert RecordingFeed(pipeline).frame_encoder is None


class RefusingProducer(FullQueueProducer):
    """Raises BufferError for the first `refusals` produce calls."""

    def __init__(self, refusals: int) -> None:
        super().__init__(10**6)
        self.refusals = refusals

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None, **kw: Any) -> None:
        if self.refusals > 0:
            self.refusals -= 1
            raise BufferError("Local: Queue full")
        super().produce(topic, value, key, **kw)


def test_adapter_pauses_on_a_full_queue_and_loses_nothing() -> None:
    frames = [
        orjson.dumps(
            {
                "stream": "btcusdt@trade",
                "data": {
                    "e": "trade",
                    "E": E + i,
                    "T": E + i,
                    "t": i,
                    "p": "100.0",
                    "q": "1",
                    "m": i % 2 == 0,
                },
            }
        )
        for i in range(40)
    ]

    async def scenario() -> None:
        exchange = FakeBinanceExchange(frames)
        await exchange.start()
        producer = RefusingProducer(refusals=3)
        metrics = CapturingMetrics()
        pipeline = pipeline_on(producer, frame_path=True, policy="fail", metrics=metrics)
        config = BinanceFeedConfig.model_validate(
            {
                "symbols": [SymbolStreams(symbol="BTCUSDT", streams=["trade"], open_interest=False)],
                "ws_base_url": exchange.ws_base_url,
                "rest_base_url": exchange.rest_base_url,
                "retry": RetryPolicy(min_delay_ms=10, max_delay_ms=50, max_attempts=20, jitter=0.5),
                "check_universe": False,
                "backpressure_pause_ms": 20,
            }
        )
        adapter = BinanceUsdmAdapter(config, pipeline)
        task = asyncio.create_task(adapter.run())
        deadline = time.monotonic() + 20
        while len(producer.records) < len(frames) and time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.01)
        adapter.stop()
        await asyncio.wait_for(task, 10)
        await exchange.stop()
        # Every frame once, in order, as the decoder's event (receive times are the live clock's).
        written = [dataclasses.replace(CODEC.decode(r[1] or b""), recv_ts_ms=0) for r in producer.records]
        assert written == [e for f in frames for e in adapter.decoder.decode(f, 0)]
        assert adapter.stats.overflows == 3
        assert metrics.total("market_data.backpressure.count") == 3
        assert metrics.total(EVENTS) == len(frames)

    asyncio.run(scenario())


def test_a_sink_replaced_by_an_event_only_wrapper_is_never_bypassed() -> None:
    # The resume filter wraps the Kafka sink after the pipeline exists; the frame path must then go
    # through it too (a replay resumed after a kill would otherwise write what it should skip).
    frames = live_like_frames(200)
    full = FullQueueProducer(10**6)
    RecordingFeed(pipeline_on(full, frame_path=True)).run(frames)
    producer = FullQueueProducer(10**6)
    pipeline = pipeline_on(producer, frame_path=True)
    skip = {p: 40 for p in range(6)}
    pipeline.sink = SkippingSink(pipeline.sink, skip, 6)
    feed = RecordingFeed(pipeline)
    assert feed.frame_encoder is None
    feed.run(frames)
    by_partition: dict[int, list[Any]] = {}
    for record in full.records:
        key = record[2]
        assert key is not None
        by_partition.setdefault(partition_for(key, 6), []).append(record)
    expected = [r for records in by_partition.values() for r in records[40:]]
    assert sorted(producer.records, key=repr) == sorted(expected, key=repr)
