"""The live adapter's network code against the local fake exchange (no broker needed here)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import orjson
import pytest
from market_data.binance.adapter import BinanceUsdmAdapter
from market_data.config import BinanceFeedConfig, RetryPolicy, SymbolStreams
from market_data.contracts import BackpressureError, RawMarketEvent
from market_data.fake_exchange import ExchangeScript, FakeBinanceExchange
from market_data.testing import CapturingMetrics, RecordingSink, make_pipeline
from market_data.testing_fuzz import mutated_frames

OI_BODY = b'{"symbol":"BTCUSDT","openInterest":"10659.509","time":1589437530011}'


def trade_frames(count: int, symbol: str = "btcusdt") -> list[bytes]:
    return [
        orjson.dumps(
            {
                "stream": f"{symbol}@trade",
                "data": {"e": "trade", "E": i, "T": i, "t": i, "p": "100.0", "q": "1", "m": i % 2 == 0},
            }
        )
        for i in range(count)
    ]


def feed_config(exchange: FakeBinanceExchange, **kw: object) -> BinanceFeedConfig:
    base: dict[str, object] = {
        "symbols": [SymbolStreams(symbol="BTCUSDT", streams=["trade"], open_interest=False)],
        "ws_base_url": exchange.ws_base_url,
        "rest_base_url": exchange.rest_base_url,
        "retry": RetryPolicy(min_delay_ms=10, max_delay_ms=50, max_attempts=20, jitter=0.5),
        "read_timeout_ms": 5_000,
        "connect_timeout_ms": 2_000,
    }
    base.update(kw)
    return BinanceFeedConfig.model_validate(base)


async def run_until(adapter: BinanceUsdmAdapter, done: Callable[[], bool], timeout: float = 20.0) -> None:
    task = asyncio.create_task(adapter.run())
    try:
        async with asyncio.timeout(timeout):
            while not done():
                if task.done():
                    break
                await asyncio.sleep(0.01)
    finally:
        adapter.stop()
        await asyncio.wait_for(task, 10)


def run(coro: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(coro())  # type: ignore[arg-type]


def test_three_drops_three_reconnects_nothing_lost() -> None:
    async def scenario() -> None:
        frames = trade_frames(400)
        exchange = FakeBinanceExchange(frames, script=ExchangeScript(drop_after=[50, 170, 300]))
        await exchange.start()
        sink, metrics = RecordingSink(), CapturingMetrics()
        adapter = BinanceUsdmAdapter(
            feed_config(exchange), make_pipeline(sink, metrics=metrics), rng=random.Random(1)
        )
        await run_until(adapter, lambda: len(sink.events) >= len(frames))
        await exchange.stop()
        assert exchange.log.drops == 3
        assert exchange.log.connections == 4
        assert adapter.stats.reconnects == 3
        assert metrics.total("market_data.transport.reconnects") == 3
        assert [e.raw_payload for e in sink.events] == exchange.log.sent == frames
        assert adapter.state == "stopped"

    run(scenario)


def test_watchdog_reconnects_a_silent_connection() -> None:
    async def scenario() -> None:
        frames = trade_frames(100)
        exchange = FakeBinanceExchange(frames, script=ExchangeScript(stall_after=[40]))
        await exchange.start()
        sink = RecordingSink()
        adapter = BinanceUsdmAdapter(feed_config(exchange, read_timeout_ms=300), make_pipeline(sink))
        await run_until(adapter, lambda: len(sink.events) >= len(frames))
        await exchange.stop()
        assert adapter.stats.watchdog_trips >= 1
        assert exchange.log.stalls == 1
        assert adapter.stats.reconnects >= 1
        assert [e.raw_payload for e in sink.events] == frames

    run(scenario)


def test_planned_reconnect_before_the_exchange_cuts_us() -> None:
    async def scenario() -> None:
        frames = trade_frames(60)
        exchange = FakeBinanceExchange(frames, script=ExchangeScript(frame_interval_s=0.005))
        await exchange.start()
        sink = RecordingSink()
        adapter = BinanceUsdmAdapter(feed_config(exchange, max_connection_age_ms=100), make_pipeline(sink))
        await run_until(adapter, lambda: len(sink.events) >= len(frames))
        await exchange.stop()
        assert adapter.stats.planned_reconnects >= 1
        assert adapter.stats.failures == 0
        assert [e.raw_payload for e in sink.events] == frames

    run(scenario)


def test_gives_up_after_the_retry_budget_when_nothing_listens() -> None:
    async def scenario() -> None:
        exchange = FakeBinanceExchange([])
        await exchange.start()
        retry = RetryPolicy(min_delay_ms=5, max_delay_ms=10, max_attempts=3)
        config = feed_config(exchange, retry=retry)
        await exchange.stop()  # nothing listens on that port any more
        adapter = BinanceUsdmAdapter(config, make_pipeline())
        await asyncio.wait_for(adapter.run(), 10)
        assert adapter.state == "failed"
        assert adapter.stats.failures == 4

    run(scenario)


def test_open_interest_poll_and_depth_snapshot() -> None:
    async def scenario() -> None:
        snapshot = b'{"lastUpdateId":7,"E":1,"T":1,"bids":[["1.0","2.0"]],"asks":[["1.1","3.0"]]}'
        frames = [orjson.dumps({"stream": "btcusdt@depth@100ms", "data": {"E": 1, "u": 8, "b": [], "a": []}})]
        exchange = FakeBinanceExchange(
            frames, {("open_interest", "BTCUSDT"): [OI_BODY], ("depth", "BTCUSDT"): [snapshot]}
        )
        await exchange.start()
        sink = RecordingSink()
        symbols = [
            SymbolStreams(symbol="BTCUSDT", streams=["depth"], open_interest=True, depth_snapshot=True)
        ]
        config = feed_config(exchange, symbols=symbols, oi_poll_interval_ms=50, oi_poll_jitter_ms=10)
        adapter = BinanceUsdmAdapter(config, make_pipeline(sink))

        def enough() -> bool:
            return sum(e.event_type == "OpenInterest" for e in sink.events) >= 3 and len(sink.events) >= 5

        await run_until(adapter, enough)
        await exchange.stop()
        kinds = [(e.event_type, e.channel) for e in sink.events]
        assert ("BookDelta", "book_snapshot") in kinds
        assert ("BookDelta", "book_delta") in kinds
        oi = [e for e in sink.events if e.event_type == "OpenInterest"]
        assert all(e.raw_payload == OI_BODY and e.normalized["open_interest"] == 10659.509 for e in oi)

    run(scenario)


class FlakySink(RecordingSink):
    """Refuses the first `refusals` writes with BackpressureError."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals

    def write(self, event: RawMarketEvent, *, block: bool, timeout_ms: int | None) -> None:
        if self.refusals > 0:
            self.refusals -= 1
            raise BackpressureError("full")
        super().write(event, block=block, timeout_ms=timeout_ms)


