"""Built-in detectors: regime transition, funding/OI crowding, liquidation cascade.

Every detector emits its artifact on every run (`detected` true or false), so rules depending on it never
fail for lack of input when nothing happened.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from consumers.analysis_engine.contracts import JsonValue, RunContext
from consumers.analysis_engine.modules.base import (
    Dependencies,
    DetectorModule,
    ModuleResult,
    ModuleSettings,
    module_definition,
)
from consumers.analysis_engine.modules.builtin.regimes import LIQUIDATION_REGIMES, SQUEEZE_REGIMES
from consumers.analysis_engine.modules.builtin.signals import MODULE_ID as SIGNALS
from pydantic import BaseModel, ConfigDict, Field

TRANSITION_ID = "detector.regime_transition"
CROWDING_ID = "detector.crowding"
CASCADE_ID = "detector.liquidation_cascade"


def dep(dependencies: Dependencies, module_id: str, artifact_name: str) -> dict[str, Any]:
    """The decoded payload of one declared dependency."""
    payload = dependencies[f"{module_id}:{artifact_name}"].payload
    if not isinstance(payload, dict):
        raise TypeError(f"{module_id}:{artifact_name} payload is not an object")
    return payload


class TransitionConfig(BaseModel):
    """Which label to follow: the committed (hysteresis anchor) regime, or the raw truth regime."""

    model_config = ConfigDict(extra="forbid")
    track: Literal["committed", "truth"] = "committed"


class RegimeTransitionDetector(DetectorModule):
    """Fires when the tracked regime differs from the one remembered from the symbol's previous run.

    State: {regime, since_ms, since_run_id}. The first run after start or a StateReset only records the
    regime (kind `initial`, not detected). Artifact `transition`: detected, kind (`initial` | `committed` |
    `none`), from/to regime, how long the previous regime held (ms), and the pending hysteresis candidate.
    """

    config_model: ClassVar[type[BaseModel] | None] = TransitionConfig

    def __init__(self) -> None:
        """Definition: stateful, enabled by default."""
        super().__init__(
            module_definition(
                module_id=TRANSITION_ID,
                module_kind="detector",
                module_version="1.0.0",
                dependencies=[(SIGNALS, "regime")],
                artifact_schemas=[("transition", "xray.detection.regime_transition", "1")],
                enabled_by_default=True,
                state_schema_id="xray.state.regime_transition",
                state_schema_version="1",
            )
        )

    def execute(
        self, context: RunContext, dependencies: Dependencies, state: JsonValue | None, config: ModuleSettings
    ) -> ModuleResult:
        """Compare the tracked regime with the remembered one."""
        regime = dep(dependencies, SIGNALS, "regime")
        current = (
            regime["committed_regime"]
            if config.get("track", "committed") == "committed"
            else regime["regime"]
        )
        previous = state if isinstance(state, dict) else None
        now = context.engine_timestamp_ms
        if previous is None:
            kind, detected, since_ms, since_run = "initial", False, now, context.run_id
        elif previous["regime"] != current:
            kind, detected, since_ms, since_run = "committed", True, now, context.run_id
        else:
            kind, detected, since_ms, since_run = (
                "none",
                False,
                previous["since_ms"],
                previous["since_run_id"],
            )
        payload = {
            "detected": detected,
            "kind": kind,
            "from_regime": previous["regime"] if previous is not None else None,
            "to_regime": current,
            "previous_held_ms": now - previous["since_ms"] if detected and previous is not None else None,
            "regime_since_ms": since_ms,
            "pending_candidate": regime.get("candidate_regime"),
            "pending_progress": regime.get("progress_current"),
            "pending_required": regime.get("progress_required"),
        }
        new_state = {"regime": current, "since_ms": since_ms, "since_run_id": since_run}
        return ModuleResult(artifacts=(self.artifact("transition", payload),), state_payload=new_state)


class CrowdingConfig(BaseModel):
    """Thresholds of the crowding detector."""

    model_config = ConfigDict(extra="forbid")
    # Belief mass on SQUEEZE_UP + SQUEEZE_DOWN at or above which positioning counts as crowded.
    min_squeeze_mass: float = Field(default=0.5, ge=0.0, le=1.0)
    # Minimum share of |driver contribution| from funding/OI drivers (0 = do not require it).
    min_positioning_share: float = Field(default=0.0, ge=0.0, le=1.0)


class CrowdingDetector(DetectorModule):
    """Funding / open-interest crowding: one side of the market is over-positioned and being squeezed.

    Score = belief mass on SQUEEZE_UP + SQUEEZE_DOWN. Detected when score >= min_squeeze_mass and the
    funding/OI share of the decision's driver contributions >= min_positioning_share. The crowded side is
    the side being squeezed: SQUEEZE_UP mass dominant => shorts crowded; SQUEEZE_DOWN => longs crowded.
    Funding / open-interest invalidation conditions of the regime output are passed along as the levels
    that would end the squeeze.
    """

    config_model: ClassVar[type[BaseModel] | None] = CrowdingConfig

    def __init__(self) -> None:
        """Definition: stateless, enabled by default."""
        super().__init__(
            module_definition(
                module_id=CROWDING_ID,
                module_kind="detector",
                module_version="1.0.0",
                dependencies=[(SIGNALS, "belief"), (SIGNALS, "drivers")],
                artifact_schemas=[("crowding", "xray.detection.crowding", "1")],
                enabled_by_default=True,
            )
        )

    def execute(
        self, context: RunContext, dependencies: Dependencies, state: JsonValue | None, config: ModuleSettings
    ) -> ModuleResult:
        """Score squeeze belief and positioning drivers."""
        belief = dep(dependencies, SIGNALS, "belief")["belief_by_regime"]
        drivers = dep(dependencies, SIGNALS, "drivers")
        up, down = (float(belief[r]) for r in SQUEEZE_REGIMES)
        score = up + down
        share = float(drivers["positioning_share"])
        detected = score >= float(config["min_squeeze_mass"]) and share >= float(
            config["min_positioning_share"]
        )
        side = "short" if up >= down else "long"
        levels = [c for c in drivers["invalidation_conditions"] if c["kind"] in ("funding", "open_interest")]
        payload = {
            "detected": detected,
            "score": round(score, 6),
            "crowded_side": side if detected else None,
            "squeeze_direction": ("up" if up >= down else "down") if detected else None,
            "positioning_share": share,
            "positioning_drivers": drivers["positioning_drivers"],
            "unwind_conditions": levels,
        }
        return ModuleResult(artifacts=(self.artifact("crowding", payload),))


class CascadeConfig(BaseModel):
    """Thresholds of the liquidation-cascade detector."""

    model_config = ConfigDict(extra="forbid")
    # Belief mass on LIQUIDATION_UP + LIQUIDATION_DOWN at or above which a cascade is under way.
    min_liquidation_mass: float = Field(default=0.5, ge=0.0, le=1.0)


class LiquidationCascadeDetector(DetectorModule):
    """Forced-liquidation cascade: belief mass on LIQUIDATION_UP/DOWN at or above the threshold.

    Direction = the larger of the two. Stateful: counts consecutive detecting runs in the same direction
    (`streak`), remembers when the cascade started and the previous mass, so the artifact says whether the
    cascade is new (streak 1) and whether it is escalating (mass rising).
    """

    config_model: ClassVar[type[BaseModel] | None] = CascadeConfig

    def __init__(self) -> None:
        """Definition: stateful, enabled by default."""
        super().__init__(
            module_definition(
                module_id=CASCADE_ID,
                module_kind="detector",
                module_version="1.0.0",
                dependencies=[(SIGNALS, "belief")],
                artifact_schemas=[("cascade", "xray.detection.liquidation_cascade", "1")],
                enabled_by_default=True,
                state_schema_id="xray.state.liquidation_cascade",
                state_schema_version="1",
            )
        )

    def execute(
        self, context: RunContext, dependencies: Dependencies, state: JsonValue | None, config: ModuleSettings
    ) -> ModuleResult:
        """Score liquidation belief and track the streak."""
        belief = dep(dependencies, SIGNALS, "belief")["belief_by_regime"]
        up, down = (float(belief[r]) for r in LIQUIDATION_REGIMES)
        mass = up + down
        direction = "up" if up >= down else "down"
        detected = mass >= float(config["min_liquidation_mass"])
        previous: dict[str, Any] = (
            state if isinstance(state, dict) else {"streak": 0, "direction": None, "mass": 0.0}
        )
        continuing = detected and previous["streak"] > 0 and previous["direction"] == direction
        streak = previous["streak"] + 1 if continuing else (1 if detected else 0)
        started = (
            previous.get("started_ms") if continuing else (context.engine_timestamp_ms if detected else None)
        )
        payload = {
            "detected": detected,
            "direction": direction if detected else None,
            "mass": round(mass, 6),
            "streak": streak,
            "new": detected and streak == 1,
            "escalating": continuing and mass > float(previous["mass"]),
            "started_ms": started,
        }
        new_state = {
            "streak": streak,
            "direction": direction if detected else None,
            "mass": round(mass, 6),
            "started_ms": started,
        }
        return ModuleResult(artifacts=(self.artifact("cascade", payload),), state_payload=new_state)
