"""The seed README's two Regime Engine snippets, verbatim, must run unchanged."""

from __future__ import annotations

TRUTH_SNIPPET = """
from regime_engine.contracts.snapshots import (
    ContextSnapshot,
    DerivativesSnapshot,
    FlowSnapshot,
    MarketSnapshot,
    RegimeInputSnapshot,
)
from regime_engine.engine import run

snapshot = RegimeInputSnapshot(
    symbol="TEST",
    timestamp=180_000,
    market=MarketSnapshot(
        price=1.0,
        vwap=1.0,
        atr=1.0,
        atr_z=0.0,
        range_expansion=0.0,
        structure_levels={},
        acceptance_score=0.0,
        sweep_score=0.0,
    ),
    derivatives=DerivativesSnapshot(
        open_interest=1.0,
        oi_slope_short=0.0,
        oi_slope_med=0.0,
        oi_accel=0.0,
        funding_rate=0.0,
        funding_slope=0.0,
        funding_z=0.0,
        liquidation_intensity=None,
    ),
    flow=FlowSnapshot(
        cvd=0.0,
        cvd_slope=0.0,
        cvd_efficiency=0.0,
        aggressive_volume_ratio=0.0,
    ),
    context=ContextSnapshot(
        rs_vs_btc=0.0,
        beta_to_btc=0.0,
        alt_breadth=0.0,
        btc_regime=None,
        eth_regime=None,
    ),
)

output = run(snapshot)
"""

HYSTERESIS_SNIPPET = """
from regime_engine.engine import run_with_hysteresis
from regime_engine.hysteresis import HysteresisConfig, HysteresisStore

store = HysteresisStore(states={})
decision = run_with_hysteresis(snapshot, store, HysteresisConfig())
"""


def test_seed_snippets_run_unchanged() -> None:
    namespace: dict[str, object] = {}
    exec(TRUTH_SNIPPET, namespace)
    exec(HYSTERESIS_SNIPPET, namespace)
    output = namespace["output"]
    decision = namespace["decision"]
    store = namespace["store"]
    assert type(output).__name__ == "RegimeOutput"
    assert type(decision).__name__ == "HysteresisDecision"
    assert store.state_for("TEST") is decision.state  # type: ignore[attr-defined]
