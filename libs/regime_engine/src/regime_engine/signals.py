"""Snapshot fields -> normalised signals in [-1, 1]; missing or unusable inputs are simply absent."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from regime_engine.contracts.snapshots import RegimeInputSnapshot

# Every snapshot input the scorer reads (coverage is measured over these).
SCORED_FIELDS: Final[tuple[str, ...]] = (
    "market.price",
    "market.vwap",
    "market.atr",
    "market.atr_z",
    "market.range_expansion",
    "market.acceptance_score",
    "market.sweep_score",
    "derivatives.open_interest",
    "derivatives.oi_slope_short",
    "derivatives.oi_slope_med",
    "derivatives.oi_accel",
    "derivatives.funding_rate",
    "derivatives.funding_slope",
    "derivatives.funding_z",
    "derivatives.liquidation_intensity",
    "flow.cvd",
    "flow.cvd_slope",
    "flow.cvd_efficiency",
    "flow.aggressive_volume_ratio",
)

# Scales: the input value that maps to tanh(1) ~ 0.76. See Planning/regime_engine/spec.md.
ATR_Z_SCALE: Final = 1.5
RANGE_EXPANSION_CENTRE: Final = 1.0
RANGE_EXPANSION_SCALE: Final = 0.75
VWAP_DISTANCE_ATR_SCALE: Final = 0.5
OI_SLOPE_SHORT_SCALE: Final = 0.03
OI_SLOPE_MED_SCALE: Final = 0.06
OI_ACCEL_SCALE: Final = 0.03
FUNDING_RATE_SCALE: Final = 0.0005
FUNDING_SLOPE_SCALE: Final = 0.0005
FUNDING_Z_SCALE: Final = 1.5
LIQUIDATION_REFERENCE: Final = 0.01  # intensity mapped to 0 (log10 scale)
LIQUIDATION_OFFSET: Final = 1e-4
CVD_RATIO_SCALE: Final = 0.002
CVD_EFFICIENCY_ATR_SCALE: Final = 1.0
AGGRESSOR_SCALE: Final = 0.1
RS_VS_BTC_SCALE: Final = 0.01
BETA_CENTRE: Final = 1.0
BETA_SCALE: Final = 0.5


def num(value: object) -> float | None:
    """A finite float from an int/float (not bool); anything else (MISSING, None, NaN) is None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return None


def _clamp(x: float) -> float:
    return -1.0 if x < -1.0 else 1.0 if x > 1.0 else x


@dataclass(frozen=True, slots=True)
class Inputs:
    """The raw numeric inputs the engine uses (None = missing or unusable)."""

    price: float | None
    vwap: float | None
    atr: float | None
    atr_z: float | None
    range_expansion: float | None
    acceptance_score: float | None
    sweep_score: float | None
    open_interest: float | None
    oi_slope_short: float | None
    oi_slope_med: float | None
    oi_accel: float | None
    funding_rate: float | None
    funding_slope: float | None
    funding_z: float | None
    liquidation_intensity: float | None
    cvd: float | None
    cvd_slope: float | None
    cvd_efficiency: float | None
    aggressive_volume_ratio: float | None
    rs_vs_btc: float | None
    beta_to_btc: float | None
    alt_breadth: float | None

    def coverage(self) -> float:
        """Share of SCORED_FIELDS that are present, in [0, 1]."""
        present = sum(
            v is not None
            for v in (
                self.price, self.vwap, self.atr, self.atr_z, self.range_expansion,
                self.acceptance_score, self.sweep_score, self.open_interest, self.oi_slope_short,
                self.oi_slope_med, self.oi_accel, self.funding_rate, self.funding_slope,
                self.funding_z, self.liquidation_intensity, self.cvd, self.cvd_slope,
                self.cvd_efficiency, self.aggressive_volume_ratio,
            )
        )  # fmt: skip
        return present / len(SCORED_FIELDS)


def _sub(obj: object, name: str) -> object:
    return getattr(obj, name, None)


