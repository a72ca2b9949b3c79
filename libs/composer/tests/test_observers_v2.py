"""v2 observers on hand-built features: each votes as documented, and stays silent without signal."""

from __future__ import annotations

import pytest
from composer.config import DEFAULT_CONFIG
from composer.contracts.feature_snapshot import FEATURE_KEYS_V1, FeatureSnapshot, make_feature_snapshot
from composer.engine_evidence import compute_engine_evidence_snapshot
from composer.observers_v2 import (
    OBSERVERS_V2,
    ClassicalRegimeV2,
    DerivativesPositioningV2,
    FlowPressureV2,
    LiquidationsV2,
    StructureV2,
    VolatilityContextV2,
    winner,
)
from regime_engine.contracts.regimes import Regime

BASE = {
    "return_3m_atr": 0.0,
    "return_15m_atr": 0.0,
    "aggressive_volume_ratio_3m": 0.5,
    "oi_change_3m": 0.0,
    "liquidation_intensity_3m": 0.0,
    "liquidation_imbalance_3m": 0.0,
    "sweep_score_3m": 0.0,
    "range_expansion_3m": 0.5,
    "atr_z_50": -1.0,
    "funding_slope_15m": 0.0,
}


def snap(**overrides: float | None) -> FeatureSnapshot:
    values: dict[str, float | None] = dict.fromkeys(FEATURE_KEYS_V1)
    values.update(BASE)
    values.update(overrides)
    return make_feature_snapshot("TEST", 180000, values)


def vote(observer: object, s: FeatureSnapshot) -> tuple[Regime, float] | None:
    ops = observer.emit(s, DEFAULT_CONFIG)  # type: ignore[attr-defined]
    assert len(ops) <= 1
    return (ops[0].regime, ops[0].strength) if ops else None


