"""Service settings: the runtime's common settings plus a `market_data` section (XRAY_MARKET_DATA__...)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from xray_runtime.config import ServiceSettings

from market_data.config import BackpressureConfig, BinanceFeedConfig, SymbolStreams


class MarketDataSection(BaseModel):
    """What this service adds to the common settings."""

    model_config = ConfigDict(extra="forbid")

    feed: BinanceFeedConfig = Field(
        default_factory=lambda: BinanceFeedConfig(symbols=[SymbolStreams(symbol="BTCUSDT")])
    )
    # `max_pending` bounds the producer's local queue (records); `block` waits for room up to max_block_ms.
    backpressure: BackpressureConfig = BackpressureConfig(
        policy="block", max_pending=200_000, max_block_ms=1_000
    )
    flush_timeout_s: float = Field(default=15.0, gt=0)
    # Serve delivery callbacks every N records (cheap; failures only).
    poll_every: int = Field(default=1000, ge=1)
    # Seconds between producer queue-depth gauge updates.
    gauge_interval_s: float = Field(default=1.0, gt=0)


class MarketDataSettings(ServiceSettings):
    """Settings of the market_data service."""

    market_data: MarketDataSection = Field(default_factory=MarketDataSection)
