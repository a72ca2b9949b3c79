"""The legacy engine ingress: one symbol, one 3-minute step. Any field may hold MISSING."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from regime_engine.contracts.missing import Missing

# A numeric field that may be explicitly missing.
MaybeFloat = float | Missing


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """Price/volatility/structure inputs; structure_levels also carries the embedded evidence."""

    price: MaybeFloat
    vwap: MaybeFloat
    atr: MaybeFloat
    atr_z: MaybeFloat
    range_expansion: MaybeFloat
    structure_levels: Mapping[str, Any] | Missing
    acceptance_score: MaybeFloat
    sweep_score: MaybeFloat


@dataclass(frozen=True, slots=True)
class DerivativesSnapshot:
    """Open interest, funding and liquidation inputs."""

    open_interest: MaybeFloat
    oi_slope_short: MaybeFloat
    oi_slope_med: MaybeFloat
    oi_accel: MaybeFloat
    funding_rate: MaybeFloat
    funding_slope: MaybeFloat
    funding_z: MaybeFloat
    liquidation_intensity: float | Missing | None


@dataclass(frozen=True, slots=True)
class FlowSnapshot:
    """Order-flow inputs (cumulative volume delta and aggressor share)."""

    cvd: MaybeFloat
    cvd_slope: MaybeFloat
    cvd_efficiency: MaybeFloat
    aggressive_volume_ratio: MaybeFloat


@dataclass(frozen=True, slots=True)
class ContextSnapshot:
    """Cross-market context inputs."""

    rs_vs_btc: MaybeFloat
    beta_to_btc: MaybeFloat
    alt_breadth: MaybeFloat
    btc_regime: str | Missing | None
    eth_regime: str | Missing | None


@dataclass(frozen=True, slots=True)
class RegimeInputSnapshot:
    """One engine input: symbol, aligned timestamp (ms) and the four sub-snapshots."""

    symbol: str
    timestamp: int
    market: MarketSnapshot
    derivatives: DerivativesSnapshot
    flow: FlowSnapshot
    context: ContextSnapshot
