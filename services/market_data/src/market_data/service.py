"""Wiring of the ingestion service: settings -> producer, sink, pipeline, adapter or recording feed."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from confluent_kafka import Producer
from prometheus_client import CollectorRegistry
from xray_contracts.catalogue import RAW_MARKET_EVENT
from xray_runtime.health import Health
from xray_runtime.http_server import StatusServer

from market_data.avro_encoder import RawMarketEventEncoder
from market_data.binance.adapter import BinanceUsdmAdapter, FrameHook
from market_data.contracts import RawMarketEvent
from market_data.kafka_sink import DeliveryTracker, Encoder, KafkaEventSink, ProducerLike, producer_settings
from market_data.observability import PRODUCER_QUEUE_DEPTH, Observability, StdlibLogger
from market_data.pipeline import IngestionPipeline
from market_data.prometheus import PrometheusMetrics
from market_data.replay import RecordingFeed, ReplayStats, replay_files
from market_data.settings import MarketDataSettings

if TYPE_CHECKING:
    from market_data.resume import SkippingSink

log = logging.getLogger("market_data.service")


def tune_gc() -> None:
    """Move start-up objects out of the collector's view and collect the young generation less often.

    Every frame allocates a few dozen short-lived, acyclic objects (parsed JSON, the event, its bytes);
    with the default threshold of 700 the collector would scan the young generation every ~30 frames.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def build_encoder(settings: MarketDataSettings) -> RawMarketEventEncoder:
    """The fast encoder: single-object framing, or Confluent framing (the schema registered at the
    registry now, as the contracts codec does) when a Schema Registry is configured."""
    if settings.schema_registry_url:
        from xray_contracts.codec import codecs_for_registry

        codec = codecs_for_registry(settings.schema_registry_url).for_type(RawMarketEvent)
        return RawMarketEventEncoder(header=codec.framing_prefix())
    return RawMarketEventEncoder()


def kafka_properties(settings: MarketDataSettings) -> dict[str, str | bool]:
    """librdkafka properties: ours, then the common and producer pass-through settings."""
    overrides = {**settings.kafka.common_config(), **settings.kafka.producer_overrides()}
    bootstrap = overrides.pop("bootstrap.servers")
    return producer_settings(bootstrap, settings.market_data.backpressure.max_pending, overrides)


class IngestService:
    """One process: a producer, the pipeline, and either the live adapter or a recording feed."""

    def __init__(
        self,
        settings: MarketDataSettings,
        *,
        producer: ProducerLike | None = None,
        encoder: Encoder | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.settings = settings
        section = settings.market_data
        self.delivery = DeliveryTracker()
        self.producer: ProducerLike = (
            producer
            if producer is not None
            else cast(ProducerLike, Producer({**kafka_properties(settings), "on_delivery": self.delivery}))
        )
        self.topic = RAW_MARKET_EVENT.topic(settings.namespace)
        self.sink = KafkaEventSink(
            self.producer,
            self.topic,
            encoder or build_encoder(settings),
            delivery=self.delivery,
            poll_every=section.poll_every,
        )
        self.registry = registry or CollectorRegistry()
        self.metrics = PrometheusMetrics(self.registry)
        self.observability = Observability(StdlibLogger(logging.getLogger("market_data")), self.metrics)
        self.pipeline = IngestionPipeline(
            sink=self.sink, backpressure=section.backpressure, observability=self.observability
        )
        self.health = Health(stall_after_s=settings.http.stall_after_s)
        self.adapter: BinanceUsdmAdapter | None = None
        self.feed: RecordingFeed | None = None

    def start_status_server(self) -> StatusServer:
        """Serve /metrics, /healthz, /readyz in the background."""
        server = StatusServer(self.settings.http.host, self.settings.http.port, self.registry, self.health)
        server.start()
        return server

    def update_gauges(self) -> None:
        """Pending event metrics, producer queue depth and liveness beat (on the ingest thread)."""
        self.pipeline.flush_metrics()
        self.metrics.gauge(PRODUCER_QUEUE_DEPTH, float(self.sink.queue_depth()), {"topic": self.topic})
        self.health.beat()

    async def run_live(self, frame_hook: FrameHook | None = None) -> int:
        """Stream the configured symbols until SIGTERM/SIGINT or a permanent failure; exit code."""
        adapter = BinanceUsdmAdapter(self.settings.market_data.feed, self.pipeline, frame_hook=frame_hook)
        self.adapter = adapter
        tune_gc()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, adapter.stop)
        gauges = asyncio.create_task(self._gauge_loop(adapter))
        try:
            await adapter.run()
        finally:
            gauges.cancel()
            await asyncio.gather(gauges, return_exceptions=True)
        self.health.set_ready(False)
        undelivered = self.close()
        return 0 if adapter.state != "failed" and undelivered == 0 else 1

    async def _gauge_loop(self, adapter: BinanceUsdmAdapter) -> None:
        interval = self.settings.market_data.gauge_interval_s
        while True:
            self.update_gauges()
            self.health.set_ready(adapter.state == "connected")
            self.producer.poll(0)
            await asyncio.sleep(interval)

    def run_recording(
        self, paths: Sequence[Path], speed: float | None, limit: int | None = None, *, resume: bool = False
    ) -> tuple[int, ReplayStats]:
        """Replay recordings into the topic; SIGTERM stops after the current frame; exit code and stats.

        `resume`: continue a killed earlier run of the same replay (see market_data.resume).
        """
        skipping = self._resume_after_earlier_run() if resume else None
        feed = RecordingFeed(
            self.pipeline,
            source_id=self.settings.market_data.feed.source_id,
            speed=speed,
            backpressure_pause_s=self.settings.market_data.feed.backpressure_pause_ms / 1000,
            catching_up=None if skipping is None else lambda: bool(skipping.remaining),
        )
        self.feed = feed
        tune_gc()
        previous = signal.signal(signal.SIGTERM, lambda *_: feed.stop())
        self.health.set_ready(True)
        try:
            replay_files(feed, paths, limit)
            self.update_gauges()
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.health.set_ready(False)
        undelivered = self.close()
        return (0 if undelivered == 0 else 1), feed.stats

    def _resume_after_earlier_run(self) -> SkippingSink:
        """Route the pipeline through a sink that skips what the topic already holds of this replay."""
        from market_data.resume import SkippingSink, records_per_partition

        counts = records_per_partition(
            self.settings.kafka.common_config(), self.topic, RAW_MARKET_EVENT.partitions
        )
        skipping = SkippingSink(self.sink, counts, RAW_MARKET_EVENT.partitions)
        self.pipeline.sink = skipping
        log.info("market_data.resuming", extra={"fields": {"already_written": sum(counts.values())}})
        return skipping

    def close(self) -> int:
        """Flush with the configured bound; logs and returns how many records were not delivered."""
        remaining = self.sink.flush(self.settings.market_data.flush_timeout_s)
        fields: dict[str, Any] = {"undelivered": remaining, "delivery_failures": self.delivery.failures}
        log.info("market_data.flushed", extra={"fields": fields})
        return remaining + self.delivery.failures
