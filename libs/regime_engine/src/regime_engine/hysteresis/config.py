"""Hysteresis configuration (validated, immutable)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from regime_engine.contracts.regimes import Regime


class HysteresisConfig(BaseModel):
    """Belief-first hysteresis knobs; defaults are the original's, plus the recommended fixes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_updates: int = Field(default=3, ge=1)
    enter_threshold: float = Field(default=0.6, ge=0.0, le=1.0)
    commit_threshold: float = Field(default=0.6, ge=0.0, le=1.0)
    min_lead_over_anchor: float | None = None
    decay_step: int = Field(default=1, ge=0)
    allowed_regimes: tuple[Regime, ...] | None = None
    # Fix: a gap strictly larger than this (ms) since the previous state bootstraps afresh.
    reset_max_gap_ms: int | None = Field(default=None, ge=0)
    # Share of the previous run's belief kept in the next run's prior (0 = uniform prior every run).
    prior_carry: float = Field(default=0.5, ge=0.0, le=1.0)
