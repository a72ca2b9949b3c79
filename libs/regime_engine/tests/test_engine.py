"""Engine behaviours: scoring, vetoes, belief, confidence, permissions, invalidations, explanations."""

from __future__ import annotations

import dataclasses
import json
import math

from regime_engine.contracts.missing import MISSING
from regime_engine.contracts.regimes import Regime
from regime_engine.contracts.snapshots import RegimeInputSnapshot
from regime_engine.engine import run, run_pipeline, run_with_hysteresis, step
from regime_engine.hysteresis import HysteresisConfig, HysteresisStore
from regime_engine.samples import missing_snapshot, neutral_snapshot, with_fields


def trend_up(ts: int = 180_000) -> RegimeInputSnapshot:
    """A clean up-trend bar (typical simulator values): above VWAP, buyers aggressive, OI building."""
    return with_fields(
        neutral_snapshot(timestamp=ts),
        market__price=2639.2,
        market__vwap=2630.8,
        market__atr=20.4,
        market__atr_z=-0.5,
        market__range_expansion=0.8,
        market__acceptance_score=0.7,
        market__sweep_score=0.08,
        derivatives__open_interest=270_000.0,
        derivatives__oi_slope_short=0.012,
        derivatives__oi_slope_med=0.02,
        derivatives__oi_accel=0.0,
        derivatives__funding_rate=0.0002,
        derivatives__funding_slope=0.0002,
        derivatives__funding_z=0.3,
        derivatives__liquidation_intensity=0.0,
        flow__cvd=98.0,
        flow__cvd_slope=95.0,
        flow__cvd_efficiency=0.128,
        flow__aggressive_volume_ratio=0.585,
    )


def liquidation_down() -> RegimeInputSnapshot:
    """A cascade (typical simulator values): sellers dominate, heavy liquidations, OI collapsing."""
    return with_fields(
        trend_up(),
        market__price=2678.3,
        market__vwap=2690.3,
        market__atr=34.4,
        market__atr_z=1.6,
        market__range_expansion=1.3,
        market__acceptance_score=1.0,
        market__sweep_score=0.02,
        derivatives__open_interest=228_000.0,
        derivatives__oi_slope_short=-0.07,
        derivatives__oi_slope_med=-0.14,
        derivatives__oi_accel=-0.026,
        derivatives__funding_rate=-0.0007,
        derivatives__funding_slope=-0.0004,
        derivatives__funding_z=-1.5,
        derivatives__liquidation_intensity=0.95,
        flow__cvd=-568.0,
        flow__cvd_slope=-447.0,
        flow__cvd_efficiency=-0.085,
        flow__aggressive_volume_ratio=0.29,
    )


def test_neutral_snapshot_is_chop() -> None:
    out = run(neutral_snapshot())
    assert out.regime is Regime.CHOP_BALANCED
    assert out.permissions[0] == "CHOP_BALANCED"
    assert out.drivers


def test_clean_trend_up() -> None:
    out = run(trend_up())
    assert out.regime is Regime.TREND_BUILD_UP
    assert "TREND_FOLLOW_LONG" in out.permissions
    assert out.invalidation_conditions is not None
    level = [c for c in out.invalidation_conditions if c.kind == "level"]
    assert level
    assert (level[0].field, level[0].op, level[0].threshold) == ("market.price", "<", 2630.8)
    assert any("VWAP 2630.8" in s for s in out.invalidations)


def test_liquidation_cascade_and_vetoes() -> None:
    out = run(liquidation_down())
    assert out.regime is Regime.LIQUIDATION_DOWN
    assert "NO_NEW_POSITIONS" in out.permissions
    belief = out.belief_by_regime
    assert belief is not None
    # OI contracting while ATR expands vetoes trend builds
    assert belief["TREND_BUILD_UP"] == belief["TREND_BUILD_DOWN"] == 0.0
    assert "oi contracting + atr expanding veto: trend build" in out.invalidations
    # a strong down move (2 ATR below VWAP, 71 % sellers) also vetoes every *_UP regime
    far = run(with_fields(liquidation_down(), market__price=2620.0))
    assert far.belief_by_regime is not None
    assert far.belief_by_regime["LIQUIDATION_UP"] == far.belief_by_regime["SQUEEZE_UP"] == 0.0
    assert "strong down move veto: up regimes" in far.invalidations


def test_no_liquidations_veto_fires() -> None:
    out = run(trend_up())
    assert out.belief_by_regime is not None
    assert out.belief_by_regime["LIQUIDATION_UP"] == 0.0
    assert "no liquidations veto: liquidation" in out.invalidations


def test_force_chop_when_oi_flat_and_atr_compressed() -> None:
    snap = with_fields(
        neutral_snapshot(),
        market__atr_z=-1.5,
        market__range_expansion=0.5,
        market__acceptance_score=0.9,
        market__price=3.0,
    )
    out = run(snap)
    assert out.regime is Regime.CHOP_BALANCED
    assert out.belief_by_regime is not None
    assert out.belief_by_regime["CHOP_BALANCED"] == 1.0
    # acceptance-high vetoes chop as well: the force rule wins and the conflict is reported
    assert "VETO_CONFLICT" in out.invalidations


