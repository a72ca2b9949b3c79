"""Service settings: the runtime's ServiceSettings plus the orchestrator, composer and hysteresis sections.

Environment examples: `XRAY_ORCHESTRATOR__ENGINE__ENGINE_MODE=truth`,
`XRAY_ORCHESTRATOR__SCHEDULER__BOUNDARY_INTERVAL_MS=60000`, `XRAY_HYSTERESIS__WINDOW_UPDATES=4`,
`XRAY_COMPOSER__ATR_WINDOW=21`.
"""

from __future__ import annotations

from typing import Final

from composer.config import ComposerConfig
from pydantic import Field, model_validator
from regime_engine.hysteresis import HysteresisConfig
from xray_runtime.config import ServiceSettings, librdkafka_key

from orchestrator.config import OrchestratorConfig
from orchestrator.runs import RunSettings

SERVICE: Final = "orchestrator"
# librdkafka prefetches up to 100,000 messages per partition: an orchestrator behind a full-speed replay
# held hundreds of MB of fetched records (peak RSS 332 MB with 50 symbols, 243 MB with these bounds). Its
# throughput is bounded by composer + engine CPU, not by fetching, so a smaller read-ahead costs it
# nothing. Not a runtime default: pass-through services lose throughput with it (EOS 0.49 -> 0.29).
CONSUMER_PREFETCH: Final = {"queued.min.messages": 20_000, "queued.max.messages.kbytes": 16_384}
# One consume batch is one transaction and every record of it is a Python Message at once: behind a
# full-speed replay the runtime's 50,000 made the batch the largest thing in memory (peak RSS 222 MB with
# 50 symbols; 151 MB at 5,000, same wall time: a transaction's fixed cost is small against 5,000 records).
BATCH_MAX_RECORDS: Final = 5_000


class OrchestratorSettings(ServiceSettings):
    """Runtime settings plus `orchestrator`, `composer` and `hysteresis`.

    The composer's lookback is `orchestrator.buffer_retention.history_ms` (one knob for the history the
    orchestrator keeps and the composer reads).
    """

    orchestrator: OrchestratorConfig = Field(default_factory=OrchestratorConfig)
    composer: ComposerConfig = Field(default_factory=ComposerConfig)
    hysteresis: HysteresisConfig = Field(default_factory=HysteresisConfig)

    @model_validator(mode="after")
    def _bounded_prefetch(self) -> OrchestratorSettings:
        """The prefetch bounds, unless the operator set them (XRAY_KAFKA__CONSUMER__QUEUED_MIN_MESSAGES)."""
        given = {librdkafka_key(k) for k in self.kafka.consumer}
        for key, value in CONSUMER_PREFETCH.items():
            if key not in given:
                self.kafka.consumer[key] = value
        return self

    @model_validator(mode="after")
    def _bounded_batch(self) -> OrchestratorSettings:
        """The smaller batch, unless the operator set one (XRAY_PROCESSING__BATCH_MAX_RECORDS)."""
        if "batch_max_records" not in self.processing.model_fields_set:
            self.processing.batch_max_records = BATCH_MAX_RECORDS
        return self

    @model_validator(mode="after")
    def _event_time_boundaries(self) -> OrchestratorSettings:
        if self.orchestrator.scheduler.mode != "boundary":
            raise ValueError("orchestrator.scheduler.mode: the service cuts on event-time boundaries only")
        return self

    def run_settings(self) -> RunSettings:
        """What every boundary's runs share."""
        composer = self.composer.model_copy(
            update={"lookback_ms": self.orchestrator.buffer_retention.history_ms}
        )
        return RunSettings(
            engine_mode=self.orchestrator.engine.engine_mode,
            composer=composer,
            hysteresis=self.hysteresis,
            engine_retry=self.orchestrator.engine_retry,
        )
