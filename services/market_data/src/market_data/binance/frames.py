"""Turn one received Binance frame (or REST body) into RawMarketEvents: pure, one clock value per frame."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

import orjson

from market_data.binance.fields import (
    KIND,
    id_string,
    levels,
    maker_side,
    missing,
    opt_bool,
    opt_int,
    order_side,
    req_float,
    req_int,
)
from market_data.binance.streams import (
    BOOK_SNAPSHOT_CHANNEL,
    KLINE_INTERVAL_MS,
    OPEN_INTEREST_CHANNEL,
    classify_stream,
)
from market_data.contracts import SCHEMA, SCHEMA_VERSION, RawMarketEvent
from market_data.fast_event import make_event
from market_data.values import INT64_MAX, INT64_MIN, FieldError

UNKNOWN_SYMBOL: Final = "UNKNOWN"
_I64_MIN: Final = INT64_MIN
_I64_MAX: Final = INT64_MAX
_isfinite = math.isfinite
_NAN: Final = math.nan
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_Event = make_event


class _Route:
    """Where a combined-stream name leads: symbol, channel and the data decoder."""

    __slots__ = ("channel", "decode", "interval", "interval_ms", "symbol")

    def __init__(self, symbol: str, channel: str, decode: _Decode, interval: str | None) -> None:
        self.symbol = symbol
        self.channel = channel
        self.decode = decode
        self.interval = interval
        self.interval_ms = KLINE_INTERVAL_MS[interval] if interval is not None else 0


_Decode = Callable[["FrameDecoder", dict[str, Any], bytes, int, _Route], list[RawMarketEvent]]


def _ts(value: Any, key: str) -> int | None:
    """Optional int64 timestamp with the common case (a JSON int in range) first."""
    if type(value) is int and _I64_MIN <= value <= _I64_MAX:
        return value
    return opt_int(value, key)


def _price_qty(d: dict[str, Any], pk: str, qk: str) -> tuple[float, float]:
    """Two required floats; Binance sends decimal strings, so that case is tried first."""
    p = d.get(pk)
    q = d.get(qk)
    if type(p) is str and type(q) is str:
        try:
            fp = float(p)
            fq = float(q)
        except ValueError:
            pass
        else:
            if _isfinite(fp + fq) or (_isfinite(fp) and _isfinite(fq)):
                return fp, fq
    return req_float(p, pk), req_float(q, qk)


def _trade_like(id_key: str) -> _Decode:
    def decode(
        self: FrameDecoder, d: dict[str, Any], frame: bytes, recv: int, r: _Route
    ) -> list[RawMarketEvent]:
        t = d.get("T")
        ts = t if type(t) is int and _I64_MIN <= t <= _I64_MAX else req_int(t, "T")
        p = d.get("p")
        q = d.get("q")
        price = quantity = _NAN
        if type(p) is str and type(q) is str:
            try:
                price = float(p)
                quantity = float(q)
            except ValueError:
                price = _NAN
        if not _isfinite(price + quantity):
            price, quantity = _price_qty(d, "p", "q")
        m = d.get("m")
        side = ("sell" if m else "buy") if (m is True or m is False) else maker_side(m)
        return [
            _Event(
                SCHEMA,
                SCHEMA_VERSION,
                "TradeTick",
                self.source_id,
                r.symbol,
                ts,
                recv,
                frame,
                {"price": price, "quantity": quantity, "side": side},
                id_string(d.get(id_key)),
                None,
                r.channel,
                None,
                None,
            )
        ]

    return decode


_agg_trade = _trade_like("a")
_trade = _trade_like("t")


def _book_ticker(
    self: FrameDecoder, d: dict[str, Any], frame: bytes, recv: int, r: _Route
) -> list[RawMarketEvent]:
    b = d.get("b")
    bq = d.get("B")
    a = d.get("a")
    aq = d.get("A")
    bid = bid_qty = ask = ask_qty = _NAN
    if type(b) is str and type(bq) is str and type(a) is str and type(aq) is str:
        try:
            bid = float(b)
            bid_qty = float(bq)
            ask = float(a)
            ask_qty = float(aq)
        except ValueError:
            bid = _NAN
    if not _isfinite(bid + bid_qty + ask + ask_qty):  # the exact, slower checks name the bad field
        bid, bid_qty = _price_qty(d, "b", "B")
        ask, ask_qty = _price_qty(d, "a", "A")
    e = d.get("E")
    u = d.get("u")
    return [
        _Event(
            SCHEMA,
            SCHEMA_VERSION,
            "BookTop",
            self.source_id,
            r.symbol,
            e if type(e) is int and _I64_MIN <= e <= _I64_MAX else opt_int(e, "E"),
            recv,
            frame,
            {
                "best_bid_price": bid,
                "best_bid_quantity": bid_qty,
                "best_ask_price": ask,
                "best_ask_quantity": ask_qty,
            },
            None,
            u if type(u) is int and _I64_MIN <= u <= _I64_MAX else opt_int(u, "u"),
            r.channel,
            None,
            None,
        )
    ]


def _depth(self: FrameDecoder, d: dict[str, Any], frame: bytes, recv: int, r: _Route) -> list[RawMarketEvent]:
    normalized = {"bids": levels(d.get("b"), "b"), "asks": levels(d.get("a"), "a")}
    ts = opt_int(d.get("E"), "E")
    return [
        _Event(
            SCHEMA,
            SCHEMA_VERSION,
            "BookDelta",
            self.source_id,
            r.symbol,
            ts,
            recv,
            frame,
            normalized,
            None,
            opt_int(d.get("u"), "u"),
            r.channel,
            None,
            None,
        )
    ]


def _force_order(
    self: FrameDecoder, d: dict[str, Any], frame: bytes, recv: int, r: _Route
) -> list[RawMarketEvent]:
    o = d.get("o")
    if type(o) is not dict:
        raise missing("o")
    ts = opt_int(o.get("T"), "o.T")
    normalized = {
        "price": req_float(o.get("p"), "o.p"),
        "quantity": req_float(o.get("q"), "o.q"),
        "side": order_side(o.get("S")),
    }
    return [
        _Event(
            SCHEMA,
            SCHEMA_VERSION,
            "LiquidationPrint",
            self.source_id,
            r.symbol,
            ts,
            recv,
            frame,
            normalized,
            None,
            None,
            r.channel,
            None,
            None,
        )
    ]


def _kline(self: FrameDecoder, d: dict[str, Any], frame: bytes, recv: int, r: _Route) -> list[RawMarketEvent]:
    k = d.get("k")
    if type(k) is not dict:
        raise missing("k")
    interval = k.get("i")
    if type(interval) is not str:
        raise missing("k.i")
    if interval != r.interval:
        raise FieldError(KIND, f"unexpected interval: {interval}")
    close_ts = k.get("T")
    ts = req_int(d.get("E"), "E") if close_ts is None else req_int(close_ts, "k.T")
    normalized = {
        "open": req_float(k.get("o"), "k.o"),
        "high": req_float(k.get("h"), "k.h"),
        "low": req_float(k.get("l"), "k.l"),
        "close": req_float(k.get("c"), "k.c"),
        "volume": req_float(k.get("v"), "k.v"),
        "interval_ms": r.interval_ms,
        "is_final": opt_bool(k.get("x"), "k.x"),
    }
    return [
        _Event(
            SCHEMA,
            SCHEMA_VERSION,
            "Candle",
            self.source_id,
            r.symbol,
            ts,
            recv,
            frame,
            normalized,
            None,
            None,
            r.channel,
            None,
            None,
        )
    ]


_MARK_FIELDS: Final = (
    ("p", "MarkPrice", "mark_price"),
    ("i", "IndexPrice", "index_price"),
    ("r", "FundingRate", "funding_rate"),
)


def _mark_price(
    self: FrameDecoder, d: dict[str, Any], frame: bytes, recv: int, r: _Route
) -> list[RawMarketEvent]:
    # Whole-frame check first; then each of the three values stands or fails on its own.
    ts = opt_int(d.get("E"), "E")
    failures: list[RawMarketEvent] = []
    events: list[RawMarketEvent] = []
    for key, event_type, field in _MARK_FIELDS:
        try:
            value = req_float(d.get(key), key)
        except FieldError as err:
            failures.append(self.failure(frame, recv, err.kind, err.detail, r.symbol, r.channel))
            continue
        events.append(
            _Event(
                SCHEMA,
                SCHEMA_VERSION,
                event_type,
                self.source_id,
                r.symbol,
                ts,
                recv,
                frame,
                {field: value},
                None,
                None,
                r.channel,
                None,
                None,
            )
        )
    return failures + events if failures else events


_DECODERS: Final[dict[str, _Decode]] = {
    "aggTrade": _agg_trade,
    "trade": _trade,
    "bookTicker": _book_ticker,
    "depth": _depth,
    "forceOrder": _force_order,
    "kline": _kline,
    "markPrice": _mark_price,
}


class FrameDecoder:
    """Decodes combined-stream frames and REST bodies; never raises for bad input."""

    def __init__(self, source_id: str = "binance", fallback_symbol: str = UNKNOWN_SYMBOL) -> None:
        self.source_id = source_id
        self.fallback_symbol = fallback_symbol
        self._routes: dict[str, _Route | None] = {}

    def failure(  # noqa: PLR0917 - called on every failure path with the same six values
        self, frame: bytes, recv: int, kind: str, detail: str, symbol: str | None, channel: str | None
    ) -> RawMarketEvent:
        """One DecodeFailure carrying the untouched frame."""
        return _Event(
            SCHEMA,
            SCHEMA_VERSION,
            "DecodeFailure",
            self.source_id,
            symbol or self.fallback_symbol,
            None,
            recv,
            frame,
            {"error_kind": kind, "error_detail": detail},
            None,
            None,
            channel,
            None,
            None,
        )

    def _route(self, stream: str) -> _Route | None:
        try:
            return self._routes[stream]
        except KeyError:
            pass
        info = classify_stream(stream)
        route = None if info is None else _Route(info[0], info[2], _DECODERS[info[1]], info[3])
        if len(self._routes) < 10_000:  # a hostile peer must not grow the cache without bound
            self._routes[stream] = route
        return route

    def decode(self, frame: bytes, recv_ts_ms: int) -> list[RawMarketEvent]:
        """All events of one websocket frame, every one stamped with the same `recv_ts_ms`."""
        try:
            obj = _loads(frame)
        except _JSONDecodeError as exc:
            return [self.failure(frame, recv_ts_ms, "decode_error", str(exc), None, None)]
        return self.decode_parsed(frame, obj, recv_ts_ms)

    def decode_parsed(self, frame: bytes, obj: Any, recv_ts_ms: int) -> list[RawMarketEvent]:
        """As `decode`, for a frame already parsed into `obj` (the frame path hands over its parse)."""
        if type(obj) is not dict:
            return [self.failure(frame, recv_ts_ms, KIND, "payload is not a mapping", None, None)]
        stream = obj.get("stream")
        if type(stream) is not str:
            return [self.failure(frame, recv_ts_ms, KIND, "missing stream", None, None)]
        route = self._routes.get(stream) or self._route(stream)
        if route is None:
            return [self.failure(frame, recv_ts_ms, KIND, "unsupported stream", None, None)]
        data = obj.get("data")
        if type(data) is not dict:
            return [self.failure(frame, recv_ts_ms, KIND, "missing data", route.symbol, route.channel)]
        try:
            return route.decode(self, data, frame, recv_ts_ms, route)
        except FieldError as err:
            return [self.failure(frame, recv_ts_ms, err.kind, err.detail, route.symbol, route.channel)]
        except Exception as exc:  # a decoder bug must still leave a receipt, never a drop
            detail = f"unexpected {type(exc).__name__}"
            return [self.failure(frame, recv_ts_ms, KIND, detail, route.symbol, route.channel)]

    def _rest_object(
        self, body: bytes, recv: int, symbol: str, channel: str
    ) -> dict[str, Any] | RawMarketEvent:
        try:
            obj = _loads(body)
        except _JSONDecodeError as exc:
            return self.failure(body, recv, "decode_error", str(exc), symbol, channel)
        if type(obj) is not dict:
            return self.failure(body, recv, KIND, "payload is not a mapping", symbol, channel)
        return obj

    def decode_open_interest(self, symbol: str, body: bytes, recv_ts_ms: int) -> list[RawMarketEvent]:
        """The OpenInterest event (or DecodeFailure) of one `/fapi/v1/openInterest` body."""
        obj = self._rest_object(body, recv_ts_ms, symbol, OPEN_INTEREST_CHANNEL)
        if isinstance(obj, RawMarketEvent):
            return [obj]
        try:
            value = req_float(obj.get("openInterest"), "openInterest")
            ts = opt_int(obj.get("time"), "time")
        except FieldError as err:
            return [self.failure(body, recv_ts_ms, err.kind, err.detail, symbol, OPEN_INTEREST_CHANNEL)]
        return [
            _Event(
                SCHEMA,
                SCHEMA_VERSION,
                "OpenInterest",
                self.source_id,
                symbol,
                ts,
                recv_ts_ms,
                body,
                {"open_interest": value},
                None,
                None,
                OPEN_INTEREST_CHANNEL,
                None,
                None,
            )
        ]

    def decode_depth_snapshot(self, symbol: str, body: bytes, recv_ts_ms: int) -> list[RawMarketEvent]:
        """A `/fapi/v1/depth` body as a BookDelta flagged `is_snapshot` on channel `book_snapshot`."""
        channel = BOOK_SNAPSHOT_CHANNEL
        obj = self._rest_object(body, recv_ts_ms, symbol, channel)
        if isinstance(obj, RawMarketEvent):
            return [obj]
        try:
            normalized = {
                "bids": levels(obj.get("bids"), "bids"),
                "asks": levels(obj.get("asks"), "asks"),
                "is_snapshot": True,
            }
            ts = opt_int(obj.get("E"), "E")
            seq = opt_int(obj.get("lastUpdateId"), "lastUpdateId")
        except FieldError as err:
            return [self.failure(body, recv_ts_ms, err.kind, err.detail, symbol, channel)]
        return [
            _Event(
                SCHEMA,
                SCHEMA_VERSION,
                "BookDelta",
                self.source_id,
                symbol,
                ts,
                recv_ts_ms,
                body,
                normalized,
                None,
                seq,
                channel,
                None,
                None,
            )
        ]
