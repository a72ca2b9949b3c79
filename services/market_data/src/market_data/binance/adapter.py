"""The live Binance USD-M adapter: one combined-stream websocket for all symbols plus REST polls.

Shell around the pure FrameDecoder: it owns sockets, timers and the reaction to backpressure.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from market_data.backoff import backoff_delay_ms
from market_data.binance.frame_encoder import FrameEncoder
from market_data.binance.frames import UNKNOWN_SYMBOL, FrameDecoder
from market_data.binance.streams import BOOK_SNAPSHOT_CHANNEL, OPEN_INTEREST_CHANNEL
from market_data.binance.universe import eligible_symbols, split_universe
from market_data.config import BinanceFeedConfig
from market_data.contracts import BackpressureError, RawMarketEvent
from market_data.observability import WARNING
from market_data.pipeline import EncodedEvent, IngestionPipeline

AdapterState = Literal["created", "running", "connected", "stopped", "failed"]
FrameHook = Callable[[int, bytes, str | None], None]
WS_CHANNEL = "combined"


class AdapterStoppedError(Exception):
    """Unwinds the adapter when it must stop (backpressure policy `stop`, fatal sink error)."""


@dataclass
class AdapterStats:
    """Counters of one adapter; read by tests, health and the service's status."""

    frames: int = 0
    rest_bodies: int = 0
    events: int = 0
    connections: int = 0
    reconnects: int = 0
    consecutive_failures: int = 0
    failures: int = 0
    watchdog_trips: int = 0
    planned_reconnects: int = 0
    overflows: int = 0
    rest_failures: int = 0
    last_error: str | None = None


