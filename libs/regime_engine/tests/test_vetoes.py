"""Veto registry, label mapping (fact sheet §9 items 13, 25 adjusted) and conflict precedence."""

from __future__ import annotations

from regime_engine.contracts.regimes import REGIMES, Regime
from regime_engine.samples import neutral_snapshot, with_fields
from regime_engine.signals import read_inputs
from regime_engine.vetoes import (
    FORCE_CHOP_REASON,
    RULES,
    VetoResult,
    apply_vetoes,
    eligible_regimes,
    veto_invalidations,
)


def test_registry_order() -> None:
    assert [name for name, _ in RULES] == [
        "liquidation_absent_no_liquidation",
        "acceptance_high_no_chop",
        "oi_contracting_atr_expanding_no_trend_build",
        "oi_flat_atr_compressed_force_chop_balanced",
        "direction_up_no_down",
        "direction_down_no_up",
    ]


def test_labels_skip_unvetoed_and_deduplicate() -> None:
    results = [
        VetoResult(Regime.CHOP_BALANCED, False, ("acceptance_high_veto_chop",)),
        VetoResult(Regime.LIQUIDATION_UP, True, ("liquidation_absent_veto_liquidation",)),
        VetoResult(Regime.LIQUIDATION_DOWN, True, ("liquidation_absent_veto_liquidation",)),
        VetoResult(Regime.TREND_BUILD_UP, True, ("oi_contracting_atr_expanding_veto_trend_build",)),
        VetoResult(Regime.TREND_BUILD_DOWN, True, ("oi_contracting_atr_expanding_veto_trend_build",)),
    ]
    assert veto_invalidations(results) == [
        "no liquidations veto: liquidation",
        "oi contracting + atr expanding veto: trend build",
    ]
    assert veto_invalidations([VetoResult(Regime.SQUEEZE_UP, True, ("unknown_reason_token",))]) == [
        "unknown_reason_token"
    ]


def test_missing_inputs_never_veto() -> None:
    assert apply_vetoes(read_inputs(neutral_snapshot())) == []


def test_force_chop_fires_in_enum_order() -> None:
    x = read_inputs(with_fields(neutral_snapshot(), market__atr_z=-1.5, market__range_expansion=0.5))
    results = apply_vetoes(x)
    assert [r.regime for r in results] == list(REGIMES[1:])
    assert all(r.reasons == (FORCE_CHOP_REASON,) for r in results)


def test_conflict_precedence() -> None:
    everything = [VetoResult(r, True, ("x",)) for r in REGIMES]
    eligible, conflict = eligible_regimes(everything)
    assert conflict
    assert eligible == frozenset(REGIMES)
    forced = [VetoResult(r, True, (FORCE_CHOP_REASON,)) for r in REGIMES[1:]]
    forced.append(VetoResult(Regime.CHOP_BALANCED, True, ("acceptance_high_veto_chop",)))
    eligible, conflict = eligible_regimes(forced)
    assert conflict
    assert eligible == frozenset({Regime.CHOP_BALANCED})