def read_inputs(snapshot: RegimeInputSnapshot) -> Inputs:
    """Pull every numeric input out of the snapshot without raising on odd shapes."""
    m = _sub(snapshot, "market")
    d = _sub(snapshot, "derivatives")
    f = _sub(snapshot, "flow")
    c = _sub(snapshot, "context")
    return Inputs(
        price=num(_sub(m, "price")),
        vwap=num(_sub(m, "vwap")),
        atr=num(_sub(m, "atr")),
        atr_z=num(_sub(m, "atr_z")),
        range_expansion=num(_sub(m, "range_expansion")),
        acceptance_score=num(_sub(m, "acceptance_score")),
        sweep_score=num(_sub(m, "sweep_score")),
        open_interest=num(_sub(d, "open_interest")),
        oi_slope_short=num(_sub(d, "oi_slope_short")),
        oi_slope_med=num(_sub(d, "oi_slope_med")),
        oi_accel=num(_sub(d, "oi_accel")),
        funding_rate=num(_sub(d, "funding_rate")),
        funding_slope=num(_sub(d, "funding_slope")),
        funding_z=num(_sub(d, "funding_z")),
        liquidation_intensity=num(_sub(d, "liquidation_intensity")),
        cvd=num(_sub(f, "cvd")),
        cvd_slope=num(_sub(f, "cvd_slope")),
        cvd_efficiency=num(_sub(f, "cvd_efficiency")),
        aggressive_volume_ratio=num(_sub(f, "aggressive_volume_ratio")),
        rs_vs_btc=num(_sub(c, "rs_vs_btc")),
        beta_to_btc=num(_sub(c, "beta_to_btc")),
        alt_breadth=num(_sub(c, "alt_breadth")),
    )


def _t(x: float | None, scale: float, centre: float = 0.0) -> float | None:
    return None if x is None else math.tanh((x - centre) / scale)


def compute_signals(x: Inputs) -> dict[str, float]:
    """Normalised signals keyed by signal id; a signal whose inputs are missing is left out."""
    out: dict[str, float] = {}

    def put(key: str, value: float | None) -> None:
        if value is not None:
            out[key] = value

    put("market.atr_zscore", _t(x.atr_z, ATR_Z_SCALE))
    put("market.range_expansion", _t(x.range_expansion, RANGE_EXPANSION_SCALE, RANGE_EXPANSION_CENTRE))
    if x.price is not None and x.vwap is not None and x.atr is not None and x.atr > 0.0:
        put("market.price_vs_vwap", math.tanh((x.price - x.vwap) / x.atr / VWAP_DISTANCE_ATR_SCALE))
    if x.acceptance_score is not None:
        put("market.acceptance_score", _clamp(2.0 * x.acceptance_score - 1.0))
    if x.sweep_score is not None:
        put("market.sweep_score", _clamp(2.0 * x.sweep_score - 1.0))
    put("derivatives.oi_slope_short", _t(x.oi_slope_short, OI_SLOPE_SHORT_SCALE))
    put("derivatives.oi_slope_med", _t(x.oi_slope_med, OI_SLOPE_MED_SCALE))
    put("derivatives.oi_acceleration", _t(x.oi_accel, OI_ACCEL_SCALE))
    put("derivatives.funding_level", _t(x.funding_rate, FUNDING_RATE_SCALE))
    put("derivatives.funding_slope", _t(x.funding_slope, FUNDING_SLOPE_SCALE))
    put("derivatives.funding_zscore", _t(x.funding_z, FUNDING_Z_SCALE))
    if x.liquidation_intensity is not None and x.liquidation_intensity >= 0.0:
        # Decades matter (0.003 background vs 0.03 bursts vs 1.0 cascades): tanh of log10.
        ratio = (x.liquidation_intensity + LIQUIDATION_OFFSET) / LIQUIDATION_REFERENCE
        put("derivatives.liquidation_intensity", math.tanh(math.log10(ratio)))
    oi = x.open_interest if x.open_interest is not None and x.open_interest > 0.0 else None
    if x.cvd is not None and oi is not None:
        put("flow.cvd_ratio", math.tanh(x.cvd / oi / CVD_RATIO_SCALE))
    if x.cvd_slope is not None and oi is not None:
        put("flow.cvd_slope", math.tanh(x.cvd_slope / oi / CVD_RATIO_SCALE))
    if x.cvd_efficiency is not None and x.cvd is not None and x.atr is not None and x.atr > 0.0:
        # efficiency * |cvd| is the window's price progress; in ATRs it is a directional move.
        put(
            "flow.cvd_efficiency", math.tanh(x.cvd_efficiency * abs(x.cvd) / x.atr / CVD_EFFICIENCY_ATR_SCALE)
        )
    if x.aggressive_volume_ratio is not None:
        put("flow.aggressive_volume_ratio", math.tanh((x.aggressive_volume_ratio - 0.5) / AGGRESSOR_SCALE))
    move, aggressor = out.get("flow.cvd_efficiency"), out.get("flow.aggressive_volume_ratio")
    if move is not None and aggressor is not None:
        # Positive when price moved against the aggressive flow (effort without result).
        put("flow.price_divergence", -move * aggressor)
    put("context.rs_vs_btc", _t(x.rs_vs_btc, RS_VS_BTC_SCALE))
    put("context.beta_to_btc", _t(x.beta_to_btc, BETA_SCALE, BETA_CENTRE))
    if x.alt_breadth is not None:
        put("context.alt_breadth", _clamp(2.0 * x.alt_breadth - 1.0))
    return {k: v for k, v in out.items() if math.isfinite(v)}
