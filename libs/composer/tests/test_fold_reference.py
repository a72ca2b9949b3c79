"""The one-pass fold (SymbolHistory.update) equals a plain event-by-event BarBuilder fold.

The reference below is the straightforward definition of the bars (one BarBuilder.add_* call per
event, spec section 2). The optimised fold keeps the trade aggregates of the current bucket in
local variables; this property test checks, on adversarial event streams (late and early buckets,
other symbols, null timestamps, NaN / inf / int / bool / str / missing values, SnapshotInputs,
several cuts), that both give equal histories, float for float.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

from composer.bars import Bar, BarBuilder
from composer.config import ComposerConfig
from composer.history import SymbolHistory
from composer.numeric import num
from hypothesis import given, settings
from hypothesis import strategies as st
from xray_contracts.raw_market_event import RawMarketEvent

W = 180_000
CFG = ComposerConfig(lookback_ms=6 * W)


def reference_update(history: SymbolHistory, cut: Iterable[RawMarketEvent], engine_ts: int) -> SymbolHistory:
    """Spec section 2, literally: every event through BarBuilder, then prune to the lookback."""
    horizon = engine_ts - history.lookback_ms
    bars = {b.start_ms: b for b in history.bars}
    builders: dict[int, BarBuilder] = {}
    inputs: Mapping[str, Any] | None = history.snapshot_inputs
    if inputs is not None and inputs.get("timestamp_ms") != engine_ts:
        inputs = None
    for ev in cut:
        n = ev.normalized
        if ev.event_type == "SnapshotInputs":
            if ev.symbol == history.symbol and n.get("timestamp_ms") == engine_ts:
                inputs = n
            continue
        if ev.event_type not in {"TradeTick", "OpenInterest", "FundingRate", "LiquidationPrint"}:
            continue
        if ev.symbol != history.symbol or ev.exchange_ts_ms is None:
            continue
        ts = ev.exchange_ts_ms
        start = ts - ts % history.window_ms
        if start < horizon:
            continue
        if start not in builders:
            builders[start] = BarBuilder(bars.get(start) or Bar(start))
        b = builders[start]
        if ev.event_type == "TradeTick":
            price, qty = num(n.get("price")), num(n.get("quantity"))
            if price is not None and qty is not None and qty > 0.0:
                b.add_trade(price, qty, n.get("side"))
        elif ev.event_type == "OpenInterest":
            value = num(n.get("open_interest"))
            if value is not None:
                b.add_open_interest(value, ts)
        elif ev.event_type == "FundingRate":
            value = num(n.get("funding_rate"))
            if value is not None:
                b.add_funding(value, ts)
        else:
            price, qty = num(n.get("price")), num(n.get("quantity"))
            if price is not None and qty is not None and qty > 0.0:
                b.add_liquidation(price, qty, n.get("side"))
    for start, b in builders.items():
        bars[start] = b.freeze()
    kept = tuple(bars[s] for s in sorted(bars) if s >= horizon)
    return SymbolHistory(history.symbol, history.window_ms, history.lookback_ms, engine_ts, kept, inputs)


_values = st.one_of(
    st.floats(min_value=0.001, max_value=1e6),
    st.sampled_from([0.0, -1.0, math.nan, math.inf, -math.inf, 3, True, "1.5", None]),
)
_kinds = st.sampled_from(
    ["TradeTick"] * 5 + ["OpenInterest", "FundingRate", "LiquidationPrint", "SnapshotInputs", "BookTop"]
)


@st.composite
def _event(draw: st.DrawFn) -> RawMarketEvent:
    kind = draw(_kinds)
    symbol = draw(st.sampled_from(["TEST"] * 6 + ["OTHER"]))
    # few distinct timestamps per bar, so equal-timestamp ties (later input wins) really happen
    bar = draw(st.integers(min_value=0, max_value=14 if kind == "TradeTick" else 4))
    offset = draw(st.sampled_from([0, 1, 5_000, W - 1] if kind == "TradeTick" else [5_000]))
    ts = None if draw(st.integers(0, 9)) == 0 else bar * W + offset
    side = draw(st.sampled_from(["buy", "sell", None, "BUY"]))
    value, qty = draw(_values), draw(_values)
    normalized: dict[str, Any]
    if kind in ("TradeTick", "LiquidationPrint"):
        normalized = {"price": value, "quantity": qty, "side": side}
        if draw(st.integers(0, 9)) == 0:
            del normalized[draw(st.sampled_from(["price", "quantity", "side"]))]
    elif kind == "OpenInterest":
        normalized = {"open_interest": value}
    elif kind == "FundingRate":
        normalized = {"funding_rate": value}
    elif kind == "SnapshotInputs":
        normalized = {"timestamp_ms": draw(st.sampled_from([4 * W, 8 * W, 12 * W])), "market": {}}
    else:
        normalized = {"best_bid_price": value}
    return RawMarketEvent("raw_market_event", "1", kind, "src", symbol, ts, 0, b"", normalized)


def _same(a: SymbolHistory, b: SymbolHistory) -> bool:
    # repr compares floats bit for bit (and NaN-safe), on top of dataclass equality
    return a == b and repr(a) == repr(b)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_event(), max_size=40), min_size=1, max_size=4))
def test_fold_equals_the_event_by_event_reference(cuts: list[list[RawMarketEvent]]) -> None:
    fast = ref = SymbolHistory.empty("TEST", CFG)
    for i, cut in enumerate(cuts):
        engine_ts = (i + 1) * 4 * W
        fast = fast.update(cut, engine_ts)
        ref = reference_update(ref, cut, engine_ts)
        assert _same(fast, ref), (fast, ref)


def test_fold_accepts_a_one_shot_iterator() -> None:
    trades = [
        RawMarketEvent(
            "raw_market_event",
            "1",
            "TradeTick",
            "s",
            "TEST",
            k * 1000,
            0,
            b"",
            {"price": 1.0 + k, "quantity": 1.0},
        )
        for k in range(5)
    ]
    h = SymbolHistory.empty("TEST", CFG).update(iter(trades), W)
    assert h.bars[0].trade_count == 5
    assert h.bars[0].close == 5.0


def test_equal_timestamps_later_input_wins_for_oi_and_funding() -> None:
    def ev(kind: str, key: str, value: float) -> RawMarketEvent:
        return RawMarketEvent("raw_market_event", "1", kind, "s", "TEST", 5_000, 0, b"", {key: value})

    cut = [
        ev("FundingRate", "funding_rate", 0.1),
        ev("FundingRate", "funding_rate", 0.2),
        ev("OpenInterest", "open_interest", 1.0),
        ev("OpenInterest", "open_interest", 2.0),
    ]
    (bar,) = SymbolHistory.empty("TEST", CFG).update(cut, W).bars
    assert (bar.funding, bar.oi) == (0.2, 2.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(_event(), max_size=60), st.lists(st.integers(min_value=0, max_value=60), max_size=5))
def test_folding_a_cut_in_pieces_under_its_boundary_equals_one_update(
    cut: list[RawMarketEvent], splits: list[int]
) -> None:
    # The orchestrator may fold events as they arrive (hot in cache) instead of at the boundary:
    # update(a, E).update(b, E) == update(a + b, E) for any split of the cut of boundary E.
    engine_ts = 8 * W
    base = SymbolHistory.empty("TEST", CFG).update([], 4 * W)
    whole = base.update(cut, engine_ts)
    pieces = base
    bounds = [0, *sorted(min(s, len(cut)) for s in splits), len(cut)]
    for lo, hi in pairwise(bounds):
        pieces = pieces.update(cut[lo:hi], engine_ts)
    assert _same(pieces, whole)
