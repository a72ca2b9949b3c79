"""Service settings: the runtime's ServiceSettings plus the gate section (XRAY_GATE__*)."""

from __future__ import annotations

from typing import Final

from consumers.state_gate.config import Flag, Int, OperationLimits, StateGateConfig, config_problems
from pydantic import BaseModel, ConfigDict, Field, model_validator
from xray_runtime.config import ServiceSettings

SERVICE: Final = "state_gate"


class LimitsSection(BaseModel):
    """One OperationLimits block with the monolith's runtime defaults (max_pending 1000)."""

    model_config = ConfigDict(extra="forbid")

    max_pending: Int = 1000
    max_block_ms: Int | None = None
    max_failures: Int | None = None


class GateSection(BaseModel):
    """StateGateConfig with defaults, so single keys can be overridden from the environment."""

    model_config = ConfigDict(extra="forbid")

    max_gap_ms: Int = 180_000
    denylisted_invalidations: tuple[str, ...] = ()
    block_during_transition: Flag = False
    input_limits: LimitsSection = Field(default_factory=LimitsSection)
    persistence_limits: LimitsSection = Field(default_factory=LimitsSection)
    publish_limits: LimitsSection = Field(default_factory=LimitsSection)

    def to_config(self) -> StateGateConfig:
        """The validated-shape StateGateConfig the gate runs with."""
        return StateGateConfig(
            max_gap_ms=self.max_gap_ms,
            denylisted_invalidations=self.denylisted_invalidations,
            block_during_transition=self.block_during_transition,
            input_limits=OperationLimits(**self.input_limits.model_dump()),
            persistence_limits=OperationLimits(**self.persistence_limits.model_dump()),
            publish_limits=OperationLimits(**self.publish_limits.model_dump()),
        )

    @model_validator(mode="after")
    def _valid(self) -> GateSection:
        problems = config_problems(self.to_config())
        if problems:
            raise ValueError("; ".join(problems))
        return self


class StateGateSettings(ServiceSettings):
    """Runtime settings plus `gate`, e.g. XRAY_GATE__MAX_GAP_MS=360000."""

    gate: GateSection = Field(default_factory=GateSection)
