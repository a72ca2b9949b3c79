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
_USED_TYPES = frozenset(("TradeTick", "OpenInterest", "FundingRate", "LiquidationPrint"))


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
        window = self.window_ms
        horizon = engine_timestamp_ms - self.lookback_ms
        existing = {bar.start_ms: bar for bar in self.bars}
        touched: dict[int, BarBuilder] = {}
        symbol = self.symbol
        used = _USED_TYPES
        last_start = -1
        builder: BarBuilder | None = None
        inputs = self.snapshot_inputs
        if inputs is not None and inputs.get("timestamp_ms") != engine_timestamp_ms:
            inputs = None
        for ev in cut:
            event_type = ev.event_type
            if event_type not in used:
                if (
                    event_type == "SnapshotInputs"
                    and ev.symbol == symbol
                    and ev.normalized.get("timestamp_ms") == engine_timestamp_ms
                ):
                    inputs = ev.normalized
                continue
            if ev.symbol != symbol:
                continue
            ts = ev.exchange_ts_ms
            if ts is None:
                continue
            start = ts - ts % window
            if start != last_start or builder is None:
                if start < horizon:
                    continue
                builder = touched.get(start)
                if builder is None:
                    builder = BarBuilder(existing.get(start) or Bar(start))
                    touched[start] = builder
                last_start = start
            n = ev.normalized
            if event_type == "TradeTick":
                price = n.get("price")
                qty = n.get("quantity")
                # Inline fast path of num(): a finite float is the common case (x - x == 0 iff finite).
                if type(price) is not float or price - price != 0.0:
                    price = num(price)
                if type(qty) is not float or qty - qty != 0.0:
                    qty = num(qty)
                if price is not None and qty is not None and qty > 0.0:
                    builder.add_trade(price, qty, n.get("side"))
            elif event_type == "OpenInterest":
                value = _fast_num(n.get("open_interest"))
                if value is not None:
                    builder.add_open_interest(value, ts)
            elif event_type == "FundingRate":
                value = _fast_num(n.get("funding_rate"))
                if value is not None:
                    builder.add_funding(value, ts)
            else:
                price, qty = _fast_num(n.get("price")), _fast_num(n.get("quantity"))
                if price is not None and qty is not None and qty > 0.0:
                    builder.add_liquidation(price, qty, n.get("side"))
        for start, builder in touched.items():
            existing[start] = builder.freeze()
        bars = tuple(existing[s] for s in sorted(existing) if s >= horizon)
        return SymbolHistory(symbol, window, self.lookback_ms, engine_timestamp_ms, bars, inputs)


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
