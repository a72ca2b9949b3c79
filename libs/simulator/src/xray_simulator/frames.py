"""Binance USD-M frame text and the RawMarketEvents market_data derives from each frame."""

from __future__ import annotations

from typing import Any, Final

from xray_contracts.raw_market_event import SCHEMA, SCHEMA_VERSION, RawMarketEvent

SOURCE_ID: Final = "binance"
_FUNDING_PERIOD_MS: Final = 28_800_000


def _event(  # noqa: PLR0917 (hot-path positional helper)
    event_type: str,
    symbol: str,
    exchange_ts_ms: int | None,
    recv_ts_ms: int,
    payload: bytes,
    normalized: dict[str, Any],
    channel: str,
    source_event_id: str | None = None,
) -> RawMarketEvent:
    """A RawMarketEvent exactly as market_data's Binance decoder maps the frame."""
    return RawMarketEvent(
        SCHEMA,
        SCHEMA_VERSION,
        event_type,
        SOURCE_ID,
        symbol,
        exchange_ts_ms,
        recv_ts_ms,
        payload,
        normalized,
        source_event_id,
        None,
        channel,
    )


def agg_trade(  # noqa: PLR0917 (hot-path positional helper)
    symbol: str, agg_id: int, first_id: int, price: str, qty: str, ts: int, is_sell: bool, recv_ms: int
) -> tuple[bytes, tuple[RawMarketEvent, ...]]:
    """`<sym>@aggTrade` combined-stream frame and its TradeTick."""
    maker = "true" if is_sell else "false"
    frame = (
        f'{{"stream":"{symbol.lower()}@aggTrade","data":{{"e":"aggTrade","E":{ts + 3},"a":{agg_id},'
        f'"s":"{symbol}","p":"{price}","q":"{qty}","f":{first_id},"l":{first_id},"T":{ts},"m":{maker}}}}}'
    ).encode()
    norm = {"price": float(price), "quantity": float(qty), "side": "sell" if is_sell else "buy"}
    return frame, (_event("TradeTick", symbol, ts, recv_ms, frame, norm, "trades", str(agg_id)),)


def book_ticker(  # noqa: PLR0917 (hot-path positional helper)
    symbol: str, update_id: int, bid: str, bid_qty: str, ask: str, ask_qty: str, ts: int, recv_ms: int
) -> tuple[bytes, tuple[RawMarketEvent, ...]]:
    """`<sym>@bookTicker` frame and its BookTop."""
    frame = (
        f'{{"stream":"{symbol.lower()}@bookTicker","data":{{"e":"bookTicker","u":{update_id},'
        f'"s":"{symbol}","b":"{bid}","B":"{bid_qty}","a":"{ask}","A":"{ask_qty}","T":{ts},"E":{ts + 2}}}}}'
    ).encode()
    norm = {
        "best_bid_price": float(bid),
        "best_bid_quantity": float(bid_qty),
        "best_ask_price": float(ask),
        "best_ask_quantity": float(ask_qty),
    }
    return frame, (_event("BookTop", symbol, ts + 2, recv_ms, frame, norm, "book_top"),)


def mark_price(  # noqa: PLR0917 (hot-path positional helper)
    symbol: str, mark: str, index: str, funding: str, ts: int, recv_ms: int
) -> tuple[bytes, tuple[RawMarketEvent, ...]]:
    """`<sym>@markPrice@1s` frame and its MarkPrice, IndexPrice and FundingRate events."""
    next_funding = (ts // _FUNDING_PERIOD_MS + 1) * _FUNDING_PERIOD_MS
    frame = (
        f'{{"stream":"{symbol.lower()}@markPrice@1s","data":{{"e":"markPriceUpdate","E":{ts},'
        f'"s":"{symbol}","p":"{mark}","P":"{mark}","i":"{index}","r":"{funding}","T":{next_funding}}}}}'
    ).encode()
    return frame, (
        _event("MarkPrice", symbol, ts, recv_ms, frame, {"mark_price": float(mark)}, "mark_price"),
        _event("IndexPrice", symbol, ts, recv_ms, frame, {"index_price": float(index)}, "mark_price"),
        _event("FundingRate", symbol, ts, recv_ms, frame, {"funding_rate": float(funding)}, "mark_price"),
    )


def force_order(  # noqa: PLR0917 (hot-path positional helper)
    symbol: str, side_buy: bool, price: str, qty: str, ts: int, recv_ms: int
) -> tuple[bytes, tuple[RawMarketEvent, ...]]:
    """`<sym>@forceOrder` frame and its LiquidationPrint (BUY: a short was liquidated)."""
    side = "BUY" if side_buy else "SELL"
    frame = (
        f'{{"stream":"{symbol.lower()}@forceOrder","data":{{"e":"forceOrder","E":{ts + 4},"o":{{'
        f'"s":"{symbol}","S":"{side}","o":"LIMIT","f":"IOC","q":"{qty}","p":"{price}","ap":"{price}",'
        f'"X":"FILLED","l":"{qty}","z":"{qty}","T":{ts}}}}}}}'
    ).encode()
    norm = {"price": float(price), "quantity": float(qty), "side": side.lower()}
    return frame, (_event("LiquidationPrint", symbol, ts, recv_ms, frame, norm, "liquidation"),)


def open_interest(symbol: str, value: str, ts: int, recv_ms: int) -> tuple[bytes, tuple[RawMarketEvent, ...]]:
    """REST `GET /fapi/v1/openInterest` body and its OpenInterest event."""
    body = f'{{"symbol":"{symbol}","openInterest":"{value}","time":{ts}}}'.encode()
    norm = {"open_interest": float(value)}
    return body, (_event("OpenInterest", symbol, ts, recv_ms, body, norm, "open_interest"),)
