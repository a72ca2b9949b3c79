"""The public truth output of one engine run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from regime_engine.contracts.regimes import Regime


@dataclass(frozen=True, slots=True)
class DriverContribution:
    """One driver and its signed share of the winning regime's score (shares add up to 1)."""

    driver: str
    contribution: float


@dataclass(frozen=True, slots=True)
class InvalidationCondition:
    """A concrete condition that would end the regime, e.g. ("level", "market.price", "<", 99.5, ...).

    kind: level | funding | open_interest | flow | volatility | evidence | veto | data
    field: the snapshot field path the condition watches (or "" when not field-based)
    op: one of "<", ">", "abs<" (|value| below threshold), "abs>"
    threshold: the level, or None for non-numeric conditions
    """

    kind: str
    field: str
    op: str
    threshold: float | None
    description: str


@dataclass(frozen=True, slots=True)
class RegimeOutput:
    """Truth output: regime label, confidence, drivers, invalidations, permissions, plus explanations."""

    symbol: str
    timestamp: int
    regime: Regime
    confidence: float
    drivers: tuple[str, ...]
    invalidations: tuple[str, ...]
    permissions: tuple[str, ...]
    belief_by_regime: Mapping[str, float] | None = None
    driver_contributions: tuple[DriverContribution, ...] | None = None
    invalidation_conditions: tuple[InvalidationCondition, ...] | None = None

    def __post_init__(self) -> None:
        """Enforce the explainability contract: drivers and permissions non-empty, no empty strings."""
        if not self.drivers:
            raise ValueError("RegimeOutput.drivers must not be empty")
        if not self.permissions:
            raise ValueError("RegimeOutput.permissions must not be empty")
        if any(not isinstance(s, str) or not s for s in self.invalidations):
            raise ValueError("RegimeOutput.invalidations must hold non-empty strings")
