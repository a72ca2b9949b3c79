"""`rule.assessment`: one actionable assessment per symbol and run from the signals and detections."""

from __future__ import annotations

from typing import Any, ClassVar, Final

from consumers.analysis_engine.contracts import JsonValue, RunContext
from consumers.analysis_engine.modules.base import (
    Dependencies,
    ModuleResult,
    ModuleSettings,
    RuleModule,
    module_definition,
)
from consumers.analysis_engine.modules.builtin.detectors import CASCADE_ID, CROWDING_ID, TRANSITION_ID, dep
from consumers.analysis_engine.modules.builtin.signals import MODULE_ID as SIGNALS
from pydantic import BaseModel, ConfigDict, Field

ASSESSMENT_ID = "rule.assessment"

# committed regime -> (stance, bias, allowed behaviours, forbidden behaviours)
PLAYBOOK: Final[dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]]] = {
    "TREND_BUILD_UP": (
        "trend_continuation",
        "long",
        ("trend_following_long", "buy_pullbacks"),
        ("new_shorts", "fading_strength"),
    ),
    "TREND_BUILD_DOWN": (
        "trend_continuation",
        "short",
        ("trend_following_short", "sell_rallies"),
        ("new_longs", "fading_weakness"),
    ),
    "CHOP_BALANCED": ("mean_reversion", "both", ("range_fading", "mean_reversion"), ("breakout_chasing",)),
    "CHOP_STOPHUNT": (
        "fade_sweeps",
        "both",
        ("fade_range_sweeps",),
        ("breakout_chasing", "tight_stops_at_range_edges"),
    ),
    "SQUEEZE_UP": ("squeeze_continuation", "long", ("momentum_long_small_size",), ("new_shorts",)),
    "SQUEEZE_DOWN": ("squeeze_continuation", "short", ("momentum_short_small_size",), ("new_longs",)),
    "LIQUIDATION_UP": ("stand_aside", "none", ("reduce_exposure",), ("new_positions",)),
    "LIQUIDATION_DOWN": ("stand_aside", "none", ("reduce_exposure",), ("new_positions",)),
    "TREND_EXHAUSTION": (
        "reduce_exposure",
        "none",
        ("take_profit", "reduce_exposure"),
        ("new_trend_entries",),
    ),
}
STANCE_TEXT: Final[dict[str, str]] = {
    "trend_continuation": "trend continuation allowed",
    "mean_reversion": "mean reversion allowed",
    "fade_sweeps": "fading range sweeps allowed",
    "squeeze_continuation": "squeeze continuation allowed with reduced size",
    "stand_aside": "stand aside, no new positions",
    "reduce_exposure": "reduce exposure, no new trend entries",
}
BIAS_TEXT: Final[dict[str, str]] = {
    "long": "long only",
    "short": "short only",
    "both": "both sides",
    "none": "",
}
BELOW_OPS: Final = ("<", "<=")
ABOVE_OPS: Final = (">", ">=")


class AssessmentConfig(BaseModel):
    """Confidence floor under which the rule stands aside."""

    model_config = ConfigDict(extra="forbid")
    min_confidence: float = Field(default=0.35, ge=0.0, le=1.0)


def _fmt(value: float) -> str:
    """A level as text: up to 8 significant digits, no trailing zeros."""
    return f"{value:.8g}"


def invalidation_for(
    bias: str, conditions: list[dict[str, Any]], invalidations: list[str]
) -> dict[str, Any] | None:
    """The level that invalidates the view: nearest price level on the wrong side of the bias, else text."""
    levels = [c for c in conditions if c["kind"] == "level" and c["threshold"] is not None]
    if bias == "long":
        below = [c for c in levels if c["op"] in BELOW_OPS]
        if below:
            c = max(below, key=lambda x: (x["threshold"], x["field"]))
            return {
                "side": "below",
                "level": c["threshold"],
                "field": c["field"],
                "description": c["description"],
            }
    elif bias == "short":
        above = [c for c in levels if c["op"] in ABOVE_OPS]
        if above:
            c = min(above, key=lambda x: (x["threshold"], x["field"]))
            return {
                "side": "above",
                "level": c["threshold"],
                "field": c["field"],
                "description": c["description"],
            }
    if conditions:
        c = conditions[0]
        return {"side": None, "level": c["threshold"], "field": c["field"], "description": c["description"]}
    if invalidations:
        return {"side": None, "level": None, "field": None, "description": invalidations[0]}
    return None