def test_contributions_add_up_to_centred_logit() -> None:
    out, state = run_pipeline(with_fields(trend_up(), derivatives__liquidation_intensity=None))
    contributions = out.driver_contributions
    assert contributions is not None
    values = [c.contribution for c in contributions]
    assert values == sorted(values, reverse=True)
    logs = [math.log(v) for v in state.belief_by_regime.values()]
    centred = math.log(state.belief_by_regime[out.regime]) - sum(logs) / len(logs)
    assert math.isclose(sum(values), centred, rel_tol=1e-9, abs_tol=1e-9)
    assert out.drivers[0] == contributions[0].driver


def test_missing_data_lowers_confidence_and_never_raises() -> None:
    full = run(trend_up())
    partial = run(
        with_fields(
            trend_up(),
            derivatives__oi_slope_med=MISSING,
            market__acceptance_score=MISSING,
            flow__cvd=MISSING,
            derivatives__funding_z=MISSING,
        )
    )
    empty = run(missing_snapshot())
    assert full.confidence > partial.confidence > empty.confidence
    assert empty.regime is Regime.CHOP_BALANCED
    assert "LOW_DATA_COVERAGE" in empty.invalidations
    assert "NO_NEW_POSITIONS" in empty.permissions


def test_confidence_moves_with_the_data() -> None:
    weak = with_fields(trend_up(), market__price=2631.0, flow__aggressive_volume_ratio=0.52, flow__cvd=10.0)
    assert run(trend_up()).confidence > run(weak).confidence


def test_hysteresis_equal_timestamp_is_a_noop() -> None:
    store = HysteresisStore()
    first = run_with_hysteresis(trend_up(180_000), store)
    again = run_with_hysteresis(trend_up(180_000), store)
    assert first.applied
    assert not again.applied
    assert again.skip_reason == "DUPLICATE_TIMESTAMP"
    assert again.output == run(trend_up(180_000))
    assert again.state is first.state
    assert store.state_for("TEST") is first.state
    older = run_with_hysteresis(trend_up(0), store)
    assert older.skip_reason == "STALE_TIMESTAMP"
    assert store.state_for("TEST") is first.state


def test_hysteresis_switches_after_window_and_carries_belief() -> None:
    store = HysteresisStore()
    cfg = HysteresisConfig()
    anchors = []
    for i in range(6):
        snap = (
            neutral_snapshot(timestamp=(i + 1) * 180_000) if i < 2 else liquidation_down_at((i + 1) * 180_000)
        )
        decision = run_with_hysteresis(snap, store, cfg)
        anchors.append(decision.selected_regime)
        assert decision.truth_regime is decision.output.regime
    assert anchors[:3] == [Regime.CHOP_BALANCED] * 3
    assert anchors[-1] is Regime.LIQUIDATION_DOWN
    final = store.state_for("TEST")
    assert final is not None
    assert final.last_commit_timestamp_ms is not None
    assert final.last_commit_timestamp_ms % 180_000 == 0


def liquidation_down_at(ts: int) -> RegimeInputSnapshot:
    return _retime(liquidation_down(), ts)


def _retime(snap: RegimeInputSnapshot, ts: int) -> RegimeInputSnapshot:
    return dataclasses.replace(snap, timestamp=ts)


def test_step_is_pure_and_gap_resets_prior() -> None:
    cfg = HysteresisConfig(reset_max_gap_ms=180_000)
    first = step(liquidation_down_at(180_000), None, cfg)
    near = step(_retime(neutral_snapshot(), 360_000), first.state, cfg)
    far = step(_retime(neutral_snapshot(), 720_000), first.state, cfg)
    assert near == step(_retime(neutral_snapshot(), 360_000), first.state, cfg)
    assert far.state.reason_codes[0] == "RESET_TIME_GAP"
    assert far.output == run(_retime(neutral_snapshot(), 720_000))
    assert near.output.belief_by_regime != far.output.belief_by_regime


def test_restored_state_continues_with_a_uniform_prior() -> None:
    from regime_engine.hysteresis import encode_record, parse_record, state_from_record

    cfg = HysteresisConfig()
    first = step(liquidation_down_at(180_000), None, cfg)
    restored = state_from_record(parse_record(json.loads(encode_record(first.state))), cfg)
    assert restored.belief() is None
    after_restore = step(liquidation_down_at(360_000), restored, cfg)
    fresh = run(liquidation_down_at(360_000))
    assert after_restore.output == fresh
    assert after_restore.state.anchor_regime is first.state.anchor_regime
    carried = step(liquidation_down_at(360_000), first.state, cfg)
    assert carried.output.belief_by_regime != fresh.belief_by_regime
    assert any(c.driver == "Previous belief" for c in carried.output.driver_contributions or ())