CASES = {
    "quiet": ({}, Regime.CHOP_BALANCED),
    "stop hunt": ({"sweep_score_3m": 0.6}, Regime.CHOP_STOPHUNT),
    "liquidation down": (
        {
            "return_3m_atr": -1.5,
            "liquidation_intensity_3m": 1.0,
            "liquidation_imbalance_3m": -1.0,
            "aggressive_volume_ratio_3m": 0.3,
            "oi_change_3m": -0.015,
        },
        Regime.LIQUIDATION_DOWN,
    ),
    "squeeze up": (
        {
            "return_3m_atr": 0.8,
            "aggressive_volume_ratio_3m": 0.62,
            "oi_change_3m": -0.006,
            "funding_slope_15m": 0.0003,
        },
        Regime.SQUEEZE_UP,
    ),
    "trend down": (
        {"return_3m_atr": -0.4, "aggressive_volume_ratio_3m": 0.38, "oi_change_3m": 0.004},
        Regime.TREND_BUILD_DOWN,
    ),
    "exhaustion": (
        {
            "return_3m_atr": 0.1,
            "return_15m_atr": 1.0,
            "aggressive_volume_ratio_3m": 0.38,
            "oi_change_3m": -0.0015,
        },
        Regime.TREND_EXHAUSTION,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_classical_and_winner(name: str) -> None:
    overrides, expected = CASES[name]
    s = snap(**overrides)
    assert vote(ClassicalRegimeV2(), s) is not None
    assert vote(ClassicalRegimeV2(), s)[0] == expected  # type: ignore[index]
    assert winner(compute_engine_evidence_snapshot(s, OBSERVERS_V2).opinions) == expected


def test_classical_silent_without_inputs() -> None:
    assert (
        ClassicalRegimeV2().emit(
            make_feature_snapshot("T", 0, dict.fromkeys(FEATURE_KEYS_V1)), DEFAULT_CONFIG
        )
        == ()
    )


def test_classical_exhaustion_score_hand_worked() -> None:
    s = snap(**CASES["exhaustion"][0])
    scores = dict(ClassicalRegimeV2().scores(s, DEFAULT_CONFIG))
    # flow = 0.12 / 0.12 = 1; diverging (15 min up, flow down); build 0; no liquidations.
    assert scores[Regime.TREND_EXHAUSTION] == pytest.approx(1.0)
    # OI -0.0015 -> flat term 1 - 0.0015 / 0.003 = 0.5; chop needs balanced flow -> 0.
    assert scores[Regime.CHOP_BALANCED] == pytest.approx(0.0)
    assert scores[Regime.SQUEEZE_DOWN] == pytest.approx(0.375)  # unwind 0.0015 / 0.004, flow 1


def test_flow_pressure() -> None:
    assert vote(FlowPressureV2(), snap(aggressive_volume_ratio_3m=0.52)) is None
    assert vote(FlowPressureV2(), snap(aggressive_volume_ratio_3m=0.62, oi_change_3m=0.003)) == pytest.approx(
        (Regime.TREND_BUILD_UP, 0.9)
    )
    r = vote(FlowPressureV2(), snap(aggressive_volume_ratio_3m=0.44, oi_change_3m=-0.002))
    assert r is not None
    assert r[0] == Regime.SQUEEZE_DOWN
    assert r[1] == pytest.approx(0.9 * 0.5 * 0.5)


def test_volatility_context() -> None:
    assert vote(VolatilityContextV2(), snap(range_expansion_3m=None)) is None
    r = vote(VolatilityContextV2(), snap(range_expansion_3m=3.0, return_3m_atr=-1.2))
    assert r is not None
    assert r[0] == Regime.LIQUIDATION_DOWN
    assert r[1] == pytest.approx(0.8 * 0.7)
    assert vote(VolatilityContextV2(), snap()) == (Regime.CHOP_BALANCED, 0.5)
    assert vote(VolatilityContextV2(), snap(atr_z_50=1.0)) is None


def test_derivatives_positioning() -> None:
    assert vote(DerivativesPositioningV2(), snap()) is None
    r = vote(DerivativesPositioningV2(), snap(return_3m_atr=1.0, oi_change_3m=0.003))
    assert r == pytest.approx((Regime.TREND_BUILD_UP, 0.85))
    r = vote(
        DerivativesPositioningV2(), snap(return_3m_atr=-1.0, oi_change_3m=-0.004, funding_slope_15m=-0.0001)
    )
    assert r is not None
    assert r[0] == Regime.SQUEEZE_DOWN
    assert r[1] == pytest.approx(0.85 * 0.5)
    assert (
        vote(
            DerivativesPositioningV2(),
            snap(return_3m_atr=-1.0, oi_change_3m=-0.004, funding_slope_15m=0.0001),
        )
        is None
    )


def test_liquidations() -> None:
    assert vote(LiquidationsV2(), snap(liquidation_intensity_3m=0.1)) is None
    assert vote(LiquidationsV2(), snap(liquidation_intensity_3m=None)) is None
    r = vote(LiquidationsV2(), snap(liquidation_intensity_3m=0.375, liquidation_imbalance_3m=0.8))
    assert r is not None
    assert r[0] == Regime.LIQUIDATION_UP
    assert r[1] == pytest.approx(0.5)


def test_structure() -> None:
    r = vote(StructureV2(), snap(sweep_score_3m=0.5))
    assert r is not None
    assert r[0] == Regime.CHOP_STOPHUNT
    assert r[1] == pytest.approx(0.9)
    assert vote(StructureV2(), snap(sweep_score_3m=0.1)) is None
    assert vote(StructureV2(), snap(return_15m_atr=-2.0, aggressive_volume_ratio_3m=0.56)) is None  # < 0.08
    r = vote(StructureV2(), snap(return_15m_atr=-2.0, aggressive_volume_ratio_3m=0.59, oi_change_3m=-0.001))
    assert r is not None
    assert r[0] == Regime.TREND_EXHAUSTION
    assert r[1] == pytest.approx(0.85 * 0.75)


def test_all_observers_bounded_and_deterministic() -> None:
    for overrides, _ in CASES.values():
        s = snap(**overrides)
        for observer in OBSERVERS_V2:
            first = observer.emit(s, DEFAULT_CONFIG)
            assert first == observer.emit(s, DEFAULT_CONFIG)
            for o in first:
                assert o.regime in observer.allowed
                assert 0.0 <= o.strength <= 1.0
                assert 0.0 <= o.confidence <= 1.0
