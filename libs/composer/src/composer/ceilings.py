"""Speed floors for the benchmarks: reading exactly what the composer reads, and doing nothing else.

bench/bench_composer.py and bench/bench_engine.py print their figures as a ratio to these loops
timed in the same run (the machine is shared and noisy). They live next to the fold so the set of
fields read stays in step with SymbolHistory.update.
"""

from __future__ import annotations

from collections.abc import Iterable

from xray_contracts.raw_market_event import RawMarketEvent

from composer.bars import Bar
from composer.history import FOLDED_EVENT_TYPES


def read_fold_inputs(events: Iterable[RawMarketEvent]) -> int:
    """Touch event_type of every event and, for the folded types, symbol, exchange_ts_ms and the
    normalized values the fold uses; returns how many events were of a folded type."""
    n = 0
    folded = FOLDED_EVENT_TYPES
    for ev in events:
        event_type = ev.event_type
        if event_type in folded:
            _ = ev.symbol, ev.exchange_ts_ms
            values = ev.normalized
            if event_type in {"TradeTick", "LiquidationPrint"}:
                _ = values.get("price"), values.get("quantity"), values.get("side")
            elif event_type == "FundingRate":
                _ = values.get("funding_rate")
            elif event_type == "OpenInterest":
                _ = values.get("open_interest")
            else:
                _ = values.get("timestamp_ms")
            n += 1
    return n


def read_bars(bars: Iterable[Bar]) -> float:
    """Read every field of every bar once (the floor of any computation over a history)."""
    acc = 0.0
    for b in bars:
        acc += b.open + b.high + b.low + b.close + b.volume + b.notional + b.buy_qty + b.sell_qty
        acc += b.liq_buy_notional + b.liq_sell_notional + b.trade_count + b.sided_count + b.liq_count
        acc += (b.oi or 0.0) + (b.funding or 0.0) + b.start_ms + b.oi_ts + b.funding_ts
    return acc
