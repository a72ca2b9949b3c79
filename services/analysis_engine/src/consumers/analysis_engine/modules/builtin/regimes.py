"""Regime vocabulary the built-in modules share: direction groups and belief summaries (pure helpers)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from xray_contracts.orchestrator_event import REGIME_VALUES

UP_REGIMES: Final = frozenset({"LIQUIDATION_UP", "SQUEEZE_UP", "TREND_BUILD_UP"})
DOWN_REGIMES: Final = frozenset({"LIQUIDATION_DOWN", "SQUEEZE_DOWN", "TREND_BUILD_DOWN"})
SQUEEZE_REGIMES: Final = ("SQUEEZE_UP", "SQUEEZE_DOWN")
LIQUIDATION_REGIMES: Final = ("LIQUIDATION_UP", "LIQUIDATION_DOWN")
# Substrings (lower-case) that mark a driver as derivatives positioning (funding / open interest).
POSITIONING_TOKENS: Final = ("funding", "open interest", "open_interest", "oi_", "oi ", ".oi", " oi")


def direction_of(regime: str) -> str:
    """`up`, `down` or `none` for a regime name."""
    if regime in UP_REGIMES:
        return "up"
    if regime in DOWN_REGIMES:
        return "down"
    return "none"


def normalised_belief(belief: Mapping[str, float]) -> dict[str, float]:
    """Belief over the nine regimes in declaration order, clipped to >= 0, summing to 1 (uniform if empty)."""
    raw = {r: max(0.0, float(belief.get(r, 0.0))) for r in REGIME_VALUES}
    total = sum(raw.values())
    if total <= 0.0 or not math.isfinite(total):
        return {r: 1.0 / len(REGIME_VALUES) for r in REGIME_VALUES}
    return {r: v / total for r, v in raw.items()}


def belief_summary(belief: Mapping[str, float]) -> dict[str, object]:
    """Top regime, runner-up, margin, normalised entropy and up-minus-down mass of a normalised belief."""
    ranked = sorted(REGIME_VALUES, key=lambda r: (-belief[r], REGIME_VALUES.index(r)))
    top, runner = ranked[0], ranked[1]
    entropy = -sum(p * math.log(p) for p in belief.values() if p > 0.0)
    up = sum(belief[r] for r in UP_REGIMES)
    down = sum(belief[r] for r in DOWN_REGIMES)
    return {
        "top_regime": top,
        "top_mass": round(belief[top], 6),
        "runner_up": runner,
        "margin": round(belief[top] - belief[runner], 6),
        "entropy": round(entropy / math.log(len(REGIME_VALUES)), 6),
        "up_mass": round(up, 6),
        "down_mass": round(down, 6),
        "direction_bias": round(up - down, 6),
    }


def is_positioning_driver(driver: str) -> bool:
    """True for drivers about funding or open interest."""
    text = f" {driver.lower()} "
    return any(token in text for token in POSITIONING_TOKENS)
