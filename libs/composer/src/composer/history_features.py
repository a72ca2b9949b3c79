"""Every feature key computed from a SymbolHistory (+ MarketContext) at one engine timestamp.

Bars used are the complete ones (start + window <= engine_ts). "The last bar" is the bar of the
window that ends at engine_ts, [engine_ts - 180 s, engine_ts); windows are half-open here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import pairwise

from composer.bars import Bar
from composer.config import ComposerConfig
from composer.context import MarketContext, complete_closes, log_returns
from composer.cut_features import atr_and_z, true_ranges
from composer.history import SymbolHistory
from composer.numeric import finite_or_none, population_z


def _div(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0.0:
        return None
    return finite_or_none(a / b)


class _View:
    """Index of the complete bars of one history at one engine timestamp (internal)."""

    __slots__ = ("by_start", "closes", "end", "max_age", "trade_bars", "w")

    def __init__(self, history: SymbolHistory, engine_ts: int, max_age: int) -> None:
        self.w = history.window_ms
        self.end = engine_ts
        self.max_age = max_age
        w = self.w
        complete = [b for b in history.bars if b.start_ms + w <= engine_ts]
        self.by_start = {b.start_ms: b for b in complete}
        self.trade_bars = [b for b in complete if b.trade_count]
        self.closes = {b.start_ms: b.close for b in self.trade_bars}

    def bar(self, bars_back: int) -> Bar | None:
        """The bar ending `bars_back` windows before engine_ts (0 = the last bar)."""
        return self.by_start.get(self.end - (bars_back + 1) * self.w)

    def close(self, bars_back: int) -> float | None:
        """Close of that bar if it has trades."""
        return self.closes.get(self.end - (bars_back + 1) * self.w)

    def oi_asof(self, bars_back: int) -> float | None:
        """Latest OI sample in the bar `bars_back` back or up to max_age - 1 bars before it."""
        for k in range(bars_back, bars_back + self.max_age):
            b = self.bar(k)
            if b is not None and b.oi is not None:
                return b.oi
        return None

    def funding_asof(self, bars_back: int) -> float | None:
        """Latest funding sample, with the same staleness bound as oi_asof."""
        for k in range(bars_back, bars_back + self.max_age):
            b = self.bar(k)
            if b is not None and b.funding is not None:
                return b.funding
        return None


def _rel_change(now: float | None, then: float | None) -> float | None:
    if now is None or then is None or then <= 0.0:
        return None
    return finite_or_none(now / then - 1.0)


def _structure(view: _View, config: ComposerConfig) -> tuple[float | None, float | None]:
    """(acceptance_score_15m, sweep_score_3m) against the close range of the prior reference bars.

    acceptance: share of the last `structure_bars` trade bars whose close is outside the close range
    of the `sweep_reference_bars` before them, on the side of the latest close (0 = still inside).
    sweep: the last bar's longer wick (a probe that was rejected) in units of three times the
    reference bars' mean |close-to-close| move, capped at 1.
    """
    n = config.structure_bars
    ref_n = config.sweep_reference_bars
    bars = view.trade_bars
    last = view.bar(0)
    if last is None or not last.trade_count or not bars or bars[-1] is not last:
        return None, None
    acceptance: float | None = None
    if len(bars) >= n + ref_n:
        ref = bars[-(n + ref_n) : -n]
        hi = max(b.close for b in ref)
        lo = min(b.close for b in ref)
        side = (last.close > hi) - (last.close < lo)
        if side > 0:
            acceptance = sum(b.close > hi for b in bars[-n:]) / n
        elif side < 0:
            acceptance = sum(b.close < lo for b in bars[-n:]) / n
        else:
            acceptance = 0.0
    sweep: float | None = None
    if len(bars) >= ref_n + 2:
        # Scale: mean |close-to-close| move of the reference bars (wicks do not inflate it).
        closes = [b.close for b in bars[-(ref_n + 2) : -1]]
        scale = sum(abs(closes[i + 1] - closes[i]) for i in range(ref_n)) / ref_n
        if scale > 0.0:
            wick = max(last.high - max(last.open, last.close), min(last.open, last.close) - last.low)
            sweep = min(1.0, wick / (3.0 * scale))
    return acceptance, sweep


def _beta(view: _View, ref: Mapping[int, float], config: ComposerConfig) -> float | None:
    """OLS beta of per-bar log returns on the reference's over the last `beta_bars` bars."""
    xs: list[float] = []
    ys: list[float] = []
    closes = view.closes
    w = view.w
    for k in range(config.beta_bars):
        start = view.end - (k + 1) * w
        x = ref.get(start)
        if x is None:
            continue
        c1 = closes.get(start)
        c0 = closes.get(start - w)
        if c1 is None or c0 is None or c1 <= 0.0 or c0 <= 0.0:
            continue
        xs.append(x)
        ys.append(math.log(c1 / c0))
    m = len(xs)
    if m < config.beta_min_pairs:
        return None
    mx = sum(xs) / m
    my = sum(ys) / m
    # list (not generator) arguments: the same additions in the same order, without generator frames
    var = sum([(x - mx) * (x - mx) for x in xs])
    if var <= 0.0:
        return None
    cov = sum([(x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)])
    return finite_or_none(cov / var)