@pytest.mark.parametrize("reaction", ["pause", "stop"])
def test_backpressure_pauses_or_stops_never_drops(reaction: str) -> None:
    async def scenario() -> None:
        frames = trade_frames(30)
        exchange = FakeBinanceExchange(frames)
        await exchange.start()
        sink, metrics = FlakySink(refusals=3), CapturingMetrics()
        config = feed_config(exchange, on_backpressure=reaction, backpressure_pause_ms=20)
        adapter = BinanceUsdmAdapter(config, make_pipeline(sink, policy="fail", metrics=metrics))
        await run_until(adapter, lambda: len(sink.events) >= len(frames))
        await exchange.stop()
        assert metrics.total("market_data.backpressure.count") >= 1
        if reaction == "pause":
            assert adapter.stats.overflows == 3
            assert [e.raw_payload for e in sink.events] == frames
        else:
            assert adapter.state == "failed"
            assert adapter.stats.overflows == 1
            assert sink.events == []

    run(scenario)


def test_mutated_frames_through_the_adapter_never_raise() -> None:
    """10,000 broken frames over the real socket: one DecodeFailure each, bytes kept, the adapter runs on."""

    async def scenario() -> None:
        frames = mutated_frames(10_000, seed=7)
        exchange = FakeBinanceExchange(frames, script=ExchangeScript(filter_streams=False))
        await exchange.start()
        sink = RecordingSink()
        adapter = BinanceUsdmAdapter(feed_config(exchange), make_pipeline(sink))

        def failures() -> list[RawMarketEvent]:
            return [e for e in sink.events if e.event_type == "DecodeFailure"]

        # Correctness, not speed: a loaded machine may take minutes for 10,000 frames over a socket.
        await run_until(adapter, lambda: adapter.stats.frames >= len(frames), timeout=180)
        await exchange.stop()
        assert adapter.stats.failures == 0
        assert adapter.stats.frames == len(frames)
        assert [e.raw_payload for e in failures()] == frames
        sent = set(frames)
        assert all(e.raw_payload in sent for e in sink.events)

    run(scenario)


