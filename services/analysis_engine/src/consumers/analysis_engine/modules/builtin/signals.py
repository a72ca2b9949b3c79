"""`signal.regime`: the gate payload as three signals — regime, belief and explanation."""

from __future__ import annotations

from typing import ClassVar

from consumers.analysis_engine.contracts import JsonValue, RunContext
from consumers.analysis_engine.modules.base import (
    Dependencies,
    ModuleResult,
    ModuleSettings,
    SignalModule,
    module_definition,
)
from consumers.analysis_engine.modules.builtin.regimes import (
    belief_summary,
    direction_of,
    is_positioning_driver,
    normalised_belief,
)
from pydantic import BaseModel, ConfigDict

MODULE_ID = "signal.regime"


class RegimeSignalsConfig(BaseModel):
    """No options yet; unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid")


class RegimeSignals(SignalModule):
    """Reads RegimeOutput / HysteresisState from the run context and emits:

    - `regime`: truth regime, committed regime (hysteresis anchor when present, else truth), confidence,
      direction, transition progress;
    - `belief`: the belief distribution (RegimeOutput.belief_by_regime, else the hysteresis debug belief,
      else one-hot on the regime) with top/runner-up/margin/entropy/up-down mass;
    - `drivers`: drivers, signed contributions, the share of |contribution| from funding/OI drivers,
      permissions, invalidations and machine-readable invalidation conditions.
    A run whose gate payload has neither part fails this module (and its dependents).
    """

    config_model: ClassVar[type[BaseModel] | None] = RegimeSignalsConfig

    def __init__(self) -> None:
        """Definition: stateless, enabled by default, three signal artifacts."""
        super().__init__(
            module_definition(
                module_id=MODULE_ID,
                module_kind="signal",
                module_version="1.0.0",
                artifact_schemas=[
                    ("belief", "xray.signal.belief", "1"),
                    ("drivers", "xray.signal.drivers", "1"),
                    ("regime", "xray.signal.regime", "1"),
                ],
                enabled_by_default=True,
            )
        )

    def execute(
        self, context: RunContext, dependencies: Dependencies, state: JsonValue | None, config: ModuleSettings
    ) -> ModuleResult:
        """Turn the gate payload into the three signals."""
        out = context.regime_output
        hyst = context.hysteresis_state
        if out is None and hyst is None:
            raise ValueError("gate payload carries no regime output")
        truth = out.regime if out is not None else hyst.anchor_regime  # type: ignore[union-attr]
        committed = hyst.anchor_regime if hyst is not None else truth
        if out is not None and out.belief_by_regime:
            source, raw = "regime_output", dict(out.belief_by_regime)
        elif hyst is not None and hyst.debug is not None and hyst.debug.belief_by_regime:
            source, raw = "hysteresis", dict(hyst.debug.belief_by_regime)
        else:
            source, raw = "label", {truth: 1.0}
        belief = normalised_belief(raw)
        confidence = out.confidence if out is not None else belief[committed]
        regime = {
            "regime": truth,
            "committed_regime": committed,
            "confidence": round(float(confidence), 6),
            "direction": direction_of(committed),
            "engine_mode": context.engine_mode,
            "candidate_regime": hyst.candidate_regime if hyst is not None else None,
            "progress_current": hyst.progress_current if hyst is not None else None,
            "progress_required": hyst.progress_required if hyst is not None else None,
            "last_commit_timestamp_ms": hyst.last_commit_timestamp_ms if hyst is not None else None,
            "in_transition": bool(hyst is not None and hyst.candidate_regime is not None),
        }
        contributions = list(out.driver_contributions or ()) if out is not None else []
        total = sum(abs(c.contribution) for c in contributions)
        positioning = sum(abs(c.contribution) for c in contributions if is_positioning_driver(c.driver))
        drivers = {
            "drivers": list(out.drivers) if out is not None else [],
            "driver_contributions": [
                {"driver": c.driver, "contribution": round(float(c.contribution), 6)} for c in contributions
            ],
            "positioning_share": round(positioning / total, 6) if total > 0 else 0.0,
            "positioning_drivers": sorted(
                {c.driver for c in contributions if is_positioning_driver(c.driver)}
                | {d for d in (out.drivers if out is not None else ()) if is_positioning_driver(d)}
            ),
            "permissions": list(out.permissions) if out is not None else [],
            "invalidations": list(out.invalidations) if out is not None else [],
            "invalidation_conditions": [
                {
                    "kind": c.kind,
                    "field": c.field,
                    "op": c.op,
                    "threshold": c.threshold,
                    "description": c.description,
                }
                for c in (out.invalidation_conditions or () if out is not None else ())
            ],
        }
        belief_payload = {
            "source": source,
            "belief_by_regime": {r: round(p, 6) for r, p in belief.items()},
            **belief_summary(belief),
        }
        return ModuleResult(
            artifacts=(
                self.artifact("regime", regime),
                self.artifact("belief", belief_payload),
                self.artifact("drivers", drivers),
            )
        )
