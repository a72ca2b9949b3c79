"""Cut-only canonical features: the fact sheet's acceptance items 1-21 (hand-worked values)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from composer.composer import compose
from composer.contracts.feature_snapshot import FEATURE_KEYS_V1, FEATURE_KEYS_V1_CANONICAL
from composer.features import compute_feature_snapshot
from xray_contracts.raw_market_event import RawMarketEvent


def ev(event_type: str, ts: int | None, symbol: str = "TEST", **normalized: Any) -> RawMarketEvent:
    return RawMarketEvent("raw_market_event", "1", event_type, "src", symbol, ts, 0, b"", normalized)


def T(price: Any, qty: Any, side: Any, ts: int | None, symbol: str = "TEST") -> RawMarketEvent:
    return ev("TradeTick", ts, symbol, price=price, quantity=qty, side=side)


def C(high: Any, low: Any, close: Any, ts: int | None, **extra: Any) -> RawMarketEvent:
    fields: dict[str, Any] = {
        "open": close,
        "high": high,
        "low": low,
        "close": close,
        "volume": 1.0,
        "interval_ms": 180000,
        "is_final": True,
    }
    fields.update(extra)
    return ev("Candle", ts, **fields)


def C_(extra: dict[str, Any], ts: int) -> RawMarketEvent:
    base = C(10.0, 5.0, 7.0, ts)
    return ev("Candle", ts, **{**base.normalized, **extra})


def OI(value: Any, ts: int | None) -> RawMarketEvent:
    return ev("OpenInterest", ts, open_interest=value)


def feats(events: list[RawMarketEvent], engine_ts: int) -> dict[str, float | None]:
    return dict(compute_feature_snapshot(events, symbol="TEST", engine_timestamp_ms=engine_ts).features)


def test_empty_cut_all_keys_none_and_sorted() -> None:
    snap = compute_feature_snapshot([], symbol="TEST", engine_timestamp_ms=180000)
    assert snap.schema == "feature_snapshot"
    assert snap.schema_version == "1"
    assert list(snap.features) == sorted(FEATURE_KEYS_V1)
    assert all(v is None for v in snap.features.values())
    assert "price" not in snap.features
    assert set(FEATURE_KEYS_V1_CANONICAL) <= set(snap.features)


def test_same_cut_gives_equal_snapshots() -> None:
    cut = [T(1.0, 1.0, "buy", 90), T(3.0, 2.0, "sell", 95)]
    assert compute_feature_snapshot(cut, symbol="TEST", engine_timestamp_ms=100) == compute_feature_snapshot(
        cut, symbol="TEST", engine_timestamp_ms=100
    )
    assert compose(cut, symbol="TEST", engine_timestamp_ms=100) == compose(
        cut, symbol="TEST", engine_timestamp_ms=100
    )


def test_price_last_and_cvd() -> None:
    f = feats([T(1.0, 1.0, "buy", 90), T(3.0, 2.0, "sell", 95)], 100)
    assert f["price_last"] == 3.0
    assert f["cvd_3m"] == -1.0


def test_price_last_excludes_future_and_uses_input_order() -> None:
    assert feats([T(1.0, 1.0, "buy", 90), T(2.0, 1.0, "buy", 110)], 100)["price_last"] == 1.0
    assert feats([T(5.0, 1.0, "buy", 50), T(7.0, 1.0, "buy", 10)], 100)["price_last"] == 7.0


def test_vwap_window() -> None:
    f = feats([T(1.0, 1.0, "buy", 10), T(3.0, 3.0, "buy", 179000), T(5.0, 5.0, "buy", 181000)], 180000)
    assert f["vwap_3m"] == 2.5


def test_window_inclusive_both_ends() -> None:
    f = feats([T(5.0, 1.0, "buy", 0), T(7.0, 3.0, "sell", 180000), T(100.0, 3.0, "sell", -1)], 180000)
    assert f["vwap_3m"] == 6.5
    assert f["cvd_3m"] == -2.0
    assert f["aggressive_volume_ratio_3m"] == 0.25
    assert f["price_last"] == 100.0


def test_unsided_trades_give_none_flow() -> None:
    assert feats([T(1.0, 1.0, None, 10)], 100)["cvd_3m"] is None
    assert feats([T(1.0, 1.0, None, 10), T(1.0, 1.0, None, 20)], 100)["aggressive_volume_ratio_3m"] is None


def test_balanced_window_is_zero_not_none() -> None:
    f = feats([T(5.0, 1.0, "buy", 50), T(7.0, 1.0, "sell", 60)], 100)
    assert f["cvd_3m"] == 0.0
    assert f["aggressive_volume_ratio_3m"] == 0.5


def test_bad_values_are_absent() -> None:
    f = feats(
        [T("5.0", 1.0, "buy", 5), T(1.0, 1.0, "buy", 6, symbol="OTHER"), T(math.nan, 1.0, "sell", 7)], 100
    )
    assert f["price_last"] is None
    assert f["vwap_3m"] is None
    assert f["cvd_3m"] == 0.0
    assert f["aggressive_volume_ratio_3m"] == 0.5


def test_null_timestamps_contribute_nothing() -> None:
    features, evidence = compose(
        [T(1.0, 1.0, "buy", None), T(2.0, 1.0, "sell", None)], symbol="TEST", engine_timestamp_ms=100
    )
    assert all(v is None for v in features.features.values())
    assert evidence.opinions == ()


def test_atr_needs_fourteen_candles() -> None:
    assert feats([C(10.0, 5.0, 7.0, i * 180000) for i in range(10)], 2_000_000)["atr_14"] is None
    assert feats([C(10.0, 5.0, 7.0, i * 180000) for i in range(14)], 2_340_000)["atr_14"] == 5.0
    f = feats([C(10.0, 5.0, 7.0, i * 180000) for i in range(20)], 4_000_000)
    assert f["atr_z_50"] is None


def test_atr_z_sixty_three_candles() -> None:
    f = feats([C(10.0 + i, 5.0, 7.0 + i, i * 180000) for i in range(63)], 20_000_000)
    assert f["atr_14"] == 60.5
    assert f["atr_z_50"] == pytest.approx(1.697749375254331, abs=1e-12)


def test_atr_z_zero_variance_is_none() -> None:
    f = feats([C(10.0, 5.0, 7.0, i * 180000) for i in range(70)], 20_000_000)
    assert f["atr_14"] == 5.0
    assert f["atr_z_50"] is None


@pytest.mark.parametrize(
    "extra",
    [{"is_final": None}, {"is_final": False}, {"is_final": 1}, {"interval_ms": 60000}, {"close": "7"}],
)
def test_ineligible_candles_ignored(extra: dict[str, Any]) -> None:
    assert feats([C_(extra, i * 180000) for i in range(20)], 4_000_000)["atr_14"] is None


def test_future_and_untimed_candles_ignored() -> None:
    cut = [C(10.0, 5.0, 7.0, i * 180000) for i in range(13)] + [
        C(10.0, 5.0, 7.0, None),
        C(10.0, 5.0, 7.0, 9_999_999),
    ]
    assert feats(cut, 2_340_000)["atr_14"] is None


def test_duplicate_candles_are_counted() -> None:
    cut = [c for i in range(7) for c in (C(10.0, 5.0, 7.0, i * 180000), C(10.0, 5.0, 7.0, i * 180000))]
    assert feats(cut, 1_260_000)["atr_14"] == 5.0


def test_open_interest_latest() -> None:
    assert feats([OI(1.0, 10), OI(3.0, 20)], 100)["open_interest_latest"] == 3.0
    assert feats([OI(9.0, None), OI(4.0, 500)], 100)["open_interest_latest"] == 4.0
    assert feats([OI(9.0, None), OI(8.0, None)], 100)["open_interest_latest"] == 8.0
    assert feats([OI(True, 10)], 100)["open_interest_latest"] is None
