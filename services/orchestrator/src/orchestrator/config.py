"""The orchestrator's configuration contract (fact sheet §2.10, adapted to Kafka), validated at start."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orchestrator.retry import RetryPolicy

EngineMode = Literal["truth", "hysteresis"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceConfig(_Frozen):
    """A source and the symbols expected from it (symbols seen on the topic run as well)."""

    source_id: str = Field(min_length=1)
    symbols: tuple[str, ...] = Field(min_length=1)


class SchedulerConfig(_Frozen):
    """Event-time boundary cadence; the grace delay only applies to live closes at the log end.

    Live close: a quiet partition's open boundary P also closes once the wall clock passes
    P + boundary_delay_ms while the consumer is at the log end, but only when the partition's newest
    `recv_ts_ms` is within `live_close_max_lag_ms` of the wall clock (a live feed). A replay of older
    data never qualifies, so its cuts depend on the log alone.
    """

    mode: Literal["boundary", "timer"] = "boundary"
    boundary_interval_ms: int = Field(default=180_000, gt=0)
    boundary_delay_ms: int = Field(default=2_000, ge=0)
    live_close: bool = True
    live_close_max_lag_ms: int = Field(default=600_000, gt=0)
    timer_interval_ms: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _timer_needs_interval(self) -> SchedulerConfig:
        if self.mode == "timer" and self.timer_interval_ms is None:
            raise ValueError("timer mode needs timer_interval_ms")
        return self


class EngineConfig(_Frozen):
    """Which engine API runs: truth (`run`) or hysteresis (`run_with_hysteresis`, the default)."""

    engine_mode: EngineMode = "hysteresis"


class BufferRetentionConfig(_Frozen):
    """Bounds on un-cut records held in memory per instance, and the composer's lookback."""

    max_records: int = Field(default=2_000_000, gt=0)
    max_age_ms: int | None = Field(default=None, gt=0)
    history_ms: int = Field(default=12_600_000, gt=0)


class OutputPublishConfig(_Frozen):
    """Output backpressure: pause scheduling beyond these, never drop."""

    max_pending: int = Field(default=100_000, gt=0)
    max_block_ms: int | None = Field(default=30_000, gt=0)


def _default_retry() -> RetryPolicy:
    return RetryPolicy(min_delay_ms=100, max_delay_ms=2_000, max_attempts=3)


class OrchestratorConfig(_Frozen):
    """Everything the orchestrator's core needs; Kafka settings live in the service settings."""

    sources: tuple[SourceConfig, ...] = ()
    scheduler: SchedulerConfig = SchedulerConfig()
    engine: EngineConfig = EngineConfig()
    ingestion_retry: RetryPolicy = Field(default_factory=_default_retry)
    buffer_retry: RetryPolicy = Field(default_factory=_default_retry)
    engine_retry: RetryPolicy = Field(
        default_factory=lambda: RetryPolicy(min_delay_ms=1, max_delay_ms=1, max_attempts=2)
    )
    publish_retry: RetryPolicy = Field(default_factory=_default_retry)
    buffer_retention: BufferRetentionConfig = BufferRetentionConfig()
    output_publish: OutputPublishConfig = OutputPublishConfig()

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, sources: tuple[SourceConfig, ...]) -> tuple[SourceConfig, ...]:
        ids = [s.source_id for s in sources]
        if len(ids) != len(set(ids)):
            raise ValueError("source_id values must be unique")
        return sources

    def configured_symbols(self) -> tuple[str, ...]:
        """Every configured symbol, sorted, without duplicates."""
        return tuple(sorted({sym for source in self.sources for sym in source.symbols}))
