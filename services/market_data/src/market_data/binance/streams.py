"""Binance stream names: which channel a combined-stream name belongs to, and kline intervals."""

from __future__ import annotations

from typing import Final

MINUTE: Final = 60_000
KLINE_INTERVAL_MS: Final[dict[str, int]] = {
    "1m": MINUTE,
    "3m": 3 * MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": 60 * MINUTE,
    "2h": 120 * MINUTE,
    "4h": 240 * MINUTE,
    "6h": 360 * MINUTE,
    "8h": 480 * MINUTE,
    "12h": 720 * MINUTE,
    "1d": 1440 * MINUTE,
    "3d": 3 * 1440 * MINUTE,
    "1w": 7 * 1440 * MINUTE,
}

# Stream suffix (after `<symbol>@`) -> (kind, channel). Kline and depth suffixes are matched by prefix.
FIXED_SUFFIXES: Final[dict[str, tuple[str, str]]] = {
    "aggTrade": ("aggTrade", "trades"),
    "trade": ("trade", "trades_raw"),
    "bookTicker": ("bookTicker", "book_top"),
    "depth": ("depth", "book_delta"),
    "depth@0ms": ("depth", "book_delta"),
    "depth@100ms": ("depth", "book_delta"),
    "depth@250ms": ("depth", "book_delta"),
    "depth@500ms": ("depth", "book_delta"),
    "markPrice": ("markPrice", "mark_price"),
    "markPrice@1s": ("markPrice", "mark_price"),
    "forceOrder": ("forceOrder", "liquidation"),
}

OPEN_INTEREST_CHANNEL: Final = "open_interest"
BOOK_SNAPSHOT_CHANNEL: Final = "book_snapshot"


def classify_stream(stream: str) -> tuple[str, str, str, str | None] | None:
    """(symbol, kind, channel, kline interval) of a combined-stream name, or None if unsupported."""
    prefix, sep, suffix = stream.partition("@")
    if not sep or not prefix:
        return None
    symbol = prefix.upper()
    fixed = FIXED_SUFFIXES.get(suffix)
    if fixed is not None:
        return symbol, fixed[0], fixed[1], None
    if suffix.startswith("kline_"):
        interval = suffix[len("kline_") :]
        if interval in KLINE_INTERVAL_MS:
            return symbol, "kline", f"candle_{interval}", interval
    return None
