"""A local stand-in for Binance USD-M (websocket + REST on loopback) that serves recorded frames.

Tests point the live adapter at it to exercise the real network code: scripted drops (close frames),
stalls (silence without a close) and REST bodies for depth snapshots and open interest.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from market_data.recording import RecordedFrame, rest_endpoint, rest_symbol, stream_of


@dataclass
class ExchangeScript:
    """Faults to inject, as cumulative counts of websocket frames sent."""

    drop_after: list[int] = field(default_factory=list)
    stall_after: list[int] = field(default_factory=list)
    close_code: int = 1001
    # Seconds between frames (0: as fast as the socket takes them).
    frame_interval_s: float = 0.0
    # Send only frames of the subscribed streams (False: send everything, e.g. fuzzed frames).
    filter_streams: bool = True


@dataclass
class ExchangeLog:
    """What the exchange did, for tests to compare against what reached the topic."""

    connections: int = 0
    drops: int = 0
    stalls: int = 0
    sent: list[bytes] = field(default_factory=list)
    rest_served: list[tuple[str, str, bytes]] = field(default_factory=list)
    subscriptions: list[set[str]] = field(default_factory=list)


def split_recording(
    frames: Iterable[RecordedFrame],
) -> tuple[list[bytes], dict[tuple[str, str], list[bytes]]]:
    """Websocket frames in order, and REST bodies by (endpoint, symbol) in order."""
    ws: list[bytes] = []
    rest: dict[tuple[str, str], list[bytes]] = defaultdict(list)
    last_symbol = ""
    for frame in frames:
        if frame.kind == "ws":
            ws.append(frame.payload)
            stream = stream_of(frame.payload)
            if stream:
                last_symbol = stream.partition("@")[0].upper()
            continue
        # A REST line without URL belongs to the symbol of the frames around it (one symbol per file).
        rest[(rest_endpoint(frame), rest_symbol(frame, last_symbol))].append(frame.payload)
    return ws, dict(rest)


def _is_utf8(frame: bytes) -> bool:
    """Text frames must be UTF-8; anything else goes out as a binary frame."""
    try:
        frame.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class FakeBinanceExchange:
    """Serves `/stream?streams=...` and `/fapi/v1/{depth,openInterest}` from recorded data."""

    def __init__(
        self,
        ws_frames: Sequence[bytes],
        rest_bodies: dict[tuple[str, str], list[bytes]] | None = None,
        script: ExchangeScript | None = None,
    ) -> None:
        self.ws_frames = list(ws_frames)
        self.rest_bodies = rest_bodies or {}
        self.script = script or ExchangeScript()
        self.log = ExchangeLog()
        self.cursor = 0
        self.all_sent = asyncio.Event()
        self._server: Server | None = None
        self._rest_cursor: dict[tuple[str, str], int] = defaultdict(int)
        self._drops = sorted(self.script.drop_after)
        self._stalls = sorted(self.script.stall_after)

    @property
    def port(self) -> int:
        """The bound loopback port."""
        assert self._server is not None
        port: int = next(iter(self._server.sockets)).getsockname()[1]
        return port

    @property
    def ws_base_url(self) -> str:
        """What the adapter's `ws_base_url` should be."""
        return f"ws://127.0.0.1:{self.port}"

    @property
    def rest_base_url(self) -> str:
        """What the adapter's `rest_base_url` should be."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Bind to an ephemeral loopback port."""
        self._server = await serve(
            self._handle, "127.0.0.1", 0, process_request=self._rest, max_size=None, compression=None
        )

    async def stop(self) -> None:
        """Close the server and every connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _rest(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        if parts.path == "/stream":
            return None  # a websocket upgrade: let the handshake go on
        if parts.path == "/fapi/v1/exchangeInfo":
            info = self.rest_bodies.get(("exchange_info", ""))
            return self._response(200, info[0]) if info else self._response(404, b'{"code":-1,"msg":"none"}')
        endpoint = {"/fapi/v1/depth": "depth", "/fapi/v1/openInterest": "open_interest"}.get(parts.path)
        symbol = (parse_qs(parts.query).get("symbol") or [""])[0].upper()
        bodies = self.rest_bodies.get((endpoint or "", symbol))
        if endpoint is None or not bodies:
            return self._response(404, b'{"code":-1121,"msg":"Invalid symbol."}')
        key = (endpoint, symbol)
        index = min(self._rest_cursor[key], len(bodies) - 1)
        self._rest_cursor[key] += 1
        body = bodies[index]
        self.log.rest_served.append((endpoint, symbol, body))
        return self._response(200, body)

    @staticmethod
    def _response(status: int, body: bytes) -> Response:
        headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return Response(status, "OK" if status == 200 else "Not Found", headers, body)

    async def _handle(self, ws: ServerConnection) -> None:
        self.log.connections += 1
        assert ws.request is not None
        wanted = set((parse_qs(urlsplit(ws.request.path).query).get("streams") or [""])[0].split("/"))
        self.log.subscriptions.append(wanted)
        try:
            while self.cursor < len(self.ws_frames):
                sent = len(self.log.sent)
                if self._drops and sent >= self._drops[0]:
                    self._drops.pop(0)
                    self.log.drops += 1
                    await ws.close(self.script.close_code, "scripted drop")
                    return
                if self._stalls and sent >= self._stalls[0]:
                    self._stalls.pop(0)
                    self.log.stalls += 1
                    await ws.wait_closed()  # silent until the client gives up on us
                    return
                frame = self.ws_frames[self.cursor]
                if not self.script.filter_streams or stream_of(frame) in wanted:
                    await ws.send(frame, text=_is_utf8(frame))
                    self.log.sent.append(frame)
                self.cursor += 1  # only after the send: a frame cut off by a client close is re-sent
                if self.script.frame_interval_s:
                    await asyncio.sleep(self.script.frame_interval_s)
            self.all_sent.set()
            await ws.wait_closed()
        except ConnectionClosed:
            return
