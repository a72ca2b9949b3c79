"""Every frame of each real recording, served by the fake exchange to the live adapter, reaches the topic.

Whole files, every line (~244,000 lines over the six files: about 45 s for all five tests on a loaded
2-core machine). The expected counts are made here from the raw file with the standard library,
independently of the project's recording reader and decoder.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Producer
from market_data.binance.adapter import BinanceUsdmAdapter
from market_data.config import BackpressureConfig, BinanceFeedConfig, RetryPolicy, SymbolStreams
from market_data.contracts import RawMarketEvent
from market_data.fake_exchange import FakeBinanceExchange, split_recording
from market_data.kafka_sink import DeliveryTracker, KafkaEventSink, producer_settings
from market_data.observability import NullLogger, Observability
from market_data.pipeline import IngestionPipeline
from market_data.recording import read_frames
from market_data.testing import CapturingMetrics, consume_events
from xray_contracts.catalogue import RAW_MARKET_EVENT
from xray_contracts.codec import codec_for

TIMEOUT_S = 300  # serving, then consuming, one recording (the largest takes ~16 s)
RECORDINGS = {
    "btc_2023_0404": ["binance_usdm_hftbacktest/2023-04-05_btcusdt_markprice/btcusdt_20230404.dat.gz"],
    "btc_2023_0405": ["binance_usdm_hftbacktest/2023-04-05_btcusdt_markprice/btcusdt_20230405.dat.gz"],
    "btc_2024": ["binance_usdm_hftbacktest/2024-08-08_btc_eth/btcusdt_20240808.gz"],
    "eth_2024": ["binance_usdm_hftbacktest/2024-08-08_btc_eth/ethusdt_20240808.gz"],
    "cryptofeed_2021": [
        "binance_usdm_cryptofeed_2021/BINANCE_FUTURES.ws.1.0",
        "binance_usdm_cryptofeed_2021/BINANCE_FUTURES.http.0.0",
    ],
}
EVENTS_OF_STREAM: dict[str, list[tuple[str, str]]] = {
    "aggTrade": [("TradeTick", "trades")],
    "trade": [("TradeTick", "trades_raw")],
    "bookTicker": [("BookTop", "book_top")],
    "depth": [("BookDelta", "book_delta")],
    "markPrice": [("MarkPrice", "mark_price"), ("IndexPrice", "mark_price"), ("FundingRate", "mark_price")],
    "kline": [("Candle", "candle_{interval}")],
}


def sample_dir() -> Path:
    value = os.environ.get("XRAY_SAMPLE_DATA")
    if not value:
        pytest.skip("XRAY_SAMPLE_DATA is not set: the real Binance recordings are not available")
    return Path(value)


def raw_lines(path: Path) -> list[bytes]:
    """Every line of the file, gunzipped by magic number."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.split(b"\n")


def independent_expectation(
    paths: list[Path],
) -> tuple[Counter[tuple[str, str]], dict[str, list[bytes]], dict[str, int], dict[str, list[str]]]:
    """Expected (event_type, channel) counts, WS frames per symbol in order, snapshots per symbol,
    stream suffixes per symbol."""
    expected: Counter[tuple[str, str]] = Counter()
    frames: dict[str, list[bytes]] = {}
    snapshots: Counter[str] = Counter()
    streams: dict[str, list[str]] = {}
    last_symbol = ""
    for path in paths:
        for line in raw_lines(path):
            if not line.strip() or b" <-> " in line:
                continue  # blank line, cryptofeed connect record
            if line.startswith(b"https://"):  # cryptofeed REST line: url -> time: body
                url = line.split(b" ", 1)[0].decode()
                symbol = url.split("symbol=")[1].split("&")[0]
                assert "/fapi/v1/depth" in url
                snapshots[symbol] += 1
                continue
            # hftbacktest `<int time> <frame>`, cryptofeed `<seconds>: <frame>`: the frame follows one space
            _, payload = line.split(b" ", 1)
            parsed = json.loads(payload)
            if "stream" not in parsed:  # hftbacktest REST depth snapshot (one symbol per file)
                assert "lastUpdateId" in parsed
                snapshots[last_symbol] += 1
                continue
            prefix, _, suffix = parsed["stream"].partition("@")
            symbol = prefix.upper()
            last_symbol = symbol
            kind = suffix.split("@")[0].split("_")[0]
            interval = suffix.split("_")[1] if kind == "kline" else ""
            for event_type, channel in EVENTS_OF_STREAM[kind]:
                expected[(event_type, channel.format(interval=interval))] += 1
            frames.setdefault(symbol, []).append(payload)
            if suffix not in streams.setdefault(symbol, []):
                streams[symbol].append(suffix)
    for count in snapshots.values():
        assert count == 1, "one snapshot per symbol: the adapter fetches one per connection"
        expected[("BookDelta", "book_snapshot")] += 1
    return expected, frames, dict(snapshots), streams