def exchange_info(*entries: tuple[str, str, str, str]) -> bytes:
    symbols = [{"symbol": s, "quoteAsset": q, "contractType": c, "status": st} for s, q, c, st in entries]
    return orjson.dumps({"timezone": "UTC", "symbols": symbols})


def test_universe_rule_drops_symbols_that_are_not_trading_usdt_perpetuals() -> None:
    async def scenario() -> None:
        info = exchange_info(
            ("BTCUSDT", "USDT", "PERPETUAL", "TRADING"),
            ("ETHUSDT", "USDT", "PERPETUAL", "SETTLING"),
            ("BTCUSDC", "USDC", "PERPETUAL", "TRADING"),
        )
        frames = trade_frames(20)
        exchange = FakeBinanceExchange(frames, {("exchange_info", ""): [info]})
        await exchange.start()
        sink = RecordingSink()
        symbols = [
            SymbolStreams(symbol=s, streams=["trade"], open_interest=False)
            for s in ("BTCUSDT", "ETHUSDT", "BTCUSDC")
        ]
        adapter = BinanceUsdmAdapter(feed_config(exchange, symbols=symbols), make_pipeline(sink))
        await run_until(adapter, lambda: len(sink.events) >= len(frames))
        await exchange.stop()
        assert exchange.log.subscriptions == [{"btcusdt@trade"}]
        assert [s.symbol for s in adapter.config.symbols] == ["BTCUSDT"]

    run(scenario)


def test_universe_rule_fails_when_nothing_is_left() -> None:
    async def scenario() -> None:
        exchange = FakeBinanceExchange([], {("exchange_info", ""): [exchange_info()]})
        await exchange.start()
        adapter = BinanceUsdmAdapter(feed_config(exchange), make_pipeline())
        await asyncio.wait_for(adapter.run(), 10)
        await exchange.stop()
        assert adapter.state == "failed"
        assert exchange.log.connections == 0

    run(scenario)


@pytest.mark.parametrize(("healthy_after_ms", "expected_streak"), [(30, 1), (600_000, 3)])
def test_a_healthy_connection_resets_the_backoff(healthy_after_ms: int, expected_streak: int) -> None:
    async def scenario() -> None:
        frames = trade_frames(40)
        script = ExchangeScript(drop_after=[10, 20, 30], frame_interval_s=0.01)
        exchange = FakeBinanceExchange(frames, script=script)
        await exchange.start()
        sink = RecordingSink()
        adapter = BinanceUsdmAdapter(
            feed_config(exchange, healthy_after_ms=healthy_after_ms), make_pipeline(sink)
        )
        await run_until(adapter, lambda: len(sink.events) >= len(frames))
        await exchange.stop()
        assert adapter.stats.failures == 3
        assert adapter.stats.consecutive_failures == expected_streak

    run(scenario)
