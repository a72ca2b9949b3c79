"""UniverseHistory: multi-symbol advance and compose with a shared context."""

from __future__ import annotations

from composer import SymbolHistory, UniverseHistory, build_market_context, compose_engine_input
from xray_contracts.raw_market_event import RawMarketEvent

W = 180_000


def trade(symbol: str, ts: int, price: float) -> RawMarketEvent:
    return RawMarketEvent(
        "raw_market_event",
        "1",
        "TradeTick",
        "s",
        symbol,
        ts,
        ts,
        b"",
        {"price": price, "quantity": 1.0, "side": "buy"},
    )


def test_advance_and_compose_all_match_single_symbol_calls() -> None:
    universe = UniverseHistory()
    singles = {s: SymbolHistory.empty(s) for s in ("BTCUSDT", "ETHUSDT")}
    for k in range(30):
        cuts = {"BTCUSDT": [trade("BTCUSDT", k * W + 5, 100.0 + k)]}
        if k % 2 == 0:
            cuts["ETHUSDT"] = [trade("ETHUSDT", k * W + 7, 10.0 - 0.1 * k)]
        universe = universe.advance(cuts, (k + 1) * W)
        for s, history in list(singles.items()):
            singles[s] = history.update(cuts.get(s, []), (k + 1) * W)
    assert dict(universe.histories) == singles
    outs = universe.compose_all(30 * W, btc_regime="TREND_BUILD_UP")
    ctx = build_market_context(singles.values(), 30 * W, btc_regime="TREND_BUILD_UP")
    for s, out in outs.items():
        assert out == compose_engine_input(singles[s], engine_timestamp_ms=30 * W, context=ctx)
    assert outs["ETHUSDT"].snapshot.context.btc_regime == "TREND_BUILD_UP"
    assert outs["BTCUSDT"].features.features["rs_vs_btc_1h"] == 0.0


def test_compose_with_history_matches_engine_path() -> None:
    from composer import compose_with_history

    universe = UniverseHistory()
    for k in range(25):
        universe = universe.advance({"BTCUSDT": [trade("BTCUSDT", k * W + 5, 100.0 + k)]}, (k + 1) * W)
    history = universe.histories["BTCUSDT"]
    features, local = compose_with_history(history, engine_timestamp_ms=25 * W)
    engine = compose_engine_input(history, engine_timestamp_ms=25 * W)
    assert features == engine.features
    assert features == compose_with_history(history, engine_timestamp_ms=25 * W)[0]
    assert sorted(o.regime or "" for o in local.opinions) == sorted(
        o.regime.value for o in engine.evidence.opinions
    )
