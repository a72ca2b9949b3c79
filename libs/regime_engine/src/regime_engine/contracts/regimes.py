"""The locked regime vocabulary; declaration order is the tie-break order everywhere."""

from __future__ import annotations

from enum import Enum


class Regime(Enum):
    """The nine regimes; value == name, order == tie-break order (lower index wins)."""

    CHOP_BALANCED = "CHOP_BALANCED"
    CHOP_STOPHUNT = "CHOP_STOPHUNT"
    LIQUIDATION_UP = "LIQUIDATION_UP"
    LIQUIDATION_DOWN = "LIQUIDATION_DOWN"
    SQUEEZE_UP = "SQUEEZE_UP"
    SQUEEZE_DOWN = "SQUEEZE_DOWN"
    TREND_BUILD_UP = "TREND_BUILD_UP"
    TREND_BUILD_DOWN = "TREND_BUILD_DOWN"
    TREND_EXHAUSTION = "TREND_EXHAUSTION"


REGIMES: tuple[Regime, ...] = tuple(Regime)
REGIME_INDEX: dict[Regime, int] = {regime: index for index, regime in enumerate(REGIMES)}
REGIME_BY_VALUE: dict[str, Regime] = {regime.value: regime for regime in REGIMES}


def regime_from_value(value: str) -> Regime | None:
    """Return the regime whose value is `value`, or None when it is not a known value."""
    return REGIME_BY_VALUE.get(value)
