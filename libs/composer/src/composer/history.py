"""SymbolHistory: the bounded, immutable per-symbol state the orchestrator carries cut to cut.

The state is a tuple of 180 s Bars (trade OHLCV and flow, last OI and funding sample, forced
orders) covering [engine_ts - lookback_ms, ...). `update(cut, engine_ts)` folds a cut in and
prunes; because an event is kept iff its bucket starts at or after the final horizon, and bars
accumulate in input order, `rebuild(all events, last engine_ts)` equals the cut-by-cut fold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass, fields
from typing import Any

from xray_contracts.raw_market_event import RawMarketEvent

from composer.bars import Bar, BarBuilder
from composer.config import DEFAULT_CONFIG, ComposerConfig
from composer.numeric import num


def _fast_num(value: object) -> float | None:
    """num() with a fast path for the common finite float (x - x is 0.0 only when x is finite)."""
    if type(value) is float and value - value == 0.0:
        return value
    return num(value)


_BAR_FIELDS = tuple(f.name for f in fields(Bar))
# Event types update() reads; every other type leaves a history unchanged, so a caller that buffers
# a cut may drop the rest on arrival (BookTop, MarkPrice, IndexPrice, ... are most of a busy feed).
FOLDED_EVENT_TYPES = frozenset(
    ("TradeTick", "OpenInterest", "FundingRate", "LiquidationPrint", "SnapshotInputs")
)
_INF = float("inf")
_OTHER_USED_TYPES = frozenset(("OpenInterest", "FundingRate", "LiquidationPrint"))


@dataclass(frozen=True, slots=True)
class SymbolHistory:
    """Bounded bar history of one symbol; `engine_timestamp_ms` is the last update's time."""

    symbol: str
    window_ms: int
    lookback_ms: int
    engine_timestamp_ms: int | None
    bars: tuple[Bar, ...]
    # normalized payload of the last SnapshotInputs event whose timestamp_ms == engine_timestamp_ms
    snapshot_inputs: Mapping[str, Any] | None = None

    @staticmethod
    def empty(symbol: str, config: ComposerConfig = DEFAULT_CONFIG) -> SymbolHistory:
        """A history with no bars."""
        return SymbolHistory(symbol, config.window_ms, config.lookback_ms, None, ())

    def update(self, cut: Iterable[RawMarketEvent], engine_timestamp_ms: int) -> SymbolHistory:
        """Fold one cut (input order) into the bars and prune to the lookback; never mutates self."""
        if self.engine_timestamp_ms is not None and engine_timestamp_ms < self.engine_timestamp_ms:
            raise ValueError("engine_timestamp_ms must not go backwards")
        inputs = self.snapshot_inputs
        if inputs is not None and inputs.get("timestamp_ms") != engine_timestamp_ms:
            inputs = None
        touched, inputs = _fold(cut, self, engine_timestamp_ms, inputs)
        horizon = engine_timestamp_ms - self.lookback_ms
        bars = _merge(self.bars, touched, horizon)
        return SymbolHistory(self.symbol, self.window_ms, self.lookback_ms, engine_timestamp_ms, bars, inputs)