class BinanceUsdmAdapter:
    """Streams every configured symbol's channels into the pipeline until stopped or failed for good."""

    def __init__(
        self,
        config: BinanceFeedConfig,
        pipeline: IngestionPipeline,
        *,
        clock_ns: Callable[[], int] = time.time_ns,
        rng: random.Random | None = None,
        frame_hook: FrameHook | None = None,
    ) -> None:
        self.config = config
        self.pipeline = pipeline
        self.observability = pipeline.observability
        self.clock_ns = clock_ns
        self.rng = rng or random.Random()
        self.frame_hook = frame_hook
        symbols = [s.symbol for s in config.symbols]
        self.decoder = FrameDecoder(config.source_id, symbols[0] if len(symbols) == 1 else UNKNOWN_SYMBOL)
        frame_encoder = FrameEncoder.for_pipeline(pipeline, self.decoder)
        self._decode_frame: Callable[[bytes, int], EncodedEvent | list[RawMarketEvent]] = (
            frame_encoder.encode if frame_encoder is not None else self.decoder.decode
        )
        self.stats = AdapterStats()
        self.state: AdapterState = "created"
        self._stop = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._last_rx = 0.0
        self._opened_at: float | None = None
        self._symbols_label = ",".join(symbols)

    # ---- lifecycle -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Run websocket and REST loops until `stop()` or a permanent failure."""
        self.state = "running"
        timeout = httpx.Timeout(self.config.request_timeout_ms / 1000)
        async with httpx.AsyncClient(timeout=timeout) as http:
            if self.config.check_universe:
                try:
                    await self._apply_universe(http)
                except AdapterStoppedError:
                    return  # nothing left to stream: state is `failed`
            tasks = [asyncio.create_task(self._ws_loop(http), name="binance-ws")]
            for sym in self.config.symbols:
                if sym.open_interest:
                    tasks.append(
                        asyncio.create_task(self._oi_loop(http, sym.symbol), name=f"oi-{sym.symbol}")
                    )
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
                # The websocket loop ending (stop, give-up or fatal) ends the adapter.
                for task in done:
                    exc = task.exception()
                    if exc is not None and not isinstance(exc, AdapterStoppedError):
                        raise exc
            finally:
                self._stop.set()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self.pipeline.flush_metrics()
        if not self.failed:
            self.state = "stopped"

    def stop(self) -> None:
        """Ask every loop to end; the current frame is finished first."""
        self._stop.set()
        ws = self._ws
        if ws is not None and ws.transport is not None:
            ws.transport.abort()

    @property
    def failed(self) -> bool:
        """True once the adapter stopped for good because of a failure."""
        return self.state == "failed"

    @property
    def stopping(self) -> bool:
        """True once stop was requested or the adapter failed for good."""
        return self._stop.is_set()

    # ---- emission --------------------------------------------------------------------------------

    async def _emit(self, decoded: list[RawMarketEvent] | EncodedEvent) -> None:
        """Publish events (or the frame path's one record) in order; on backpressure pause and retry
        (never drop) or stop as configured."""
        publish = self.pipeline.publish
        publish_encoded = self.pipeline.publish_encoded
        items: Sequence[RawMarketEvent | EncodedEvent] = decoded if isinstance(decoded, list) else (decoded,)
        for item in items:
            while True:
                try:
                    if isinstance(item, RawMarketEvent):
                        publish(item)
                    else:
                        publish_encoded(item)
                    break
                except BackpressureError as exc:
                    self.stats.overflows += 1
                    self._transport_state("backpressure", str(exc))
                    if self.config.on_backpressure == "stop":
                        self._fail(f"backpressure: {exc}")
                    if await self._wait_stop(self.config.backpressure_pause_ms / 1000):
                        self.stats.last_error = "stopped while backpressured; event not written"
                        self._transport_state("backpressure", self.stats.last_error)
                        raise AdapterStoppedError from exc
                except Exception as exc:  # a sink fault (lost delivery, broken producer) is fatal
                    self._fail(f"sink failure: {type(exc).__name__}: {exc}")
            self.stats.events += 1

    def _fail(self, detail: str) -> None:
        self.state = "failed"
        self.stats.last_error = detail
        self._transport_state("failed", detail)
        self._stop.set()
        raise AdapterStoppedError(detail)

    async def _wait_stop(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when stop was requested meanwhile."""
        if seconds <= 0:
            return self._stop.is_set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
        return self._stop.is_set()

    def _transport_state(self, state: str, detail: str | None = None, channel: str = WS_CHANNEL) -> None:
        self.observability.record_transport_state(
            source_id=self.config.source_id,
            channel=channel,
            symbol=self._symbols_label,
            state=state,
            reconnect_count=self.stats.reconnects,
            error_detail=detail,
        )

    # ---- websocket -------------------------------------------------------------------------------

    async def _ws_loop(self, http: httpx.AsyncClient) -> None:
        url = self.config.combined_url()
        while not self._stop.is_set():
            self._transport_state("connecting")
            self._opened_at = None
            planned = False
            try:
                planned = await self._one_connection(url, http)
            except AdapterStoppedError:
                raise
            except (OSError, TimeoutError, WebSocketException, asyncio.IncompleteReadError) as exc:
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
            finally:
                self._ws = None
            if self._stop.is_set():
                break
            opened_at = self._opened_at
            lived_ms = (time.monotonic() - opened_at) * 1000 if opened_at is not None else 0.0
            if planned:
                self.stats.planned_reconnects += 1
                self.stats.consecutive_failures = 0
                continue
            if opened_at is not None and lived_ms >= self.config.healthy_after_ms:
                self.stats.consecutive_failures = 0  # a healthy connection resets the backoff
            self.stats.failures += 1
            self.stats.consecutive_failures += 1
            self._transport_state("failed", self.stats.last_error)
            delay = backoff_delay_ms(self.config.retry, self.stats.consecutive_failures, self.rng.random())
            if delay is None:
                self._fail(
                    f"gave up after {self.stats.consecutive_failures - 1} retries: {self.stats.last_error}"
                )
            assert delay is not None
            if await self._wait_stop(delay / 1000):
                break

    async def _one_connection(self, url: str, http: httpx.AsyncClient) -> bool:
        """Serve one connection; True when it ended as a planned reconnect (connection age)."""
        async with connect(
            url,
            open_timeout=self.config.connect_timeout_ms / 1000,
            close_timeout=1,
            max_size=None,
            compression=None,
        ) as ws:
            self._ws = ws
            self.stats.connections += 1
            if self.stats.connections > 1:
                self.stats.reconnects += 1
                for sym in self.config.symbols:
                    self.observability.record_reconnect(
                        source_id=self.config.source_id, channel=WS_CHANNEL, symbol=sym.symbol
                    )
            self.state = "connected"
            self._transport_state("connected")
            opened = time.monotonic()
            self._opened_at = opened
            self._last_rx = opened
            watchdog = asyncio.create_task(self._watchdog(ws))
            snapshots = [
                asyncio.create_task(self._depth_snapshot(http, s.symbol))
                for s in self.config.symbols
                if s.depth_snapshot and "depth" in s.streams
            ]
            max_age = self.config.max_connection_age_ms / 1000
            decode = self._decode_frame
            hook = self.frame_hook
            try:
                while True:
                    frame = await ws.recv(decode=False)
                    recv_ns = self.clock_ns()
                    now = time.monotonic()
                    self._last_rx = now
                    self.stats.frames += 1
                    data = frame if type(frame) is bytes else bytes(frame)
                    if hook is not None:
                        hook(recv_ns, data, None)
                    await self._emit(decode(data, recv_ns // 1_000_000))
                    if now - opened >= max_age:
                        await self._drain_and_close(ws)
                        return True
            finally:
                watchdog.cancel()
                for task in snapshots:
                    task.cancel()
                await asyncio.gather(watchdog, *snapshots, return_exceptions=True)
                if self.state == "connected":
                    self.state = "running"

    async def _drain_and_close(self, ws: ClientConnection) -> None:
        """Close on our terms but keep every frame that was already on its way (no loss on a planned cut)."""
        closing = asyncio.create_task(ws.close(1000, "planned reconnect"))
        decode = self._decode_frame
        try:
            while True:
                frame = await ws.recv(decode=False)
                recv_ns = self.clock_ns()
                self.stats.frames += 1
                data = frame if type(frame) is bytes else bytes(frame)
                if self.frame_hook is not None:
                    self.frame_hook(recv_ns, data, None)
                await self._emit(decode(data, recv_ns // 1_000_000))
        except ConnectionClosed:
            pass
        finally:
            await closing

    async def _watchdog(self, ws: ClientConnection) -> None:
        """Abort a connection that delivered nothing for `read_timeout_ms` (silent stall)."""
        limit = self.config.read_timeout_ms / 1000
        tick = min(1.0, limit / 4)
        while True:
            await asyncio.sleep(tick)
            if time.monotonic() - self._last_rx >= limit:
                self.stats.watchdog_trips += 1
                self.stats.last_error = f"no frame for {self.config.read_timeout_ms} ms"
                if ws.transport is not None:
                    ws.transport.abort()
                return

    # ---- REST ------------------------------------------------------------------------------------

    async def _apply_universe(self, http: httpx.AsyncClient) -> None:
        """Keep only USDT perpetuals in TRADING status; without usable exchangeInfo keep the config as is."""
        try:
            body, _ = await self._get(http, "/fapi/v1/exchangeInfo", {})
        except httpx.HTTPError as exc:
            self._transport_state(
                "failed", f"exchangeInfo unavailable, symbols not checked: {exc}", "universe"
            )
            return
        eligible = eligible_symbols(body)
        if eligible is None:
            self._transport_state("failed", "exchangeInfo unreadable, symbols not checked", "universe")
            return
        kept, rejected = split_universe((s.symbol for s in self.config.symbols), eligible)
        for symbol in rejected:
            self.observability.logger.log(
                WARNING,
                "market_data.symbol_rejected",
                {"symbol": symbol, "reason": "not a trading USDT perpetual"},
            )
        if not kept:
            self._fail(f"no configured symbol is a trading USDT perpetual: {rejected}")
        if rejected:
            symbols = [s for s in self.config.symbols if s.symbol in kept]
            self.config = self.config.model_copy(update={"symbols": symbols})
            self._symbols_label = ",".join(kept)

    async def _get(self, http: httpx.AsyncClient, path: str, params: dict[str, str]) -> tuple[bytes, int]:
        response = await http.get(f"{self.config.rest_base_url.rstrip('/')}{path}", params=params)
        recv_ns = self.clock_ns()
        if response.status_code >= 400:
            raise httpx.HTTPStatusError(
                f"HTTP {response.status_code}", request=response.request, response=response
            )
        return response.content, recv_ns

    async def _depth_snapshot(self, http: httpx.AsyncClient, symbol: str) -> None:
        """One order-book snapshot after a (re)connect, for symbols that ask for it."""
        try:
            body, recv_ns = await self._get(http, "/fapi/v1/depth", {"symbol": symbol, "limit": "1000"})
        except httpx.HTTPError as exc:
            self.stats.rest_failures += 1
            self._transport_state("failed", f"depth snapshot: {exc}", BOOK_SNAPSHOT_CHANNEL)
            return
        self.stats.rest_bodies += 1
        if self.frame_hook is not None:
            self.frame_hook(recv_ns, body, f"/fapi/v1/depth?symbol={symbol}")
        await self._emit(self.decoder.decode_depth_snapshot(symbol, body, recv_ns // 1_000_000))

    async def _oi_loop(self, http: httpx.AsyncClient, symbol: str) -> None:
        """Poll open interest every interval plus jitter; failures back off, a success resets."""
        interval = self.config.oi_poll_interval_ms / 1000
        due = time.monotonic()
        failures = 0
        while not self._stop.is_set():
            wait = due + self.rng.uniform(0, self.config.oi_poll_jitter_ms / 1000) - time.monotonic()
            if await self._wait_stop(wait):
                return
            try:
                body, recv_ns = await self._get(http, "/fapi/v1/openInterest", {"symbol": symbol})
            except httpx.HTTPError as exc:
                failures += 1
                self.stats.rest_failures += 1
                self._transport_state("failed", f"open interest: {exc}", OPEN_INTEREST_CHANNEL)
                delay = backoff_delay_ms(self.config.retry, failures, self.rng.random())
                if delay is None:
                    return  # this poller gives up; the websocket keeps running
                if await self._wait_stop(delay / 1000):
                    return
                continue
            failures = 0
            self.stats.rest_bodies += 1
            if self.frame_hook is not None:
                self.frame_hook(recv_ns, body, f"/fapi/v1/openInterest?symbol={symbol}")
            await self._emit(self.decoder.decode_open_interest(symbol, body, recv_ns // 1_000_000))
            # Fixed rate, but a long stall does not turn into a burst of catch-up polls.
            due = max(due + interval, time.monotonic())
