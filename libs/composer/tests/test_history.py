"""SymbolHistory: bars, pruning, serialisation and rebuild == cut-by-cut (property test)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from composer.config import ComposerConfig
from composer.history import SymbolHistory, history_from_dict, history_to_dict, rebuild
from hypothesis import given, settings
from hypothesis import strategies as st
from xray_contracts.raw_market_event import RawMarketEvent

W = 180_000
CFG = ComposerConfig(lookback_ms=10 * W)


def ev(event_type: str, ts: int | None, symbol: str = "TEST", **normalized: Any) -> RawMarketEvent:
    return RawMarketEvent("raw_market_event", "1", event_type, "src", symbol, ts, 0, b"", normalized)


def test_bar_aggregation_in_input_order() -> None:
    cut = [
        ev("TradeTick", 10, price=5.0, quantity=1.0, side="buy"),
        ev("TradeTick", 5, price=7.0, quantity=2.0, side="sell"),
        ev("TradeTick", 7, price=4.0, quantity=1.0, side=None),
        ev("TradeTick", 8, price=9.0, quantity=0.0, side="buy"),  # qty 0 ignored
        ev("TradeTick", 9, price=9.0, quantity=1.0, side="buy", symbol="OTHER"),
        ev("TradeTick", None, price=9.0, quantity=1.0, side="buy"),
        ev("OpenInterest", 20, open_interest=3.0),
        ev("OpenInterest", 20, open_interest=4.0),
        ev("OpenInterest", 15, open_interest=5.0),
        ev(
            "BookTop", 3, best_bid_price=1.0, best_bid_quantity=1.0, best_ask_price=2.0, best_ask_quantity=1.0
        ),
    ]
    h = SymbolHistory.empty("TEST", CFG).update(cut, W)
    (bar,) = h.bars
    assert (bar.open, bar.high, bar.low, bar.close) == (5.0, 7.0, 4.0, 4.0)
    assert (bar.volume, bar.buy_qty, bar.sell_qty, bar.sided_count, bar.trade_count) == (4.0, 1.0, 2.0, 2, 3)
    assert bar.notional == 5.0 + 14.0 + 4.0
    assert bar.oi == 4.0  # greatest ts 20; later input wins the tie


def test_pruning_and_monotonic_time() -> None:
    cut = [ev("TradeTick", k * W, price=1.0, quantity=1.0, side="buy") for k in range(30)]
    h = SymbolHistory.empty("TEST", CFG).update(cut, 30 * W)
    assert [b.start_ms for b in h.bars] == [k * W for k in range(20, 30)]
    with pytest.raises(ValueError, match="backwards"):
        h.update([], 29 * W)
    late = h.update([ev("TradeTick", 5 * W, price=2.0, quantity=1.0, side="buy")], 31 * W)
    assert all(b.start_ms >= 21 * W for b in late.bars)


def test_serialisation_round_trip() -> None:
    cut = [
        ev("TradeTick", 100, price=1.5, quantity=2.0, side="buy"),
        ev("FundingRate", 200, funding_rate=0.0001),
        ev("LiquidationPrint", 300, price=1.4, quantity=1.0, side="sell"),
    ]
    h = rebuild("TEST", cut, W, CFG)
    data = json.loads(json.dumps(history_to_dict(h)))
    assert history_from_dict(data) == h


_event = st.builds(
    lambda kind, ts, value, side: (kind, ts, value, side),
    st.sampled_from(["TradeTick", "OpenInterest", "FundingRate", "LiquidationPrint"]),
    st.one_of(st.none(), st.integers(min_value=0, max_value=40 * W)),
    st.floats(min_value=0.01, max_value=1000.0, allow_nan=False),
    st.sampled_from(["buy", "sell", None]),
)


def _make(kind: str, ts: int | None, value: float, side: str | None) -> RawMarketEvent:
    if kind == "OpenInterest":
        return ev(kind, ts, open_interest=value)
    if kind == "FundingRate":
        return ev(kind, ts, funding_rate=value / 1e6)
    return ev(kind, ts, price=value, quantity=value / 10.0, side=side)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_event, max_size=60), st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=8)
)
def test_rebuild_equals_cut_by_cut(
    raw: list[tuple[str, int | None, float, str | None]], splits: list[int]
) -> None:
    events = [_make(*r) for r in raw]
    bounds = sorted({min(s, len(events)) for s in splits} | {len(events)})
    h = SymbolHistory.empty("TEST", CFG)
    start = 0
    for i, end in enumerate(bounds):
        h = h.update(events[start:end], (i + 1) * 4 * W)
        start = end
    final_ts = len(bounds) * 4 * W
    assert rebuild("TEST", events, final_ts, CFG) == h
