"""Hard vetoes: physically implausible regimes are removed from belief before projection.

Every predicate returns False when one of its inputs is missing, so missing data never vetoes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from regime_engine.contracts.regimes import REGIMES, Regime
from regime_engine.signals import Inputs

LIQUIDATION_ABSENT_MAX: Final = 0.002  # liquidation notional / traded notional
ACCEPTANCE_HIGH_MIN: Final = 0.8
ACCEPTED_DISTANCE_ATR_MIN: Final = 1.0  # |price - vwap| / atr
OI_CONTRACTING_SHORT_MAX: Final = -0.01
ATR_EXPANDING_Z_MIN: Final = 1.5
# The current bar must be wide too, so a high ATR left over from an earlier cascade does not count.
ATR_EXPANDING_RANGE_MIN: Final = 0.8
OI_FLAT_SHORT_MAX: Final = 0.001
OI_FLAT_MED_MAX: Final = 0.002
ATR_COMPRESSED_Z_MAX: Final = -1.0
RANGE_COMPRESSED_MAX: Final = 0.7
DIRECTION_DISTANCE_ATR_MIN: Final = 1.5
DIRECTION_AGGRESSOR_MIN: Final = 0.65

REASON_LABELS: Final[dict[str, str]] = {
    "liquidation_absent_veto_liquidation": "no liquidations veto: liquidation",
    "acceptance_high_veto_chop": "acceptance high veto: chop",
    "oi_contracting_atr_expanding_veto_trend_build": "oi contracting + atr expanding veto: trend build",
    "oi_flat_atr_compressed_force_chop_balanced": "oi flat + atr compressed force: chop balanced",
    "direction_up_veto_down": "strong up move veto: down regimes",
    "direction_down_veto_up": "strong down move veto: up regimes",
}
FORCE_CHOP_REASON: Final = "oi_flat_atr_compressed_force_chop_balanced"
VETO_CONFLICT: Final = "VETO_CONFLICT"


@dataclass(frozen=True, slots=True)
class VetoResult:
    """One rule's verdict on one regime."""

    regime: Regime
    vetoed: bool
    reasons: tuple[str, ...]


def _liquidations_absent(x: Inputs) -> bool:
    return x.liquidation_intensity is not None and x.liquidation_intensity < LIQUIDATION_ABSENT_MAX


def _distance_atr(x: Inputs) -> float | None:
    if x.price is None or x.vwap is None or x.atr is None or x.atr <= 0.0:
        return None
    return (x.price - x.vwap) / x.atr


def _accepted_away_from_value(x: Inputs) -> bool:
    dist = _distance_atr(x)
    return (
        x.acceptance_score is not None
        and dist is not None
        and x.acceptance_score >= ACCEPTANCE_HIGH_MIN
        and abs(dist) >= ACCEPTED_DISTANCE_ATR_MIN
    )


def _oi_contracting_atr_expanding(x: Inputs) -> bool:
    return (
        x.oi_slope_short is not None
        and x.atr_z is not None
        and x.range_expansion is not None
        and x.oi_slope_short <= OI_CONTRACTING_SHORT_MAX
        and x.atr_z >= ATR_EXPANDING_Z_MIN
        and x.range_expansion >= ATR_EXPANDING_RANGE_MIN
    )


def _oi_flat_atr_compressed(x: Inputs) -> bool:
    return (
        x.oi_slope_short is not None
        and x.oi_slope_med is not None
        and x.atr_z is not None
        and x.range_expansion is not None
        and abs(x.oi_slope_short) <= OI_FLAT_SHORT_MAX
        and abs(x.oi_slope_med) <= OI_FLAT_MED_MAX
        and x.atr_z <= ATR_COMPRESSED_Z_MAX
        and x.range_expansion <= RANGE_COMPRESSED_MAX
    )


