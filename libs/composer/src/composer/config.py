"""ComposerConfig: every window and threshold in one frozen, hashable object (defaults documented)."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ClassicalV1Config(_Frozen):
    """classical_regime_v1 constants (the original's values)."""

    low_flow_scale: float = 0.01
    med_flow_scale: float = 0.02
    high_flow_scale: float = 0.05
    vol_level_offset: float = 1.0
    vol_level_scale: float = 3.0
    high_vol_offset: float = -1.0
    high_vol_scale: float = 2.0


class FlowV1Config(_Frozen):
    """flow_pressure_v1 constants (the original's values)."""

    min_abs_ratio: float = 0.002
    liq_atr_z: float = 1.5
    liq_abs_ratio: float = 0.02
    squeeze_atr_z: float = 1.0
    strength_scale: float = 0.02


class VolatilityV1Config(_Frozen):
    """volatility_context_v1 constants (the original's values)."""

    chop_balanced_max: float = 0.2
    chop_stophunt_max: float = 0.8
    exhaustion_min: float = 1.8
    strength_offset: float = 0.2
    strength_scale: float = 2.0


class ObserverV2Config(_Frozen):
    """Thresholds of the v2 observers (see Planning/composer/spec.md, section 4.2)."""

    # shared signal terms
    trend_move_atr: float = 1.0  # |return_3m_atr| that counts as a full directional bar
    chop_move_atr: float = 0.6  # |return_15m_atr| below which price is going nowhere
    oi_build: float = 0.003  # oi_change_3m that counts as a full build (fraction)
    oi_unwind: float = 0.004  # -oi_change_3m that counts as a full unwind (fraction)
    flow_imbalance: float = 0.12  # |aggressive ratio - 0.5| that counts as one-sided flow
    liquidation_min_intensity: float = 0.15
    liquidation_full_intensity: float = 0.6
    liquidation_side_imbalance: float = 0.3  # |liquidation imbalance| that names the side
    sweep_min: float = 0.2
    sweep_span: float = 0.3  # sweep_score above sweep_min that counts as a full sweep
    # flow_pressure_v2
    flow_min_imbalance: float = 0.05
    flow_weight: float = 0.9
    # volatility_context_v2
    range_expansion_high: float = 2.5
    chop_atr_z_max: float = -0.5  # volatility compressed relative to the lookback
    chop_range_expansion_max: float = 0.7
    chop_bar_move_atr: float = 0.25
    volatility_weight: float = 0.8
    chop_weight: float = 0.5
    # derivatives_positioning_v2
    funding_slope_scale: float = 0.0002
    derivatives_min_move: float = 0.2
    derivatives_min_build: float = 0.5
    derivatives_min_unwind: float = 0.75
    derivatives_weight: float = 0.85
    # structure_v2
    stophunt_max_move: float = 0.5
    structure_weight: float = 0.9
    exhaustion_divergence: float = 0.08
    exhaustion_max_move: float = 0.8
    exhaustion_weight: float = 0.85


class ComposerConfig(_Frozen):
    """Windows, history bounds and observer thresholds; the defaults are the documented values."""

    window_ms: int = Field(default=180_000, gt=0)
    candle_interval_ms: int = Field(default=180_000, gt=0)
    atr_window: int = Field(default=14, ge=1)
    atr_z_window: int = Field(default=50, ge=2)
    lookback_ms: int = Field(default=12_600_000, gt=0, description="3.5 h = 70 bars of 180 s")
    structure_bars: int = Field(default=5, ge=1, description="bars in the 15 min structure window")
    sweep_reference_bars: int = Field(default=10, ge=1, description="prior bars that define the range")
    slope_short_bars: int = Field(default=5, ge=1, description="15 min")
    slope_med_bars: int = Field(default=20, ge=1, description="60 min")
    rs_bars: int = Field(default=20, ge=1, description="60 min relative strength / breadth")
    beta_bars: int = Field(default=50, ge=2)
    beta_min_pairs: int = Field(default=20, ge=2)
    funding_z_min_samples: int = Field(default=20, ge=2)
    asof_max_age_bars: int = Field(default=2, ge=1, description="staleness bound of as-of lookups")
    assume_liquidation_feed: bool = Field(
        default=False, description="treat a quiet forceOrder stream as zero liquidations from the start"
    )
    reference_symbol: str = "BTCUSDT"
    classical_v1: ClassicalV1Config = ClassicalV1Config()
    flow_v1: FlowV1Config = FlowV1Config()
    volatility_v1: VolatilityV1Config = VolatilityV1Config()
    observers_v2: ObserverV2Config = ObserverV2Config()

    def config_hash(self) -> str:
        """sha256 of the canonical JSON form (recorded with each run for replay)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


DEFAULT_CONFIG = ComposerConfig()
