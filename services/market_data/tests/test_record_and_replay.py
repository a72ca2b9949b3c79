"""`xray record` writes what the adapter receives; the recording feed emits what the live adapter emits."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
from pathlib import Path

import orjson
from market_data.binance.adapter import BinanceUsdmAdapter
from market_data.cli import record_frames
from market_data.config import BinanceFeedConfig, SymbolStreams
from market_data.contracts import RawMarketEvent
from market_data.fake_exchange import FakeBinanceExchange
from market_data.observability import NullLogger, Observability
from market_data.prometheus import PrometheusMetrics
from market_data.recording import format_line, read_frames
from market_data.replay import RecordingFeed, replay_files
from market_data.testing import RecordingSink, make_pipeline
from market_data.testing_fuzz import BASE_FRAMES
from prometheus_client import CollectorRegistry, generate_latest

OI_BODY = b'{"symbol":"BTCUSDT","openInterest":"10659.509","time":1589437530011}'


def sample_frames() -> list[bytes]:
    frames = []
    for i in range(20):
        for stream, data in BASE_FRAMES.items():
            frames.append(orjson.dumps({"stream": stream, "data": {**data, "E": 1_700_000_000_000 + i}}))
    return frames


def config_for(exchange: FakeBinanceExchange) -> BinanceFeedConfig:
    kinds = ["aggTrade", "trade", "bookTicker", "depth", "markPrice", "forceOrder", "kline"]
    return BinanceFeedConfig.model_validate(
        {
            "symbols": [
                SymbolStreams.model_validate(
                    {"symbol": "BTCUSDT", "streams": kinds, "depth_speed": "0ms", "open_interest": True}
                )
            ],
            "ws_base_url": exchange.ws_base_url,
            "rest_base_url": exchange.rest_base_url,
            "oi_poll_interval_ms": 100,
            "oi_poll_jitter_ms": 10,
        }
    )


def comparable(event: RawMarketEvent) -> tuple[object, ...]:
    fields = dataclasses.asdict(event)
    fields.pop("recv_ts_ms")
    return tuple(sorted((k, repr(v)) for k, v in fields.items()))


def test_record_then_replay_matches_live(tmp_path: Path) -> None:
    frames = sample_frames()
    out = tmp_path / "rec.gz"

    async def record() -> list[RawMarketEvent]:
        exchange = FakeBinanceExchange(frames, {("open_interest", "BTCUSDT"): [OI_BODY]})
        await exchange.start()
        count = await record_frames(config_for(exchange), out, duration=1.5)
        assert count >= len(frames)
        # The same exchange again, now through the live adapter into a sink.
        live_exchange = FakeBinanceExchange(frames, {("open_interest", "BTCUSDT"): [OI_BODY]})
        await live_exchange.start()
        sink = RecordingSink()
        adapter = BinanceUsdmAdapter(config_for(live_exchange), make_pipeline(sink))
        task = asyncio.create_task(adapter.run())
        while adapter.stats.frames < len(frames) or adapter.stats.rest_bodies < 1:
            await asyncio.sleep(0.01)
        adapter.stop()
        await task
        await exchange.stop()
        await live_exchange.stop()
        return sink.events

    live_events = asyncio.run(record())
    recorded = list(read_frames(out))
    assert [f.payload for f in recorded if f.kind == "ws"] == frames
    assert all(f.payload == OI_BODY for f in recorded if f.kind == "rest")
    sink = RecordingSink()
    RecordingFeed(make_pipeline(sink)).run(recorded)
    replayed = sink.events
    assert all(e.recv_ts_ms == f.recv_ts_ms for f in recorded[:1] for e in replayed[:1])
    live_ws = [comparable(e) for e in live_events if e.channel != "open_interest"]
    replay_ws = [comparable(e) for e in replayed if e.channel != "open_interest"]
    assert replay_ws == live_ws
    assert {comparable(e) for e in replayed if e.channel == "open_interest"} == {
        comparable(e) for e in live_events if e.channel == "open_interest"
    }


def test_metrics_are_scrapeable() -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry)
    pipeline = make_pipeline(RecordingSink())
    pipeline.observability = Observability(NullLogger(), metrics)
    pipeline.ingest(
        event_type="MarkPrice",
        source_id="binance",
        symbol="BTCUSDT",
        exchange_ts_ms=400,
        raw_payload=b"{}",
        normalized={"mark_price": 1.0},
    )
    metrics.gauge("market_data.producer.queue_depth", 3, {"topic": "t"})
    text = generate_latest(registry).decode()
    assert (
        'market_data_events_count_total{event_type="MarkPrice",source_id="binance",symbol="BTCUSDT"} 1.0'
        in text
    )
    assert "market_data_exchange_to_recv_latency_ms_bucket" in text
    assert 'market_data_producer_queue_depth{topic="t"} 3.0' in text


def test_several_recordings_replay_merged_by_receive_time(tmp_path: Path) -> None:
    frames = sample_frames()
    base_ns = 1_700_000_000_000_000_000
    paths = []
    for name, offset_ns in (("a.gz", 0), ("b", 500_000_000)):  # b's frames fall between a's
        lines = b"".join(
            format_line(base_ns + i * 1_000_000_000 + offset_ns, f) for i, f in enumerate(frames)
        )
        path = tmp_path / name
        path.write_bytes(gzip.compress(lines) if name.endswith(".gz") else lines)
        paths.append(path)
    sink = RecordingSink()
    stats = replay_files(RecordingFeed(make_pipeline(sink)), paths)
    assert stats.frames == 2 * len(frames)
    times = [e.recv_ts_ms for e in sink.events]
    assert times == sorted(times)  # interleaved as they were received, never back in time
    # Both files' events are all there, each file's in its own order.
    alone = RecordingSink()
    RecordingFeed(make_pipeline(alone)).run(read_frames(paths[0]))
    first_file = [e for e in sink.events if (e.recv_ts_ms * 1_000_000 - base_ns) % 1_000_000_000 == 0]
    assert [e.raw_payload for e in first_file] == [e.raw_payload for e in alone.events]
