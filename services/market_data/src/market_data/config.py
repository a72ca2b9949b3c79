"""Validated configuration: backpressure, retry, the generic source contract and the Binance feed."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

BackpressurePolicy = Literal["block", "fail"]
OnBackpressure = Literal["pause", "stop"]
StreamKind = Literal["aggTrade", "trade", "bookTicker", "depth", "markPrice", "forceOrder", "kline"]

DEFAULT_STREAMS: tuple[StreamKind, ...] = ("aggTrade", "kline", "bookTicker", "markPrice", "forceOrder")

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class BackpressureConfig(BaseModel):
    """How the pipeline asks the sink to behave when it cannot take an event at once."""

    model_config = _FROZEN

    policy: BackpressurePolicy
    max_pending: int = Field(gt=0)
    max_block_ms: int | None = Field(default=None, gt=0)


class RetryPolicy(BaseModel):
    """Capped exponential backoff; `max_attempts` counts consecutive failures of one outage."""

    model_config = _FROZEN

    min_delay_ms: int = Field(gt=0)
    max_delay_ms: int = Field(gt=0)
    max_attempts: int = Field(gt=0)
    max_elapsed_ms: int | None = Field(default=None, gt=0)
    jitter: float = Field(default=0.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.max_delay_ms < self.min_delay_ms:
            raise ValueError("max_delay_ms must be >= min_delay_ms")
        return self


class OperationalLimits(BaseModel):
    """Timeouts, retry and backpressure of one source."""

    model_config = _FROZEN

    connect_timeout_ms: int = Field(gt=0)
    read_timeout_ms: int = Field(gt=0)
    retry: RetryPolicy
    backpressure: BackpressureConfig


class SourceConfig(BaseModel):
    """One market-data source of the generic multi-source contract."""

    model_config = _FROZEN

    source_id: str = Field(min_length=1)
    symbol_map: dict[str, str] = Field(min_length=1)
    channels: list[str] = Field(min_length=1)
    transport: dict[str, object] | None = None
    limits: OperationalLimits | None = None


class MarketDataConfig(BaseModel):
    """The generic multi-source contract: at least one source, unique source ids."""

    model_config = _FROZEN

    sources: list[SourceConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        ids = [s.source_id for s in self.sources]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate source_id")
        return self


class SymbolStreams(BaseModel):
    """Which Binance USD-M streams to take for one symbol."""

    model_config = _FROZEN

    symbol: str = Field(min_length=1, pattern=r"^[A-Z0-9]+$")
    streams: list[StreamKind] = Field(default_factory=lambda: list(DEFAULT_STREAMS))
    kline_interval: str = "3m"
    depth_speed: Literal["0ms", "100ms", "250ms", "500ms"] = "100ms"
    open_interest: bool = True
    # Fetch a REST order-book snapshot after every (re)connect (only with the depth stream).
    depth_snapshot: bool = False

    @field_validator("kline_interval")
    @classmethod
    def _known_interval(cls, value: str) -> str:
        from market_data.binance.streams import KLINE_INTERVAL_MS

        if value not in KLINE_INTERVAL_MS:
            raise ValueError(f"unknown kline interval {value!r}")
        return value

    def stream_names(self) -> list[str]:
        """Combined-stream names of this symbol, e.g. `btcusdt@aggTrade`."""
        low = self.symbol.lower()
        names: list[str] = []
        for kind in self.streams:
            if kind == "kline":
                names.append(f"{low}@kline_{self.kline_interval}")
            elif kind == "depth":
                names.append(f"{low}@depth@{self.depth_speed}")
            elif kind == "markPrice":
                names.append(f"{low}@markPrice@1s")
            else:
                names.append(f"{low}@{kind}")
        return names


class BinanceFeedConfig(BaseModel):
    """The Binance USD-M adapter: symbols, endpoints, timeouts, retry and backpressure reaction."""

    model_config = _FROZEN

    source_id: str = "binance"
    symbols: list[SymbolStreams] = Field(
        default_factory=lambda: [SymbolStreams(symbol="BTCUSDT")], min_length=1
    )
    ws_base_url: str = "wss://fstream.binance.com"
    rest_base_url: str = "https://fapi.binance.com"
    connect_timeout_ms: int = Field(default=10_000, gt=0)
    # No frame for this long means the connection is dead (watchdog).
    read_timeout_ms: int = Field(default=30_000, gt=0)
    # Reconnect before Binance's scheduled 24 h cut so the switch happens on our terms.
    max_connection_age_ms: int = Field(default=23 * 3600 * 1000, gt=0)
    # A connection that lived this long resets the backoff: the next outage starts from min_delay.
    healthy_after_ms: int = Field(default=10_000, ge=0)
    retry: RetryPolicy = RetryPolicy(
        min_delay_ms=250, max_delay_ms=30_000, max_attempts=1_000_000, jitter=0.2
    )
    oi_poll_interval_ms: int = Field(default=10_000, gt=0)
    oi_poll_jitter_ms: int = Field(default=500, ge=0)
    request_timeout_ms: int = Field(default=10_000, gt=0)
    # Drop configured symbols that exchangeInfo says are not USDT perpetuals in TRADING status.
    check_universe: bool = True
    on_backpressure: OnBackpressure = "pause"
    backpressure_pause_ms: int = Field(default=200, gt=0)

    @model_validator(mode="after")
    def _unique_symbols(self) -> Self:
        names = [s.symbol for s in self.symbols]
        if len(names) != len(set(names)):
            raise ValueError("duplicate symbol")
        return self

    def stream_names(self) -> list[str]:
        """All combined-stream names across the configured symbols."""
        return [name for s in self.symbols for name in s.stream_names()]

    def combined_url(self) -> str:
        """The combined-stream websocket URL for every configured stream."""
        return f"{self.ws_base_url.rstrip('/')}/stream?streams={'/'.join(self.stream_names())}"
