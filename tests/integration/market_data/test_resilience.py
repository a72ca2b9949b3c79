"""Server-side drops and a broker outage, end to end into a real topic."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from typing import Literal

import orjson
import pytest
from confluent_kafka import Producer
from market_data.avro_encoder import RawMarketEventEncoder
from market_data.binance.adapter import BinanceUsdmAdapter
from market_data.config import (
    BackpressureConfig,
    BackpressurePolicy,
    BinanceFeedConfig,
    RetryPolicy,
    SymbolStreams,
)
from market_data.contracts import BackpressureError, RawMarketEvent
from market_data.fake_exchange import ExchangeScript, FakeBinanceExchange
from market_data.kafka_sink import DeliveryTracker, KafkaEventSink, producer_settings
from market_data.observability import Observability
from market_data.pipeline import EncodedEvent, IngestionPipeline
from market_data.testing import CapturingLogger, CapturingMetrics, consume_events
from xray_contracts.catalogue import RAW_MARKET_EVENT
from xray_contracts.codec import codec_for


def trade_frames(count: int) -> list[bytes]:
    return [
        orjson.dumps(
            {
                "stream": "btcusdt@trade",
                "data": {
                    "e": "trade",
                    "E": 1_700_000_000_000 + i,
                    "T": 1_700_000_000_000 + i,
                    "t": i,
                    "p": "100.5",
                    "q": "0.25",
                    "m": i % 3 == 0,
                },
            }
        )
        for i in range(count)
    ]


class TcpGate:
    """A loopback TCP forwarder that can refuse everything (broker "down") or forward (broker "up")."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.open = False
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.transport.abort()  # connection reset: the broker is unreachable
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        for task in (
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        ):
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.server is not None:
            self.server.close()


WritePath = Literal["events", "frames"]

# `fail` refuses at once: no refusal may take longer than this (generous for a loaded machine, yet
# below the `block` case's max_block_ms, so a `fail` that waited like `block` does not pass).
FAIL_BOUND_S = 0.25
# `block` waits max_block_ms, then refuses: allowed this much more on a loaded 2-core machine.
BLOCK_SLACK_S = 3.0


class QuietCapturingLogger(CapturingLogger):
    """A CapturingLogger whose DEBUG is off, as in the service: the pipeline then takes the frame path."""

    def is_enabled(self, level: int) -> bool:
        return level > logging.DEBUG


class TimedPipeline(IngestionPipeline):
    """Times every refused write from outside the pipeline (its own `blocked_ms` is what is tested)."""

    refused_s: list[float]

    def publish(self, event: RawMarketEvent) -> None:
        started = time.perf_counter()
        try:
            super().publish(event)
        except BackpressureError:
            self.refused_s.append(time.perf_counter() - started)
            raise

    def publish_encoded(self, record: EncodedEvent) -> None:
        started = time.perf_counter()
        try:
            super().publish_encoded(record)
        except BackpressureError:
            self.refused_s.append(time.perf_counter() - started)
            raise


def make_adapter(
    exchange: FakeBinanceExchange,
    bootstrap: str,
    topic: str,
    *,
    policy: BackpressurePolicy,
    max_pending: int,
    max_block_ms: int | None,
    path: WritePath = "events",
) -> tuple[BinanceUsdmAdapter, Producer, DeliveryTracker, CapturingMetrics, KafkaEventSink]:
    """`path="events"`: whole RawMarketEvents through `publish` (a DEBUG logger, the contracts codec);
    `path="frames"`: the service's frame path (`publish_encoded`, the fast encoder, DEBUG off)."""
    delivery = DeliveryTracker()
    producer = Producer(
        {**producer_settings(bootstrap, max_pending, {"linger.ms": "5"}), "on_delivery": delivery}
    )
    encode = codec_for(RawMarketEvent).encode if path == "events" else RawMarketEventEncoder().encode
    sink = KafkaEventSink(producer, topic, encode, delivery=delivery, poll_every=10)
    metrics = CapturingMetrics()
    logger = CapturingLogger() if path == "events" else QuietCapturingLogger()
    pipeline = TimedPipeline(
        sink=sink,
        backpressure=BackpressureConfig(policy=policy, max_pending=max_pending, max_block_ms=max_block_ms),
        observability=Observability(logger, metrics),
    )
    pipeline.refused_s = []
    assert (pipeline.record_encoder() is None) == (path == "events")
    config = BinanceFeedConfig(
        symbols=[SymbolStreams(symbol="BTCUSDT", streams=["trade"], open_interest=False)],
        ws_base_url=exchange.ws_base_url,
        rest_base_url=exchange.rest_base_url,
        retry=RetryPolicy(min_delay_ms=20, max_delay_ms=100, max_attempts=10, jitter=0.5),
        on_backpressure="pause",
        backpressure_pause_ms=50,
        read_timeout_ms=60_000,
    )
    return BinanceUsdmAdapter(config, pipeline, rng=random.Random(3)), producer, delivery, metrics, sink


