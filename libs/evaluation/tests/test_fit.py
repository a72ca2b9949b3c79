"""The refit tool: estimates per-regime (mean, std) and renders an importable model module."""

from __future__ import annotations

import dataclasses

from regime_engine.contracts.regimes import REGIMES
from regime_engine.samples import neutral_snapshot, with_fields
from xray_evaluation.fit import MIN_STD, MODEL_SIGNALS, estimate, render
from xray_evaluation.series import Step


def test_estimate_and_render() -> None:
    steps = []
    for i in range(12):
        price = 1.0 + 0.01 * i
        snap = with_fields(neutral_snapshot(timestamp=(i + 1) * 180_000), market__price=price)
        label = "TREND_BUILD_UP" if i % 2 else "CHOP_BALANCED"
        steps.append(Step("T", snap.timestamp, dataclasses.replace(snap), label))
    params = estimate(steps)
    assert set(params) == set(MODEL_SIGNALS)
    row = params["market.price_vs_vwap"]
    assert len(row) == len(REGIMES)
    assert row[0][0] > 0.0  # CHOP_BALANCED windows had price above vwap
    assert all(std >= MIN_STD for _, std in row)
    assert row[2] == (0.0, 1.0)  # never-seen regime: neutral entry
    namespace: dict[str, object] = {}
    exec(render(params, 0.5, [1, 2]), namespace)
    assert namespace["TEMPERATURE"] == 0.5
    assert namespace["MODEL_VERSION"] == "classical_gaussian_v2:sim-seeds-1-2"
    model = namespace["MODEL_PARAMS"]
    assert isinstance(model, dict)
    assert len(model["market.price_vs_vwap"]) == len(REGIMES)
