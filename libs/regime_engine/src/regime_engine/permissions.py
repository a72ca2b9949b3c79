"""Allowed-behaviour vocabulary, mapped from the belief distribution (not just the label)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from regime_engine.contracts.regimes import REGIMES, Regime

TREND_FOLLOW_LONG: Final = "TREND_FOLLOW_LONG"
TREND_FOLLOW_SHORT: Final = "TREND_FOLLOW_SHORT"
MEAN_REVERSION: Final = "MEAN_REVERSION"
FADE_BREAKOUTS: Final = "FADE_BREAKOUTS"
REDUCE_EXPOSURE: Final = "REDUCE_EXPOSURE"
NO_NEW_POSITIONS: Final = "NO_NEW_POSITIONS"

BEHAVIOURS: Final = (
    TREND_FOLLOW_LONG,
    TREND_FOLLOW_SHORT,
    MEAN_REVERSION,
    FADE_BREAKOUTS,
    REDUCE_EXPOSURE,
    NO_NEW_POSITIONS,
)

# Behaviours each regime supports (permissions table v2).
SUPPORTS: Final[dict[Regime, frozenset[str]]] = {
    Regime.CHOP_BALANCED: frozenset({MEAN_REVERSION, FADE_BREAKOUTS}),
    Regime.CHOP_STOPHUNT: frozenset({FADE_BREAKOUTS, REDUCE_EXPOSURE}),
    Regime.LIQUIDATION_UP: frozenset({REDUCE_EXPOSURE, NO_NEW_POSITIONS}),
    Regime.LIQUIDATION_DOWN: frozenset({REDUCE_EXPOSURE, NO_NEW_POSITIONS}),
    Regime.SQUEEZE_UP: frozenset({TREND_FOLLOW_LONG, REDUCE_EXPOSURE}),
    Regime.SQUEEZE_DOWN: frozenset({TREND_FOLLOW_SHORT, REDUCE_EXPOSURE}),
    Regime.TREND_BUILD_UP: frozenset({TREND_FOLLOW_LONG}),
    Regime.TREND_BUILD_DOWN: frozenset({TREND_FOLLOW_SHORT}),
    Regime.TREND_EXHAUSTION: frozenset({MEAN_REVERSION, REDUCE_EXPOSURE}),
}
GRANT_MASS: Final = 0.5  # a behaviour is granted when regimes supporting it hold >= this much belief
UNCERTAIN_CONFIDENCE: Final = 0.3  # below this, exposure is reduced whatever the regime


# behaviour -> indices (enum order) of the regimes that support it
_SUPPORTERS: Final[dict[str, tuple[int, ...]]] = {
    b: tuple(i for i, r in enumerate(REGIMES) if b in SUPPORTS[r]) for b in BEHAVIOURS
}


def behaviour_mass(belief: Sequence[float]) -> dict[str, float]:
    """Belief mass (enum-ordered list) behind each behaviour: sum over the regimes that support it."""
    return {b: sum(belief[i] for i in idx) for b, idx in _SUPPORTERS.items()}


def permissions_for(regime: Regime, belief: Sequence[float], confidence: float) -> tuple[str, ...]:
    """The regime token first (legacy compatibility), then granted behaviours in vocabulary order.

    Nothing granted means NO_NEW_POSITIONS; low confidence adds REDUCE_EXPOSURE and withdraws
    trend following.
    """
    mass = behaviour_mass(belief)
    granted = {b for b in BEHAVIOURS if mass[b] >= GRANT_MASS}
    if confidence < UNCERTAIN_CONFIDENCE:
        granted.discard(TREND_FOLLOW_LONG)
        granted.discard(TREND_FOLLOW_SHORT)
        granted.add(REDUCE_EXPOSURE)
    if not granted - {REDUCE_EXPOSURE}:
        granted.add(NO_NEW_POSITIONS)
    return (regime.value, *(b for b in BEHAVIOURS if b in granted))