def _fold(
    cut: Iterable[RawMarketEvent],
    history: SymbolHistory,
    engine_timestamp_ms: int,
    inputs: Mapping[str, Any] | None,
) -> tuple[dict[int, Bar], Mapping[str, Any] | None]:
    """One pass over the cut: the re-built bars by start, and the SnapshotInputs pass-through.

    Hot path (a busy cut has thousands of trades): dispatch on event_type with the most frequent
    type first; the trade aggregates of the bucket being filled live in local variables and are
    written back to its BarBuilder only when the bucket changes (rare: a cut is mostly one
    bucket), so a trade costs a few float operations and no allocation or method call. Each
    aggregate is still accumulated in input order, so the bars equal BarBuilder.add_* one by one.
    """
    symbol = history.symbol
    window = history.window_ms
    horizon = engine_timestamp_ms - history.lookback_ms
    existing = history.bars
    builders: dict[int, BarBuilder] = {}

    def builder_for(start: int) -> BarBuilder:
        builder = builders.get(start)
        if builder is None:
            builder = BarBuilder(_find_bar(existing, start) or Bar(start))
            builders[start] = builder
        return builder

    # Trade aggregates of the bucket [t_lo, t_hi) (t_bar), mirrored from / to its builder.
    t_bar: BarBuilder | None = None
    t_lo = t_hi = 0
    # Bucket of the last OI / funding / forced-order event (its builder, updated in place).
    o_bar: BarBuilder | None = None
    o_lo = o_hi = 0
    count = sided = 0
    open_ = high = low = close = volume = notional = buy_qty = sell_qty = 0.0
    for ev in cut:
        event_type = ev.event_type
        if event_type == "TradeTick":
            if ev.symbol != symbol:
                continue
            ts = ev.exchange_ts_ms
            if ts is None:
                continue
            if t_bar is None or not t_lo <= ts < t_hi:
                start = ts - ts % window
                if start < horizon:
                    continue
                if t_bar is not None:
                    t_bar.set_trades(
                        (count, open_, high, low, close, volume, notional, sided, buy_qty, sell_qty)
                    )
                t_bar = builder_for(start)
                t_lo, t_hi = start, start + window
                count, sided = t_bar.trade_count, t_bar.sided_count
                open_, high, low, close = t_bar.open, t_bar.high, t_bar.low, t_bar.close
                volume, notional, buy_qty, sell_qty = (
                    t_bar.volume,
                    t_bar.notional,
                    t_bar.buy_qty,
                    t_bar.sell_qty,
                )
            n = ev.normalized
            try:
                price = n["price"]
                qty = n["quantity"]
                side = n["side"]
            except KeyError:
                price, qty, side = n.get("price"), n.get("quantity"), n.get("side")
            # Fast path: finite float price and finite positive float quantity (chained compares
            # reject NaN and inf without allocating); anything else goes through num().
            if not (
                type(price) is float and type(qty) is float and -_INF < price < _INF and 0.0 < qty < _INF
            ):
                price, qty = num(price), num(qty)
                if price is None or qty is None or not qty > 0.0:
                    continue
            if count == 0:
                open_ = high = low = price
            elif price > high:
                high = price
            elif price < low:
                low = price
            close = price
            count += 1
            volume += qty
            notional += price * qty
            if side == "buy":
                buy_qty += qty
                sided += 1
            elif side == "sell":
                sell_qty += qty
                sided += 1
        elif event_type in _OTHER_USED_TYPES:
            if ev.symbol != symbol:
                continue
            ts = ev.exchange_ts_ms
            if ts is None:
                continue
            if o_bar is None or not o_lo <= ts < o_hi:
                start = ts - ts % window
                if start < horizon:
                    continue
                o_bar = builder_for(start)
                o_lo, o_hi = start, start + window
            n = ev.normalized
            if event_type == "FundingRate":
                value = n.get("funding_rate")
                if type(value) is not float or value - value != 0.0:
                    value = num(value)
                    if value is None:
                        continue
                # greatest timestamp wins; a later input wins a tie (BarBuilder.add_funding)
                if o_bar.funding is None or ts >= o_bar.funding_ts:
                    o_bar.funding, o_bar.funding_ts = value, ts
            elif event_type == "OpenInterest":
                value = _fast_num(n.get("open_interest"))
                if value is not None:
                    o_bar.add_open_interest(value, ts)
            else:
                price, qty = _fast_num(n.get("price")), _fast_num(n.get("quantity"))
                if price is not None and qty is not None and qty > 0.0:
                    o_bar.add_liquidation(price, qty, n.get("side"))
        elif (
            event_type == "SnapshotInputs"
            and ev.symbol == symbol
            and ev.normalized.get("timestamp_ms") == engine_timestamp_ms
        ):
            inputs = ev.normalized
    if t_bar is not None:
        t_bar.set_trades((count, open_, high, low, close, volume, notional, sided, buy_qty, sell_qty))
    return {start: builder.freeze() for start, builder in builders.items()}, inputs


def _find_bar(bars: tuple[Bar, ...], start: int) -> Bar | None:
    """The bar starting at `start` (bars are sorted by start; new buckets are usually the last)."""
    for i in range(len(bars) - 1, -1, -1):
        bar_start = bars[i].start_ms
        if bar_start == start:
            return bars[i]
        if bar_start < start:
            return None
    return None


def _merge(bars: tuple[Bar, ...], touched: Mapping[int, Bar], horizon: int) -> tuple[Bar, ...]:
    """`bars` with the touched ones replaced or inserted, sorted by start, none before `horizon`."""
    first = 0
    while first < len(bars) and bars[first].start_ms < horizon:
        first += 1
    if not touched:
        return bars[first:] if first else bars
    kept = bars[first:]
    if len(touched) == 1 and kept:
        ((start, bar),) = touched.items()
        last_start = kept[-1].start_ms
        if start > last_start:
            return (*kept, bar)
        if start == last_start:
            return (*kept[:-1], bar)
    merged = {b.start_ms: b for b in kept}
    merged.update(touched)
    return tuple(merged[s] for s in sorted(merged))


def rebuild(
    symbol: str,
    events: Iterable[RawMarketEvent],
    engine_timestamp_ms: int,
    config: ComposerConfig = DEFAULT_CONFIG,
) -> SymbolHistory:
    """The history after all `events` (in order) as of `engine_timestamp_ms`: one big update."""
    return SymbolHistory.empty(symbol, config).update(events, engine_timestamp_ms)


def history_to_dict(history: SymbolHistory) -> dict[str, Any]:
    """JSON-ready form (bars as field lists in Bar declaration order)."""
    return {
        "symbol": history.symbol,
        "window_ms": history.window_ms,
        "lookback_ms": history.lookback_ms,
        "engine_timestamp_ms": history.engine_timestamp_ms,
        "bar_fields": list(_BAR_FIELDS),
        "bars": [list(astuple(bar)) for bar in history.bars],
        "snapshot_inputs": None if history.snapshot_inputs is None else dict(history.snapshot_inputs),
    }


def history_from_dict(data: Mapping[str, Any]) -> SymbolHistory:
    """Inverse of history_to_dict."""
    if tuple(data["bar_fields"]) != _BAR_FIELDS:
        raise ValueError("bar field layout mismatch")
    bars = tuple(Bar(*row) for row in data["bars"])
    return SymbolHistory(
        str(data["symbol"]),
        int(data["window_ms"]),
        int(data["lookback_ms"]),
        None if data["engine_timestamp_ms"] is None else int(data["engine_timestamp_ms"]),
        bars,
        data.get("snapshot_inputs"),
    )
