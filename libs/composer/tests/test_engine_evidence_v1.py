"""Engine-addressed v1 observers: the fact sheet's worked table and acceptance items 22-31."""

from __future__ import annotations

import math
import random as rnd
from types import MappingProxyType

import pytest
from composer.contracts.feature_snapshot import FeatureSnapshot
from composer.engine_evidence import (
    OBSERVERS_V1,
    compute_engine_evidence_snapshot,
    order_engine_evidence_opinions,
)
from regime_engine.contracts.evidence import EvidenceOpinion
from regime_engine.contracts.regimes import Regime

R = Regime


def snap(**values: float) -> FeatureSnapshot:
    keys = {
        "price": "price_last",
        "vwap": "vwap_3m",
        "atr_z": "atr_z_50",
        "cvd": "cvd_3m",
        "oi": "open_interest_latest",
    }
    features = {keys[k]: v for k, v in values.items()}
    return FeatureSnapshot("feature_snapshot", "1", "TEST", 180000, MappingProxyType(features))


TABLE: list[tuple[dict[str, float], list[tuple[Regime, float, float, str]]]] = [
    ({}, [(R.CHOP_BALANCED, 1.0, 0.0, "classical")]),
    ({"price": 2, "vwap": 1}, [(R.CHOP_BALANCED, 1.0, 0.4, "classical")]),
    (
        {"price": 2, "vwap": 1, "atr_z": 2.0, "cvd": 10, "oi": 1000},
        [
            (R.SQUEEZE_UP, 0.5, 1.0, "flow"),
            (R.TREND_BUILD_UP, 0.5, 1.0, "classical"),
            (R.TREND_EXHAUSTION, 0.9, 1.0, "volatility"),
        ],
    ),
    (
        {"price": 2, "vwap": 1, "atr_z": 2.0, "cvd": 10, "oi": 100},
        [
            (R.LIQUIDATION_UP, 1.0, 1.0, "flow"),
            (R.TREND_BUILD_UP, 1.0, 1.0, "classical"),
            (R.TREND_EXHAUSTION, 0.9, 1.0, "volatility"),
        ],
    ),
    (
        {"atr_z": 2.0, "cvd": 10, "oi": 100},
        [
            (R.LIQUIDATION_UP, 0.5, 0.6, "classical"),
            (R.LIQUIDATION_UP, 1.0, 1.0, "flow"),
            (R.TREND_EXHAUSTION, 0.9, 1.0, "volatility"),
        ],
    ),
    ({"cvd": 1, "oi": 1000}, [(R.CHOP_BALANCED, 0.9, 0.4, "classical")]),
    (
        {"cvd": 2, "oi": 1000},
        [(R.CHOP_BALANCED, 0.8, 0.4, "classical"), (R.TREND_BUILD_UP, 0.1, 1.0, "flow")],
    ),
    (
        {"cvd": 20, "oi": 1000},
        [(R.CHOP_BALANCED, 0.0, 0.4, "classical"), (R.TREND_BUILD_UP, 1.0, 1.0, "flow")],
    ),
    (
        {"cvd": -5, "oi": 1000},
        [(R.CHOP_BALANCED, 0.5, 0.4, "classical"), (R.TREND_BUILD_DOWN, 0.25, 1.0, "flow")],
    ),
    (
        {"atr_z": 1.2, "cvd": -15, "oi": 1000},
        [(R.LIQUIDATION_DOWN, 0.03, 0.6, "classical"), (R.SQUEEZE_DOWN, 0.75, 1.0, "flow")],
    ),
    (
        {"atr_z": 1.5, "cvd": 20, "oi": 1000},
        [(R.LIQUIDATION_UP, 0.1, 0.6, "classical"), (R.LIQUIDATION_UP, 1.0, 1.0, "flow")],
    ),
    ({"cvd": 20, "oi": 0}, [(R.CHOP_BALANCED, 1.0, 0.4, "classical")]),
    # The fact sheet prints 1.0 here; its own formula gives (1 - 1.1/3) = 0.6333 (see spec.md).
    (
        {"atr_z": 0.1},
        [(R.CHOP_BALANCED, 1 - 1.1 / 3, 0.2, "classical"), (R.CHOP_BALANCED, 0.0, 1.0, "volatility")],
    ),
    ({"atr_z": 0.5}, [(R.CHOP_BALANCED, 0.5, 0.2, "classical"), (R.CHOP_STOPHUNT, 0.15, 1.0, "volatility")]),
    (
        {"price": 2, "vwap": 1, "atr_z": 1.0},
        [(R.CHOP_STOPHUNT, 2 / 3, 0.6, "classical"), (R.SQUEEZE_UP, 0.4, 1.0, "volatility")],
    ),
    ({"price": 1, "vwap": 1, "atr_z": 1.0}, [(R.CHOP_STOPHUNT, 2 / 3, 0.6, "classical")]),
    (
        {"atr_z": 2.0},
        [(R.CHOP_STOPHUNT, 1.0, 0.2, "classical"), (R.TREND_EXHAUSTION, 0.9, 1.0, "volatility")],
    ),
    ({"atr_z": -1.0}, [(R.CHOP_BALANCED, 1.0, 0.2, "classical"), (R.CHOP_BALANCED, 0.0, 1.0, "volatility")]),
]

SUFFIX = {
    "classical": "classical_regime_v1",
    "flow": "flow_pressure_v1",
    "volatility": "volatility_context_v1",
}


@pytest.mark.parametrize(("values", "expected"), TABLE)
def test_worked_table(values: dict[str, float], expected: list[tuple[Regime, float, float, str]]) -> None:
    got = compute_engine_evidence_snapshot(snap(**values)).opinions
    assert [(o.regime, o.source) for o in got] == [(r, f"composer:{SUFFIX[s]}") for r, _, _, s in expected]
    for o, (_, strength, conf, _) in zip(got, expected, strict=True):
        assert o.strength == pytest.approx(strength, abs=1e-9)
        assert o.confidence == pytest.approx(conf, abs=1e-9)


def test_bounds_and_allowed_regimes() -> None:
    for values, _ in TABLE:
        s = snap(**values)
        for observer in OBSERVERS_V1:
            for o in observer.emit(
                s, __import__("composer.config", fromlist=["DEFAULT_CONFIG"]).DEFAULT_CONFIG
            ):
                assert 0.0 <= o.strength <= 1.0
                assert math.isfinite(o.strength)
                assert 0.0 <= o.confidence <= 1.0
                assert o.regime in observer.allowed


def test_sort_is_idempotent_and_canonical() -> None:
    ev = compute_engine_evidence_snapshot(snap(price=2, vwap=1, atr_z=2.0, cvd=10, oi=100))
    assert order_engine_evidence_opinions(ev.opinions) == ev.opinions
    shuffled = [
        EvidenceOpinion(R.TREND_BUILD_UP, 0.2, 0.4, "b"),
        EvidenceOpinion(R.CHOP_BALANCED, 0.9, 0.1, "a"),
        EvidenceOpinion(R.CHOP_BALANCED, 0.5, 0.9, "a"),
    ]
    rnd.Random(3).shuffle(shuffled)
    out = order_engine_evidence_opinions(shuffled)
    assert [o.regime for o in out] == [R.CHOP_BALANCED, R.CHOP_BALANCED, R.TREND_BUILD_UP]
    assert [o.confidence for o in out[:2]] == [0.9, 0.1]