class AssessmentRule(RuleModule):
    """Maps the committed regime to a playbook stance, then lets detections override it.

    - confidence < min_confidence => stand aside (reason `low_confidence`);
    - a detected liquidation cascade => stand aside, no new positions (reason `liquidation_cascade`);
    - crowding on the bias side => keep the stance, add caution `crowded_<side>s`;
    - a fresh transition => reason `regime_changed` (the stance is new).
    Invalidation: for a long bias the highest `level` condition with op < / <=, for a short bias the lowest
    with op > / >=; otherwise the first condition or invalidation text. The `summary` reads e.g.
    "TREND_BUILD_UP: trend continuation allowed, long only, invalidated below 99.5".
    """

    config_model: ClassVar[type[BaseModel] | None] = AssessmentConfig

    def __init__(self) -> None:
        """Definition: stateless, enabled by default."""
        super().__init__(
            module_definition(
                module_id=ASSESSMENT_ID,
                module_kind="rule",
                module_version="1.0.0",
                dependencies=[
                    (SIGNALS, "regime"),
                    (SIGNALS, "drivers"),
                    (TRANSITION_ID, "transition"),
                    (CROWDING_ID, "crowding"),
                    (CASCADE_ID, "cascade"),
                ],
                artifact_schemas=[("assessment", "xray.evaluation.assessment", "1")],
                enabled_by_default=True,
            )
        )

    def execute(
        self, context: RunContext, dependencies: Dependencies, state: JsonValue | None, config: ModuleSettings
    ) -> ModuleResult:
        """Build the assessment."""
        regime = dep(dependencies, SIGNALS, "regime")
        drivers = dep(dependencies, SIGNALS, "drivers")
        transition = dep(dependencies, TRANSITION_ID, "transition")
        crowding = dep(dependencies, CROWDING_ID, "crowding")
        cascade = dep(dependencies, CASCADE_ID, "cascade")
        committed = regime["committed_regime"]
        stance, bias, allowed, forbidden = PLAYBOOK.get(
            committed, ("stand_aside", "none", (), ("new_positions",))
        )
        reasons: list[str] = []
        cautions: list[str] = []
        if float(regime["confidence"]) < float(config["min_confidence"]):
            stance, bias, allowed, forbidden = "stand_aside", "none", ("reduce_exposure",), ("new_positions",)
            reasons.append("low_confidence")
        if cascade["detected"]:
            stance, bias, allowed, forbidden = "stand_aside", "none", ("reduce_exposure",), ("new_positions",)
            reasons.append("liquidation_cascade")
        if crowding["detected"] and crowding["crowded_side"] == bias:
            cautions.append(f"crowded_{bias}s")
        if transition["detected"]:
            reasons.append("regime_changed")
        invalidation = invalidation_for(bias, drivers["invalidation_conditions"], drivers["invalidations"])
        parts = [STANCE_TEXT[stance]]
        if BIAS_TEXT[bias]:
            parts.append(BIAS_TEXT[bias])
        if invalidation is not None and invalidation["side"] is not None:
            parts.append(f"invalidated {invalidation['side']} {_fmt(float(invalidation['level']))}")
        elif invalidation is not None:
            parts.append(f"invalidated if {invalidation['description']}")
        if cautions:
            parts.append("caution: " + ", ".join(c.replace("_", " ") for c in cautions))
        payload = {
            "symbol": context.symbol,
            "regime": committed,
            "confidence": regime["confidence"],
            "stance": stance,
            "bias": bias,
            "actionable": stance not in ("stand_aside",),
            "allowed": list(allowed),
            "forbidden": list(forbidden),
            "engine_permissions": drivers["permissions"],
            "invalidation": invalidation,
            "reasons": reasons,
            "cautions": cautions,
            "summary": f"{committed}: " + ", ".join(parts),
        }
        return ModuleResult(artifacts=(self.artifact("assessment", payload),))
