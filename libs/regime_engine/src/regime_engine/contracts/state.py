"""RegimeState: the engine's belief over the nine regimes for one run."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from regime_engine.contracts.regimes import REGIMES, Regime

REGIME_STATE_SCHEMA: Final = "regime_state"
REGIME_STATE_SCHEMA_VERSION: Final = "1"
BELIEF_SUM_TOLERANCE: Final = 1e-9


@dataclass(frozen=True, slots=True)
class RegimeState:
    """Belief distribution (every regime, enum order, sums to 1) and its argmax anchor."""

    schema: str = field(default=REGIME_STATE_SCHEMA, kw_only=True)
    schema_version: str = field(default=REGIME_STATE_SCHEMA_VERSION, kw_only=True)
    symbol: str
    engine_timestamp_ms: int
    belief_by_regime: Mapping[Regime, float]
    anchor_regime: Regime

    def __post_init__(self) -> None:
        """Check the belief invariants with explicit exceptions (not asserts)."""
        check_belief(self.belief_by_regime, self.anchor_regime)


def check_belief(belief: Mapping[Regime, float], anchor: Regime) -> None:
    """Raise ValueError unless belief covers every regime, values are finite in [0,1], sum is 1."""
    if tuple(belief) != REGIMES:
        raise ValueError("belief must hold every regime in enum order")
    if anchor not in belief:
        raise ValueError("anchor must be a belief key")
    total = 0.0
    for value in belief.values():
        if not math.isfinite(value) or value < 0.0 or value > 1.0:
            raise ValueError(f"belief value out of range: {value!r}")
        total += value
    if abs(total - 1.0) > BELIEF_SUM_TOLERANCE:
        raise ValueError(f"belief must sum to 1, got {total!r}")
