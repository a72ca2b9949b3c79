"""The seven canonical v1 features computed from one cut alone, exactly as the original did."""

from __future__ import annotations

import math
from collections.abc import Sequence

from xray_contracts.raw_market_event import RawMarketEvent

from composer.config import ComposerConfig
from composer.numeric import num, population_z


def price_last(events: Sequence[RawMarketEvent], symbol: str, engine_ts: int) -> float | None:
    """Price of the last eligible trade in input order with exchange_ts_ms <= engine_ts."""
    out: float | None = None
    for ev in events:
        if ev.event_type != "TradeTick" or ev.symbol != symbol:
            continue
        ts = ev.exchange_ts_ms
        if ts is None or ts > engine_ts:
            continue
        price = num(ev.normalized.get("price"))
        if price is not None:
            out = price
    return out


def _in_window(ts: int | None, engine_ts: int, window_ms: int) -> bool:
    return ts is not None and engine_ts - window_ms <= ts <= engine_ts


def vwap(events: Sequence[RawMarketEvent], symbol: str, engine_ts: int, window_ms: int) -> float | None:
    """Sum(price*qty)/Sum(qty) over trades in [engine_ts - window, engine_ts], qty > 0."""
    pv = 0.0
    qty_sum = 0.0
    for ev in events:
        if ev.event_type != "TradeTick" or ev.symbol != symbol:
            continue
        if not _in_window(ev.exchange_ts_ms, engine_ts, window_ms):
            continue
        price = num(ev.normalized.get("price"))
        qty = num(ev.normalized.get("quantity"))
        if price is None or qty is None or qty <= 0.0:
            continue
        pv += price * qty
        qty_sum += qty
    if qty_sum <= 0.0:
        return None
    out = pv / qty_sum
    return out if math.isfinite(out) else None


def signed_volume(
    events: Sequence[RawMarketEvent], symbol: str, engine_ts: int, window_ms: int
) -> tuple[float, float, int]:
    """(buy qty, sell qty, sided trade count) over the window; price is not looked at."""
    buy = 0.0
    sell = 0.0
    count = 0
    for ev in events:
        if ev.event_type != "TradeTick" or ev.symbol != symbol:
            continue
        if not _in_window(ev.exchange_ts_ms, engine_ts, window_ms):
            continue
        side = ev.normalized.get("side")
        if side not in {"buy", "sell"}:
            continue
        qty = num(ev.normalized.get("quantity"))
        if qty is None or qty <= 0.0:
            continue
        count += 1
        if side == "buy":
            buy += qty
        else:
            sell += qty
    return buy, sell, count


def cvd_and_ratio(
    events: Sequence[RawMarketEvent], symbol: str, engine_ts: int, window_ms: int
) -> tuple[float | None, float | None]:
    """(cvd_3m, aggressive_volume_ratio_3m): buy - sell and buy / (buy + sell); None without trades."""
    buy, sell, count = signed_volume(events, symbol, engine_ts, window_ms)
    if count == 0:
        return None, None
    cvd = buy - sell
    total = buy + sell
    return cvd, (buy / total if total > 0.0 else None)


def candle_true_ranges(
    events: Sequence[RawMarketEvent], symbol: str, engine_ts: int, interval_ms: int
) -> list[float]:
    """True ranges of eligible final candles sorted by (exchange ts, input index); duplicates kept."""
    eligible: list[tuple[int, int, float, float, float]] = []
    for index, ev in enumerate(events):
        if ev.event_type != "Candle" or ev.symbol != symbol:
            continue
        ts = ev.exchange_ts_ms
        if ts is None or ts > engine_ts:
            continue
        n = ev.normalized
        if n.get("interval_ms") != interval_ms or n.get("is_final") is not True:
            continue
        high, low, close = num(n.get("high")), num(n.get("low")), num(n.get("close"))
        if high is None or low is None or close is None:
            continue
        eligible.append((ts, index, high, low, close))
    eligible.sort(key=lambda c: (c[0], c[1]))
    return true_ranges([(h, lo, c) for _, _, h, lo, c in eligible])


def true_ranges(bars: Sequence[tuple[float, float, float]]) -> list[float]:
    """TR_0 = high - low; TR_i = max(high - low, |high - prev close|, |low - prev close|)."""
    out: list[float] = []
    prev_close: float | None = None
    for high, low, close in bars:
        if prev_close is None:
            out.append(high - low)
        else:
            out.append(max(high - low, abs(high - prev_close), abs(low - prev_close)))
        prev_close = close
    return out


def atr_and_z(trs: Sequence[float], atr_window: int, z_window: int) -> tuple[float | None, float | None]:
    """(ATR = mean of the last `atr_window` TRs, z of that ATR against the last `z_window` ATRs)."""
    n = len(trs)
    if n < atr_window:
        return None, None
    series: list[float] = []
    for j in range(atr_window - 1, n):
        series.append(sum(trs[j - atr_window + 1 : j + 1]) / atr_window)
    atr = series[-1]
    if not math.isfinite(atr):
        return None, None
    if len(series) < z_window:
        return atr, None
    return atr, population_z(series[-z_window:], atr)


def open_interest_latest(events: Sequence[RawMarketEvent], symbol: str) -> float | None:
    """Greatest-timestamp OI sample (later input wins ties); null-timestamp samples only as fallback."""
    best: float | None = None
    best_ts: int | None = None
    fallback: float | None = None
    for ev in events:
        if ev.event_type != "OpenInterest" or ev.symbol != symbol:
            continue
        value = num(ev.normalized.get("open_interest"))
        if value is None:
            continue
        ts = ev.exchange_ts_ms
        if ts is None:
            fallback = value
        elif best_ts is None or ts >= best_ts:
            best, best_ts = value, ts
    return best if best_ts is not None else fallback


def canonical_cut_features(
    events: Sequence[RawMarketEvent], symbol: str, engine_ts: int, config: ComposerConfig
) -> dict[str, float | None]:
    """The seven canonical keys from the cut alone (the original's semantics, kept for parity)."""
    cvd, ratio = cvd_and_ratio(events, symbol, engine_ts, config.window_ms)
    trs = candle_true_ranges(events, symbol, engine_ts, config.candle_interval_ms)
    atr, atr_z = atr_and_z(trs, config.atr_window, config.atr_z_window)
    return {
        "price_last": price_last(events, symbol, engine_ts),
        "vwap_3m": vwap(events, symbol, engine_ts, config.window_ms),
        "atr_14": atr,
        "atr_z_50": atr_z,
        "cvd_3m": cvd,
        "aggressive_volume_ratio_3m": ratio,
        "open_interest_latest": open_interest_latest(events, symbol),
    }
