"""Service settings: the runtime's ServiceSettings plus the dashboard section (XRAY_DASHBOARD__*)."""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from consumers.dashboards.builder import DEFAULT_STALE_AFTER_MS, BuilderConfig
from consumers.dashboards.telemetry import (
    STREAM_ANALYSIS,
    STREAM_MARKET,
    STREAM_ORCHESTRATOR,
    STREAM_STATE_GATE,
)
from pydantic import BaseModel, ConfigDict, Field
from xray_runtime.config import ServiceSettings

SERVICE: Final = "dashboards"


class StaleAfterSection(BaseModel):
    """Seconds without a new record after which a stream counts as stale."""

    model_config = ConfigDict(extra="forbid")

    orchestrator_event: float = Field(default=DEFAULT_STALE_AFTER_MS[STREAM_ORCHESTRATOR] / 1000, gt=0)
    state_gate_event: float = Field(default=DEFAULT_STALE_AFTER_MS[STREAM_STATE_GATE] / 1000, gt=0)
    analysis_engine_event: float = Field(default=DEFAULT_STALE_AFTER_MS[STREAM_ANALYSIS] / 1000, gt=0)
    raw_market_event: float = Field(default=DEFAULT_STALE_AFTER_MS[STREAM_MARKET] / 1000, gt=0)

    def as_ms(self) -> dict[str, int]:
        """Thresholds by stream name, in ms."""
        return {name: int(seconds * 1000) for name, seconds in self.model_dump().items()}


class DashboardSection(BaseModel):
    """How the dashboard reads, refreshes and draws."""

    model_config = ConfigDict(extra="forbid")

    # Frames per second of the live view (steady, whatever the event rate).
    refresh_hz: float = Field(default=2.0, gt=0, le=30)
    # Records per partition of each core topic read back on start (the "current picture").
    history_records: int = Field(default=20_000, ge=0)
    # Price sparklines from raw_market_event (trade / mark prices, one sample per bucket and symbol).
    price_feed: bool = True
    price_history_records: int = Field(default=50_000, ge=0)
    price_bucket_s: float = Field(default=30.0, ge=1)
    regime_history: int = Field(default=40, ge=1, le=1000)
    price_history: int = Field(default=40, ge=1, le=1000)
    stale_after_s: StaleAfterSection = Field(default_factory=StaleAfterSection)
    # auto: the live screen on a terminal, line mode otherwise.
    mode: Literal["auto", "live", "lines"] = "auto"
    # Live view in the terminal's alternate screen (restored on exit).
    screen: bool = True
    # Logs go here; without it to stderr unless stderr is the terminal the view is drawn on.
    log_file: Path | None = None
    # Save the last frame as SVG (rich's export) when the service exits, at this width.
    export_svg: Path | None = None
    export_width: int = Field(default=190, ge=40, le=400)
    # Stop by itself after this many seconds (docs and tests); None runs until q / Ctrl-C / SIGTERM.
    exit_after_s: float | None = Field(default=None, gt=0)
    serve_http: bool = True

    def builder_config(self) -> BuilderConfig:
        """The builder's thresholds and history bounds."""
        return BuilderConfig(
            stale_after_ms=self.stale_after_s.as_ms(),
            regime_history=self.regime_history,
            price_history=self.price_history,
            price_bucket_ms=int(self.price_bucket_s * 1000),
        )


class DashboardSettings(ServiceSettings):
    """XRAY_* runtime settings plus XRAY_DASHBOARD__*."""

    dashboard: DashboardSection = Field(default_factory=DashboardSection)
