"""Cross-symbol inputs the caller supplies: the BTC reference history, breadth and peer regimes."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from composer.config import DEFAULT_CONFIG, ComposerConfig
from composer.history import SymbolHistory


@dataclass(frozen=True, slots=True)
class MarketContext:
    """Context for one engine timestamp, shared by every symbol of that tick.

    reference: the BTC history (None when the caller has none); alt_breadth: precomputed by
    `build_market_context`; btc_regime / eth_regime: the engine's latest labels for BTC / ETH,
    passed through untouched (None when unknown).
    """

    reference: SymbolHistory | None = None
    alt_breadth: float | None = None
    btc_regime: str | None = None
    eth_regime: str | None = None
    reference_log_returns: Mapping[int, float] | None = None  # bar start -> log return; cache only
    reference_closes: Mapping[int, float] | None = None  # bar start -> close; cache only


EMPTY_CONTEXT = MarketContext()


def trailing_return(history: SymbolHistory, engine_ts: int, bars: int) -> float | None:
    """close(bar ending at engine_ts) / close(bar ending `bars` bars earlier) - 1, or None."""
    w = history.window_ms
    now_start = engine_ts - w
    then_start = now_start - bars * w
    now = then = None
    for bar in reversed(history.bars):
        if bar.start_ms == now_start and bar.trade_count:
            now = bar.close
        elif bar.start_ms == then_start and bar.trade_count:
            then = bar.close
            break
        elif bar.start_ms < then_start:
            break
    if now is None or then is None or then <= 0.0:
        return None
    return now / then - 1.0


def alt_breadth(
    histories: Iterable[SymbolHistory], engine_ts: int, config: ComposerConfig = DEFAULT_CONFIG
) -> float | None:
    """Share of non-reference symbols whose `rs_bars` return is > 0 (None if none is defined)."""
    up = total = 0
    for history in histories:
        if history.symbol == config.reference_symbol:
            continue
        r = trailing_return(history, engine_ts, config.rs_bars)
        if r is None:
            continue
        total += 1
        up += r > 0.0
    return up / total if total else None


def build_market_context(
    histories: Iterable[SymbolHistory],
    engine_ts: int,
    *,
    btc_regime: str | None = None,
    eth_regime: str | None = None,
    config: ComposerConfig = DEFAULT_CONFIG,
) -> MarketContext:
    """Pick the reference history out of `histories` and compute breadth once per tick."""
    all_histories = tuple(histories)
    reference = next((h for h in all_histories if h.symbol == config.reference_symbol), None)
    returns = None if reference is None else log_returns(reference, engine_ts)
    closes = None if reference is None else complete_closes(reference, engine_ts)
    breadth = alt_breadth(all_histories, engine_ts, config)
    return MarketContext(reference, breadth, btc_regime, eth_regime, returns, closes)


def complete_closes(history: SymbolHistory, engine_ts: int) -> dict[int, float]:
    """Bar start -> close for complete bars with trades."""
    w = history.window_ms
    return {b.start_ms: b.close for b in history.bars if b.trade_count and b.start_ms + w <= engine_ts}


def log_returns(history: SymbolHistory, engine_ts: int) -> dict[int, float]:
    """Bar start -> log(close / previous bar's close) for complete bars whose predecessor traded."""
    w = history.window_ms
    closes = complete_closes(history, engine_ts)
    out: dict[int, float] = {}
    for start, close in closes.items():
        prev = closes.get(start - w)
        if prev is not None and prev > 0.0 and close > 0.0:
            out[start] = math.log(close / prev)
    return out