async def wait_for(condition: Callable[[], bool], task: asyncio.Task[None], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            if task.done():
                task.result()
                return
            await asyncio.sleep(0.02)


def test_three_server_drops_reconnect_and_lose_nothing(
    kafka_bootstrap: str, kafka_create_topics: Callable[[list[object]], list[str]]
) -> None:
    (topic,) = kafka_create_topics([RAW_MARKET_EVENT])
    frames = trade_frames(3_000)

    async def scenario() -> tuple[BinanceUsdmAdapter, FakeBinanceExchange, CapturingMetrics]:
        exchange = FakeBinanceExchange(frames, script=ExchangeScript(drop_after=[400, 1_300, 2_200]))
        await exchange.start()
        adapter, producer, delivery, metrics, _ = make_adapter(
            exchange, kafka_bootstrap, topic, policy="block", max_pending=100_000, max_block_ms=5_000
        )
        task = asyncio.create_task(adapter.run())
        await wait_for(lambda: adapter.stats.events >= len(frames), task, 60)
        adapter.stop()
        await task
        await exchange.stop()
        assert producer.flush(30) == 0
        assert delivery.failures == 0
        return adapter, exchange, metrics

    adapter, exchange, metrics = asyncio.run(scenario())
    assert exchange.log.drops == 3
    assert adapter.stats.reconnects == 3
    assert metrics.total("market_data.transport.reconnects") == 3
    in_topic = [event.raw_payload for _, _, event in consume_events(kafka_bootstrap, topic, len(frames))]
    assert exchange.log.sent == frames
    assert in_topic == exchange.log.sent


@pytest.mark.parametrize("path", ["events", "frames"])
@pytest.mark.parametrize(("policy", "max_block_ms"), [("block", 300), ("fail", None)])
def test_broker_outage_overflows_then_resumes_by_itself(
    policy: BackpressurePolicy,
    max_block_ms: int | None,
    path: WritePath,
    kafka_bootstrap: str,
    kafka_create_topics: Callable[[list[object]], list[str]],
) -> None:
    (topic,) = kafka_create_topics([RAW_MARKET_EVENT])
    frames = trade_frames(400)
    host, port = kafka_bootstrap.split(",", maxsplit=1)[0].rsplit(":", 1)

    async def scenario() -> tuple[BinanceUsdmAdapter, CapturingMetrics, KafkaEventSink]:
        gate = TcpGate(host, int(port))
        gate_port = await gate.start()
        exchange = FakeBinanceExchange(frames)
        await exchange.start()
        adapter, producer, delivery, metrics, sink = make_adapter(
            exchange,
            f"127.0.0.1:{gate_port}",
            topic,
            policy=policy,
            max_pending=50,
            max_block_ms=max_block_ms,
            path=path,
        )
        task = asyncio.create_task(adapter.run())
        # Broker unreachable: the 50-record queue fills and every further write is refused and counted.
        await wait_for(lambda: adapter.stats.overflows >= 3, task, 60)
        assert adapter.stats.events == 50
        assert adapter.state == "connected"
        gate.open = True  # the broker "returns": nobody touches the adapter
        await wait_for(lambda: adapter.stats.events >= len(frames), task, 90)
        adapter.stop()
        await task
        assert producer.flush(30) == 0
        assert delivery.failures == 0
        await exchange.stop()
        await gate.stop()
        return adapter, metrics, sink

    adapter, metrics, sink = asyncio.run(scenario())
    logger = adapter.observability.logger
    assert isinstance(logger, CapturingLogger)
    refused_waits = [f["blocked_ms"] for _, m, f in logger.records if m == "market_data.backpressure"]
    assert len(refused_waits) == adapter.stats.overflows
    refusals = metrics.total("market_data.backpressure.count")
    assert refusals >= adapter.stats.overflows >= 3
    assert sink.refused == adapter.stats.overflows
    # Each refusal timed from outside the pipeline, next to what the pipeline logged.
    pipeline = adapter.pipeline
    assert isinstance(pipeline, TimedPipeline)
    measured = pipeline.refused_s
    assert len(measured) == adapter.stats.overflows
    if policy == "block":
        # A bounded wait: at least max_block_ms, and not much more.
        assert max_block_ms is not None
        low, high = max_block_ms / 1000, max_block_ms / 1000 + BLOCK_SLACK_S
        assert all(low <= w <= high for w in measured), (low, high, measured)
        assert all(max_block_ms <= w <= high * 1000 for w in refused_waits), refused_waits
    else:
        # An immediate refusal.
        assert all(w <= FAIL_BOUND_S for w in measured), measured
        assert all(w <= FAIL_BOUND_S * 1000 for w in refused_waits), refused_waits
    in_topic = [event.raw_payload for _, _, event in consume_events(kafka_bootstrap, topic, len(frames))]
    assert in_topic == frames
