"""One 180 s bucket of a symbol's market: trade OHLCV and flow, last OI/funding, liquidations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Bar:
    """Aggregates of every event whose exchange_ts_ms falls in [start_ms, start_ms + window).

    Trade fields are meaningful only when trade_count > 0; oi/funding are None when no sample
    arrived in the bucket. Accumulation is in input order, so equal event sequences give equal bars.
    """

    start_ms: int
    trade_count: int = 0
    open: float = 0.0
    high: float = 0.0
    low: float = 0.0
    close: float = 0.0
    volume: float = 0.0
    notional: float = 0.0
    sided_count: int = 0
    buy_qty: float = 0.0
    sell_qty: float = 0.0
    oi: float | None = None
    oi_ts: int = 0
    funding: float | None = None
    funding_ts: int = 0
    liq_count: int = 0
    liq_buy_notional: float = 0.0
    liq_sell_notional: float = 0.0


class BarBuilder:
    """Mutable twin of Bar used only inside one history update."""

    __slots__ = (
        "buy_qty",
        "close",
        "funding",
        "funding_ts",
        "high",
        "liq_buy_notional",
        "liq_count",
        "liq_sell_notional",
        "low",
        "notional",
        "oi",
        "oi_ts",
        "open",
        "sell_qty",
        "sided_count",
        "start_ms",
        "trade_count",
        "volume",
    )

    def __init__(self, bar: Bar) -> None:
        """Start from an existing (possibly empty) bar."""
        self.start_ms = bar.start_ms
        self.trade_count = bar.trade_count
        self.open = bar.open
        self.high = bar.high
        self.low = bar.low
        self.close = bar.close
        self.volume = bar.volume
        self.notional = bar.notional
        self.sided_count = bar.sided_count
        self.buy_qty = bar.buy_qty
        self.sell_qty = bar.sell_qty
        self.oi = bar.oi
        self.oi_ts = bar.oi_ts
        self.funding = bar.funding
        self.funding_ts = bar.funding_ts
        self.liq_count = bar.liq_count
        self.liq_buy_notional = bar.liq_buy_notional
        self.liq_sell_notional = bar.liq_sell_notional

    def add_trade(self, price: float, qty: float, side: Any) -> None:
        """Fold one trade (qty > 0) into OHLCV and, when the side is known, the flow split."""
        if self.trade_count == 0:
            self.open = self.high = self.low = price
        elif price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        self.close = price
        self.trade_count += 1
        self.volume += qty
        self.notional += price * qty
        if side == "buy":
            self.buy_qty += qty
            self.sided_count += 1
        elif side == "sell":
            self.sell_qty += qty
            self.sided_count += 1

    def set_trades(
        self, values: tuple[int, float, float, float, float, float, float, int, float, float]
    ) -> None:
        """Write back trade aggregates folded outside the builder (the history's inlined trade loop):
        (trade_count, open, high, low, close, volume, notional, sided_count, buy_qty, sell_qty)."""
        (
            self.trade_count,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.notional,
            self.sided_count,
            self.buy_qty,
            self.sell_qty,
        ) = values

    def add_open_interest(self, value: float, ts: int) -> None:
        """Keep the greatest-timestamp sample (a later input wins a tie)."""
        if self.oi is None or ts >= self.oi_ts:
            self.oi, self.oi_ts = value, ts

    def add_funding(self, value: float, ts: int) -> None:
        """Keep the greatest-timestamp funding estimate (a later input wins a tie)."""
        if self.funding is None or ts >= self.funding_ts:
            self.funding, self.funding_ts = value, ts

    def add_liquidation(self, price: float, qty: float, side: Any) -> None:
        """Count one forced order; BUY = a short was liquidated, SELL = a long was."""
        self.liq_count += 1
        if side == "buy":
            self.liq_buy_notional += price * qty
        elif side == "sell":
            self.liq_sell_notional += price * qty

    def freeze(self) -> Bar:
        """The immutable bar."""
        return Bar(
            self.start_ms,
            self.trade_count,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.notional,
            self.sided_count,
            self.buy_qty,
            self.sell_qty,
            self.oi,
            self.oi_ts,
            self.funding,
            self.funding_ts,
            self.liq_count,
            self.liq_buy_notional,
            self.liq_sell_notional,
        )
