"""The nine regimes and the per-regime market dynamics the simulator draws from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Same names and declaration order as regime_engine.contracts.Regime (a test checks this).
REGIMES: Final[tuple[str, ...]] = (
    "CHOP_BALANCED",
    "CHOP_STOPHUNT",
    "LIQUIDATION_UP",
    "LIQUIDATION_DOWN",
    "SQUEEZE_UP",
    "SQUEEZE_DOWN",
    "TREND_BUILD_UP",
    "TREND_BUILD_DOWN",
    "TREND_EXHAUSTION",
)


@dataclass(frozen=True, slots=True)
class RegimeDynamics:
    """Per-second market behaviour of one regime; signed values are for direction +1 (up)."""

    drift_per_bar: float  # fractional price drift per 180 s bar, times the segment direction
    vol_mult: float  # multiplier on the symbol's base per-second volatility
    mean_reverting: bool  # Ornstein-Uhlenbeck pull towards the segment's anchor price
    trade_rate: float  # expected trades per second (before the symbol's activity factor)
    buy_prob: float  # probability a trade is buyer-initiated, for direction +1
    oi_per_bar: float  # fractional open-interest change per bar
    funding_target: float  # funding rate the estimate relaxes towards, for direction +1
    funding_tau_s: float  # relaxation time of the funding estimate
    liq_rate: float  # expected forced orders per second on the regime's side
    liq_qty_mult: float  # forced-order size relative to a mean trade
    stop_hunt: bool  # one wick beyond the range and back in every window


_DYNAMICS: Final[dict[str, RegimeDynamics]] = {
    "CHOP_BALANCED": RegimeDynamics(0.0, 0.8, True, 1.5, 0.5, 0.0, 0.0001, 1800.0, 0.0, 0.0, False),
    "CHOP_STOPHUNT": RegimeDynamics(0.0, 0.8, True, 1.5, 0.5, 0.0, 0.0001, 1800.0, 0.0, 0.0, True),
    "LIQUIDATION_UP": RegimeDynamics(0.016, 2.2, False, 6.0, 0.7, -0.015, 0.0008, 150.0, 1.2, 6.0, False),
    "LIQUIDATION_DOWN": RegimeDynamics(0.016, 2.2, False, 6.0, 0.7, -0.015, 0.0007, 150.0, 1.2, 6.0, False),
    "SQUEEZE_UP": RegimeDynamics(0.008, 1.4, False, 3.5, 0.6, -0.006, 0.0006, 200.0, 0.05, 3.0, False),
    "SQUEEZE_DOWN": RegimeDynamics(0.008, 1.4, False, 3.5, 0.6, -0.006, 0.0005, 200.0, 0.05, 3.0, False),
    "TREND_BUILD_UP": RegimeDynamics(0.0035, 1.0, False, 2.5, 0.58, 0.004, 0.0004, 900.0, 0.0, 0.0, False),
    "TREND_BUILD_DOWN": RegimeDynamics(0.0035, 1.0, False, 2.5, 0.58, 0.004, 0.0002, 900.0, 0.0, 0.0, False),
    "TREND_EXHAUSTION": RegimeDynamics(
        0.0015, 1.2, False, 2.0, 0.40, -0.0015, 0.0009, 400.0, 0.0, 0.0, False
    ),
}

# Regimes whose direction is fixed by the name; TREND_EXHAUSTION takes the previous trend's direction.
FIXED_DIRECTION: Final[dict[str, int]] = {
    "LIQUIDATION_UP": 1,
    "LIQUIDATION_DOWN": -1,
    "SQUEEZE_UP": 1,
    "SQUEEZE_DOWN": -1,
    "TREND_BUILD_UP": 1,
    "TREND_BUILD_DOWN": -1,
}


def dynamics_for(regime: str) -> RegimeDynamics:
    """Dynamics of one regime name (KeyError for an unknown name)."""
    return _DYNAMICS[regime]