def symbol_config(symbol: str, suffixes: list[str], snapshot: bool) -> SymbolStreams:
    kinds: list[str] = []
    kline_interval, depth_speed = "3m", "100ms"
    for suffix in suffixes:
        kind = suffix.split("@")[0].split("_")[0]
        kinds.append(kind)
        if kind == "kline":
            kline_interval = suffix.split("_")[1]
        if kind == "depth":
            depth_speed = suffix.split("@")[1] if "@" in suffix else "100ms"
    return SymbolStreams.model_validate(
        {
            "symbol": symbol,
            "streams": kinds,
            "kline_interval": kline_interval,
            "depth_speed": depth_speed,
            "open_interest": False,
            "depth_snapshot": snapshot,
        }
    )


async def serve_to_topic(
    paths: list[Path], bootstrap: str, topic: str, symbols: list[SymbolStreams], expected_events: int
) -> tuple[BinanceUsdmAdapter, FakeBinanceExchange, CapturingMetrics]:
    recorded = [f for p in paths for f in read_frames(p)]
    ws_frames, rest = split_recording(recorded)
    exchange = FakeBinanceExchange(ws_frames, rest)
    await exchange.start()
    delivery = DeliveryTracker()
    producer = Producer({**producer_settings(bootstrap, 500_000), "on_delivery": delivery})
    sink = KafkaEventSink(producer, topic, codec_for(RawMarketEvent).encode, delivery=delivery)
    metrics = CapturingMetrics()
    pipeline = IngestionPipeline(
        sink=sink,
        backpressure=BackpressureConfig(policy="block", max_pending=500_000, max_block_ms=5_000),
        observability=Observability(NullLogger(), metrics),
    )
    config = BinanceFeedConfig(
        symbols=symbols,
        ws_base_url=exchange.ws_base_url,
        rest_base_url=exchange.rest_base_url,
        retry=RetryPolicy(min_delay_ms=10, max_delay_ms=100, max_attempts=5),
    )
    adapter = BinanceUsdmAdapter(config, pipeline)
    task = asyncio.create_task(adapter.run())
    done: Callable[[], bool] = lambda: adapter.stats.events >= expected_events  # noqa: E731
    async with asyncio.timeout(TIMEOUT_S):
        while not done() and not task.done():
            await asyncio.sleep(0.05)
    adapter.stop()
    await task
    await exchange.stop()
    assert producer.flush(30) == 0
    assert delivery.failures == 0
    return adapter, exchange, metrics


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_every_frame_reaches_the_topic(
    name: str,
    kafka_bootstrap: str,
    kafka_namespace: str,
    kafka_create_topics: Callable[[list[object]], list[str]],
) -> None:
    paths = [sample_dir() / rel for rel in RECORDINGS[name]]
    expected, frames, snapshots, streams = independent_expectation(paths)
    (topic,) = kafka_create_topics([RAW_MARKET_EVENT])
    assert topic == RAW_MARKET_EVENT.topic(kafka_namespace)
    symbols = [symbol_config(s, streams[s], s in snapshots) for s in sorted(streams)]
    total = sum(expected.values())
    adapter, _, _ = asyncio.run(serve_to_topic(paths, kafka_bootstrap, topic, symbols, total))
    assert adapter.stats.reconnects == 0

    records = consume_events(kafka_bootstrap, topic, total, timeout_s=TIMEOUT_S)
    events: list[RawMarketEvent] = [event for _, _, event in records]
    got = Counter((e.event_type, e.channel) for e in events)
    assert got == expected
    assert got[("DecodeFailure", None)] == 0
    for key, headers, event in records:
        assert key == event.symbol.encode()
        assert headers["event_type"] == event.event_type.encode()
        assert headers["schema"] == b"raw_market_event"
        assert headers["schema_version"] == b"1"
    # raw_payload is each frame's bytes, in the order received, per symbol (one partition per symbol).
    for symbol, symbol_frames in frames.items():
        ws_payloads = [
            e.raw_payload
            for e in events
            if e.symbol == symbol
            and e.channel != "book_snapshot"
            and e.event_type not in ("IndexPrice", "FundingRate")
        ]
        assert ws_payloads == symbol_frames


def test_every_recording_file_is_checked() -> None:
    """Each recording of the sample directory is one of RECORDINGS (so none is skipped silently)."""
    root = sample_dir()
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.suffix != ".md"}
    listed = {rel for paths in RECORDINGS.values() for rel in paths}
    assert on_disk == listed