def history_features(
    history: SymbolHistory, engine_ts: int, config: ComposerConfig, context: MarketContext
) -> dict[str, float | None]:
    """All FEATURE_KEYS_V1 values from the history; None wherever the inputs are missing."""
    view = _View(history, engine_ts, config.asof_max_age_bars)
    last = view.bar(0)
    has_trades = last is not None and last.trade_count > 0
    out: dict[str, float | None] = {}

    trade_bars = view.trade_bars
    out["price_last"] = trade_bars[-1].close if trade_bars else None
    out["vwap_3m"] = _div(last.notional, last.volume) if last is not None and has_trades else None
    cvd: float | None = None
    ratio: float | None = None
    if last is not None and last.sided_count:
        cvd = last.buy_qty - last.sell_qty
        ratio = _div(last.buy_qty, last.buy_qty + last.sell_qty)
    out["cvd_3m"] = cvd
    out["aggressive_volume_ratio_3m"] = ratio

    needed = config.atr_window + config.atr_z_window - 1
    recent = trade_bars[-(needed + 1) :]
    if len(recent) > needed:
        # the first bar only serves as previous close (its range-only TR is not used)
        trs = [
            max(b.high - b.low, abs(b.high - prev.close), abs(b.low - prev.close))
            for prev, b in pairwise(recent)
        ]
    else:
        trs = true_ranges([(b.high, b.low, b.close) for b in recent])
    atr, atr_z = atr_and_z(trs, config.atr_window, config.atr_z_window)
    atr = atr if atr is not None and atr > 0.0 else None
    if atr is None:
        atr_z = None
    out["atr_14"] = atr
    out["atr_z_50"] = atr_z
    out["range_expansion_3m"] = _div(last.high - last.low, atr) if last is not None and has_trades else None

    close0, close1 = view.close(0), view.close(1)
    close5 = view.close(config.structure_bars)
    out["return_3m_atr"] = _div(None if close0 is None or close1 is None else close0 - close1, atr)
    out["return_15m_atr"] = _div(None if close0 is None or close5 is None else close0 - close5, atr)

    acceptance, sweep = _structure(view, config)
    out["acceptance_score_15m"] = acceptance
    out["sweep_score_3m"] = sweep

    oi_now = view.oi_asof(0)
    out["open_interest_latest"] = oi_now
    short = config.slope_short_bars
    out["oi_change_3m"] = _rel_change(oi_now, view.oi_asof(1))
    slope_now = _rel_change(oi_now, view.oi_asof(short))
    slope_prev = _rel_change(view.oi_asof(short), view.oi_asof(2 * short))
    out["oi_slope_15m"] = slope_now
    out["oi_slope_1h"] = _rel_change(oi_now, view.oi_asof(config.slope_med_bars))
    out["oi_accel_15m"] = None if slope_now is None or slope_prev is None else slope_now - slope_prev

    funding_now = view.funding_asof(0)
    funding_then = view.funding_asof(short)
    out["funding_rate_latest"] = funding_now
    out["funding_slope_15m"] = (
        None if funding_now is None or funding_then is None else finite_or_none(funding_now - funding_then)
    )
    samples = [b.funding for b in view.by_start.values() if b.funding is not None]
    out["funding_z_lookback"] = (
        population_z(samples, funding_now)
        if funding_now is not None and len(samples) >= config.funding_z_min_samples
        else None
    )

    feed_live = config.assume_liquidation_feed or any(b.liq_count for b in view.by_start.values())
    intensity: float | None = None
    imbalance: float | None = None
    if feed_live and last is not None and has_trades:
        liq = last.liq_buy_notional + last.liq_sell_notional
        intensity = _div(liq, last.notional)
        imbalance = _div(last.liq_buy_notional - last.liq_sell_notional, liq) if liq > 0.0 else 0.0
    out["liquidation_intensity_3m"] = intensity
    out["liquidation_imbalance_3m"] = imbalance

    slope_bars = [view.bar(k) for k in range(config.structure_bars)]
    if all(b is not None and b.sided_count for b in slope_bars):
        deltas = [b.buy_qty - b.sell_qty for b in slope_bars if b is not None]
        out["cvd_slope_15m"] = finite_or_none(sum(deltas) / len(deltas))
    else:
        out["cvd_slope_15m"] = None
    move = None if last is None or not has_trades else last.close - last.open
    out["cvd_efficiency_3m"] = _div(move, None if cvd is None else abs(cvd))

    rs: float | None = None
    beta: float | None = None
    ref = context.reference
    if ref is not None:
        own = _rel_change(close0, view.close(config.rs_bars))
        ref_closes = context.reference_closes
        if ref_closes is None or ref is history:
            ref_closes = complete_closes(ref, engine_ts)
        w = view.w
        theirs = _rel_change(
            ref_closes.get(engine_ts - w), ref_closes.get(engine_ts - (config.rs_bars + 1) * w)
        )
        rs = None if own is None or theirs is None else finite_or_none(own - theirs)
        ref_returns = context.reference_log_returns
        if ref_returns is None or ref is history:
            ref_returns = log_returns(ref, engine_ts)
        beta = _beta(view, ref_returns, config)
    out["rs_vs_btc_1h"] = rs
    out["beta_to_btc_50"] = beta
    out["alt_breadth_1h"] = context.alt_breadth
    return out
