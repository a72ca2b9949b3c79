"""History features: each key against a hand-worked value on a small fixed input, plus missing data.

A small config (2-bar ATR, 3-value z, 2-bar structure windows) keeps the arithmetic checkable by hand.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from composer.config import ComposerConfig
from composer.context import EMPTY_CONTEXT, MarketContext, alt_breadth, build_market_context
from composer.contracts.feature_snapshot import FEATURE_KEYS_V1
from composer.features import compute_history_feature_snapshot
from composer.history import SymbolHistory, rebuild
from xray_contracts.raw_market_event import RawMarketEvent

W = 180_000
E = 6 * W
CFG = ComposerConfig(
    atr_window=2,
    atr_z_window=3,
    structure_bars=2,
    sweep_reference_bars=2,
    slope_short_bars=1,
    slope_med_bars=2,
    rs_bars=2,
    beta_bars=3,
    beta_min_pairs=2,
    funding_z_min_samples=3,
)


def ev(event_type: str, ts: int, symbol: str = "TEST", **normalized: Any) -> RawMarketEvent:
    return RawMarketEvent("raw_market_event", "1", event_type, "src", symbol, ts, ts, b"", normalized)


def trade(
    bar: int, price: float, qty: float, side: str | None, symbol: str = "TEST", at: int = 0
) -> RawMarketEvent:
    return ev("TradeTick", bar * W + 1000 + at, symbol, price=price, quantity=qty, side=side)


def events() -> list[RawMarketEvent]:
    out = [trade(k, p, 1.0, "buy") for k, p in enumerate([100.0, 102.0, 101.0, 103.0, 104.0])]
    out += [
        trade(5, 104.0, 2.0, "buy", at=1),
        trade(5, 108.0, 1.0, "buy", at=2),
        trade(5, 103.0, 1.0, "sell", at=3),
        trade(5, 106.0, 1.0, "sell", at=4),
    ]
    out += [
        ev("OpenInterest", k * W + 5000, open_interest=v) for k, v in ((3, 1000.0), (4, 1010.0), (5, 1030.0))
    ]
    out += [ev("FundingRate", k * W + 5000, funding_rate=v) for k, v in ((3, 0.0001), (4, 0.0002))]
    out += [
        ev("FundingRate", 5 * W + 9000, funding_rate=0.0004),
        ev("FundingRate", 5 * W + 6000, funding_rate=0.0003),
    ]
    out += [
        ev("LiquidationPrint", 5 * W + 7000, price=107.0, quantity=1.0, side="buy"),
        ev("LiquidationPrint", 5 * W + 8000, price=104.0, quantity=0.5, side="sell"),
    ]
    return out


def reference() -> SymbolHistory:
    cut = [
        trade(k, p, 1.0, "buy", symbol="BTCUSDT") for k, p in enumerate([50.0, 51.0, 50.0, 52.0, 53.0, 54.0])
    ]
    return rebuild("BTCUSDT", cut, E, CFG)


def features(
    context: MarketContext = EMPTY_CONTEXT, cut: list[RawMarketEvent] | None = None
) -> dict[str, float | None]:
    history = rebuild("TEST", events() if cut is None else cut, E, CFG)
    return dict(compute_history_feature_snapshot(history, E, context=context, config=CFG).features)


def test_market_features_hand_worked() -> None:
    f = features()
    assert f["price_last"] == 106.0
    assert f["vwap_3m"] == 525.0 / 5.0
    # TRs of bars 2..5 (bar 1 only serves as previous close): 1, 2, 1, 5; ATR(2) series 1.5, 1.5, 3.0.
    assert f["atr_14"] == 3.0
    assert f["atr_z_50"] == pytest.approx((3.0 - 2.0) / math.sqrt(0.5))
    assert f["range_expansion_3m"] == pytest.approx(5.0 / 3.0)
    assert f["return_3m_atr"] == pytest.approx(2.0 / 3.0)
    assert f["return_15m_atr"] == pytest.approx(1.0)
    # Reference closes 101, 103 -> range [101, 103]; closes 104, 106 both above it.
    assert f["acceptance_score_15m"] == 1.0
    # Longer wick 108 - 106 = 2; mean |close move| of 101 -> 103 -> 104 = 1.5; 2 / (3 * 1.5).
    assert f["sweep_score_3m"] == pytest.approx(2.0 / 4.5)


def test_flow_features_hand_worked() -> None:
    f = features()
    assert f["cvd_3m"] == 1.0
    assert f["aggressive_volume_ratio_3m"] == 0.6
    assert f["cvd_slope_15m"] == 1.0  # bars 4 and 5 both +1
    assert f["cvd_efficiency_3m"] == 2.0  # (106 - 104) / |1|


def test_derivatives_features_hand_worked() -> None:
    f = features()
    assert f["open_interest_latest"] == 1030.0
    assert f["oi_change_3m"] == pytest.approx(1030.0 / 1010.0 - 1.0)
    assert f["oi_slope_15m"] == pytest.approx(1030.0 / 1010.0 - 1.0)
    assert f["oi_slope_1h"] == pytest.approx(0.03)
    assert f["oi_accel_15m"] == pytest.approx((1030.0 / 1010.0 - 1.0) - 0.01)
    assert f["funding_rate_latest"] == 0.0004  # latest timestamp wins inside bar 5
    assert f["funding_slope_15m"] == pytest.approx(0.0002)
    samples = [0.0001, 0.0002, 0.0004]
    mean = sum(samples) / 3
    std = math.sqrt(sum((s - mean) ** 2 for s in samples) / 3)
    assert f["funding_z_lookback"] == pytest.approx((0.0004 - mean) / std)
    assert f["liquidation_intensity_3m"] == pytest.approx((107.0 + 52.0) / 525.0)
    assert f["liquidation_imbalance_3m"] == pytest.approx((107.0 - 52.0) / 159.0)


def test_context_features_hand_worked() -> None:
    ref = reference()
    other = rebuild(
        "ALTUSDT", [trade(3, 10.0, 1.0, "buy", "ALTUSDT"), trade(5, 9.0, 1.0, "buy", "ALTUSDT")], E, CFG
    )
    own = rebuild("TEST", events(), E, CFG)
    ctx = build_market_context([ref, own, other], E, btc_regime="CHOP_BALANCED", config=CFG)
    assert ctx.alt_breadth == 0.5  # TEST up (106 > 103), ALTUSDT down; BTC excluded
    assert ctx.btc_regime == "CHOP_BALANCED"
    assert ctx.eth_regime is None
    f = features(ctx)
    assert f["rs_vs_btc_1h"] == pytest.approx((106.0 / 103.0 - 1.0) - (54.0 / 52.0 - 1.0))
    ys = [math.log(106 / 104), math.log(104 / 103), math.log(103 / 101)]
    xs = [math.log(54 / 53), math.log(53 / 52), math.log(52 / 50)]
    mx, my = sum(xs) / 3, sum(ys) / 3
    beta = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    assert f["beta_to_btc_50"] == pytest.approx(beta)
    assert f["alt_breadth_1h"] == 0.5


def test_missing_inputs_stay_none() -> None:
    trades_only = [e for e in events() if e.event_type == "TradeTick"]
    f = features(cut=trades_only)
    for key in (
        "open_interest_latest",
        "oi_change_3m",
        "oi_slope_15m",
        "oi_slope_1h",
        "oi_accel_15m",
        "funding_rate_latest",
        "funding_slope_15m",
        "funding_z_lookback",
        "liquidation_intensity_3m",
        "liquidation_imbalance_3m",
        "rs_vs_btc_1h",
        "beta_to_btc_50",
        "alt_breadth_1h",
    ):
        assert f[key] is None, key
    assert f["price_last"] == 106.0


def test_short_history_and_empty_last_bar() -> None:
    two_bars = [trade(4, 104.0, 1.0, "buy"), trade(5, 105.0, 1.0, None)]
    f = features(cut=two_bars)
    assert f["atr_14"] == 0.5  # TR0 = 0 (range only), TR1 = |105 - 104|; (0 + 1) / 2
    assert f["atr_z_50"] is None
    assert f["acceptance_score_15m"] is None
    assert f["sweep_score_3m"] is None
    assert f["cvd_3m"] is None
    assert f["aggressive_volume_ratio_3m"] is None  # unsided last bar
    assert f["cvd_slope_15m"] is None
    assert f["cvd_efficiency_3m"] is None
    quiet_last = [trade(3, 104.0, 1.0, "buy")]
    g = features(cut=quiet_last)
    assert g["price_last"] == 104.0  # latest trade bar, even if older than the last window
    assert g["vwap_3m"] is None
    assert g["range_expansion_3m"] is None
    assert g["return_3m_atr"] is None


def test_quiet_liquidation_feed() -> None:
    no_liq = [e for e in events() if e.event_type != "LiquidationPrint"]
    assert features(cut=no_liq)["liquidation_intensity_3m"] is None
    assumed = ComposerConfig(**{**CFG.model_dump(), "assume_liquidation_feed": True})
    h = rebuild("TEST", no_liq, E, assumed)
    f = compute_history_feature_snapshot(h, E, config=assumed).features
    assert f["liquidation_intensity_3m"] == 0.0
    assert f["liquidation_imbalance_3m"] == 0.0


def test_alt_breadth_none_without_returns() -> None:
    assert alt_breadth([reference()], E, CFG) is None


def test_empty_history_every_key_none() -> None:
    f = features(cut=[])
    assert set(f) == set(FEATURE_KEYS_V1)
    assert all(v is None for v in f.values()), f


def test_one_bar_is_too_short_for_windowed_keys() -> None:
    f = features(cut=[trade(5, 105.0, 1.0, "buy")])
    assert f["price_last"] == 105.0
    assert f["cvd_3m"] == 1.0
    for key in (
        "atr_14",
        "atr_z_50",
        "range_expansion_3m",
        "return_3m_atr",
        "return_15m_atr",
        "cvd_slope_15m",
    ):
        assert f[key] is None, key
