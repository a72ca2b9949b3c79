"""Simulator configuration: symbols, time span, cadences and seed (validated, immutable)."""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

WINDOW_MS: Final = 180_000
# 2023-11-14T22:12:00Z: a 180 s boundary, used when no start time is given.
DEFAULT_START_MS: Final = 1_699_999_920_000
REFERENCE_SYMBOL: Final = "BTCUSDT"
_DEFAULT_ALTS: Final = (
    "ETHUSDT",
    "SOLUSDT",
    "BNBUSDT",
    "XRPUSDT",
    "DOGEUSDT",
    "ADAUSDT",
    "AVAXUSDT",
    "LINKUSDT",
    "DOTUSDT",
)


def default_symbols(count: int) -> tuple[str, ...]:
    """BTCUSDT first, then well-known alts, then synthetic ALTnnnUSDT names up to `count`."""
    names = [REFERENCE_SYMBOL, *_DEFAULT_ALTS]
    names.extend(f"ALT{i:03d}USDT" for i in range(len(names), count))
    return tuple(names[:count])


class SimulatorConfig(BaseModel):
    """Everything that determines a simulated run; equal configs give byte-equal output."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 7
    symbols: tuple[str, ...] = Field(default_factory=lambda: default_symbols(5))
    start_ms: int = DEFAULT_START_MS
    windows: int = Field(default=120, ge=1, description="number of 180 s windows to simulate")
    # Regimes last 30 min to 2 h by default (uniform 10-40 windows). Short segments (e.g. 4-8)
    # remain available for tests that want many transitions in a short run; see
    # Planning/simulator/spec.md on why the default is not shorter.
    min_segment_windows: int = Field(default=10, ge=1)
    max_segment_windows: int = Field(default=40, ge=1)
    base_vol_per_s: float = Field(default=1.6e-4, gt=0)
    activity: float = Field(default=1.0, gt=0, description="scales every symbol's trade rate")
    book_interval_s: int = Field(default=1, ge=1)
    mark_interval_s: int = Field(default=1, ge=1)
    oi_interval_s: int = Field(default=10, ge=1)
    background_liq_rate: float = Field(default=0.004, ge=0, description="forced orders per second")

    @model_validator(mode="after")
    def _check(self) -> SimulatorConfig:
        """Reject configs the generator cannot honour."""
        if self.start_ms % WINDOW_MS:
            raise ValueError("start_ms must be a multiple of 180000")
        if not self.symbols or len(set(self.symbols)) != len(self.symbols):
            raise ValueError("symbols must be non-empty and unique")
        if self.min_segment_windows > self.max_segment_windows:
            raise ValueError("min_segment_windows must be <= max_segment_windows")
        return self

    @property
    def end_ms(self) -> int:
        """Exclusive end of the simulated span."""
        return self.start_ms + self.windows * WINDOW_MS