def _strong_direction(x: Inputs) -> int:
    dist = _distance_atr(x)
    if dist is None or x.aggressive_volume_ratio is None:
        return 0
    if dist >= DIRECTION_DISTANCE_ATR_MIN and x.aggressive_volume_ratio >= DIRECTION_AGGRESSOR_MIN:
        return 1
    if dist <= -DIRECTION_DISTANCE_ATR_MIN and x.aggressive_volume_ratio <= 1.0 - DIRECTION_AGGRESSOR_MIN:
        return -1
    return 0


Rule = Callable[[Inputs], list[VetoResult]]


def _rule(predicate: Callable[[Inputs], bool], regimes: tuple[Regime, ...], reason: str) -> Rule:
    def apply(x: Inputs) -> list[VetoResult]:
        return [VetoResult(r, True, (reason,)) for r in regimes] if predicate(x) else []

    return apply


DOWN: Final = (Regime.LIQUIDATION_DOWN, Regime.SQUEEZE_DOWN, Regime.TREND_BUILD_DOWN)
UP: Final = (Regime.LIQUIDATION_UP, Regime.SQUEEZE_UP, Regime.TREND_BUILD_UP)

# Registry order is the order of the emitted results.
RULES: Final[tuple[tuple[str, Rule], ...]] = (
    (
        "liquidation_absent_no_liquidation",
        _rule(_liquidations_absent, (Regime.LIQUIDATION_UP, Regime.LIQUIDATION_DOWN),
              "liquidation_absent_veto_liquidation"),
    ),
    (
        "acceptance_high_no_chop",
        _rule(_accepted_away_from_value, (Regime.CHOP_BALANCED, Regime.CHOP_STOPHUNT),
              "acceptance_high_veto_chop"),
    ),
    (
        "oi_contracting_atr_expanding_no_trend_build",
        _rule(_oi_contracting_atr_expanding, (Regime.TREND_BUILD_UP, Regime.TREND_BUILD_DOWN),
              "oi_contracting_atr_expanding_veto_trend_build"),
    ),
    (
        "oi_flat_atr_compressed_force_chop_balanced",
        _rule(_oi_flat_atr_compressed, REGIMES[1:], FORCE_CHOP_REASON),
    ),
    ("direction_up_no_down", _rule(lambda x: _strong_direction(x) > 0, DOWN, "direction_up_veto_down")),
    ("direction_down_no_up", _rule(lambda x: _strong_direction(x) < 0, UP, "direction_down_veto_up")),
)  # fmt: skip


def apply_vetoes(x: Inputs) -> list[VetoResult]:
    """All fired veto results, in registry order."""
    results: list[VetoResult] = []
    for _, rule in RULES:
        results.extend(rule(x))
    return results


def eligible_mask(results: list[VetoResult]) -> tuple[list[bool], bool]:
    """eligible_regimes as an enum-ordered mask (the hot-path form)."""
    if not results:
        return [True] * len(REGIMES), False
    eligible, conflict = eligible_regimes(results)
    return [r in eligible for r in REGIMES], conflict


def eligible_regimes(results: list[VetoResult]) -> tuple[frozenset[Regime], bool]:
    """Regimes left after vetoes and whether a conflict forced a fallback.

    Precedence when every regime is vetoed: the force-chop rule wins (CHOP_BALANCED stays); without
    it, all vetoes are ignored. Either way the conflict is reported.
    """
    vetoed = {r.regime for r in results if r.vetoed}
    eligible = frozenset(r for r in REGIMES if r not in vetoed)
    if eligible:
        return eligible, False
    if any(FORCE_CHOP_REASON in r.reasons for r in results):
        return frozenset({Regime.CHOP_BALANCED}), True
    return frozenset(REGIMES), True


def veto_invalidations(results: list[VetoResult]) -> list[str]:
    """Human labels of the fired veto reasons, each once, first-occurrence order."""
    out: list[str] = []
    for result in results:
        if not result.vetoed:
            continue
        for reason in result.reasons:
            label = REASON_LABELS.get(reason, reason)
            if label not in out:
                out.append(label)
    return out
