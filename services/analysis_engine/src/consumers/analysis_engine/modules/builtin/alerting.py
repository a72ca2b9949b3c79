"""The pure alert decision both output modules share: what is worth telling someone, and how urgently."""

from __future__ import annotations

from typing import Any, Final, Literal

from consumers.analysis_engine.contracts import JsonValue, RunContext
from consumers.analysis_engine.modules.base import Dependencies
from consumers.analysis_engine.modules.builtin.assessment import ASSESSMENT_ID
from consumers.analysis_engine.modules.builtin.detectors import CASCADE_ID, CROWDING_ID, TRANSITION_ID, dep
from pydantic import BaseModel, ConfigDict

SEVERITIES: Final = ("info", "warning", "critical")
ALERT_DEPENDENCIES: Final = (
    (ASSESSMENT_ID, "assessment"),
    (TRANSITION_ID, "transition"),
    (CROWDING_ID, "crowding"),
    (CASCADE_ID, "cascade"),
)
Severity = Literal["info", "warning", "critical"]


class AlertPolicy(BaseModel):
    """Which alerts an output forwards."""

    model_config = ConfigDict(extra="forbid")
    min_severity: Severity = "info"


def decide_alert(
    context: RunContext, dependencies: Dependencies, state: JsonValue | None, min_severity: str
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(alert or None, new state). Triggers, each once per episode:

    - `liquidation_cascade` (critical): a cascade starts (streak 1);
    - `regime_transition` (warning): the committed regime changed;
    - `crowding` (warning): crowding detected where it was not in the previous run;
    - `stance_changed` (info): the assessment's stance/bias differ from the last run's.
    State: {stance_key, crowding}. An alert is emitted when its highest severity >= min_severity.
    """
    assessment = dep(dependencies, ASSESSMENT_ID, "assessment")
    transition = dep(dependencies, TRANSITION_ID, "transition")
    crowding = dep(dependencies, CROWDING_ID, "crowding")
    cascade = dep(dependencies, CASCADE_ID, "cascade")
    previous = state if isinstance(state, dict) else {}
    stance_key = f"{assessment['stance']}/{assessment['bias']}"
    triggers: list[tuple[str, str, str]] = []
    if cascade["detected"] and cascade["new"]:
        triggers.append(("critical", "liquidation_cascade", f"liquidation cascade {cascade['direction']}"))
    if transition["detected"]:
        triggers.append(
            (
                "warning",
                "regime_transition",
                f"regime {transition['from_regime']} -> {transition['to_regime']}",
            )
        )
    if crowding["detected"] and not previous.get("crowding", False):
        triggers.append(
            (
                "warning",
                "crowding",
                f"crowded {crowding['crowded_side']}s (squeeze {crowding['squeeze_direction']})",
            )
        )
    if "stance_key" in previous and previous["stance_key"] != stance_key:
        triggers.append(("info", "stance_changed", f"stance {previous['stance_key']} -> {stance_key}"))
    new_state = {"stance_key": stance_key, "crowding": bool(crowding["detected"])}
    if not triggers:
        return None, new_state
    severity = max((t[0] for t in triggers), key=SEVERITIES.index)
    if SEVERITIES.index(severity) < SEVERITIES.index(min_severity):
        return None, new_state
    alert = {
        "alert_id": f"{context.symbol}:{context.run_id}",
        "symbol": context.symbol,
        "run_id": context.run_id,
        "engine_timestamp_ms": context.engine_timestamp_ms,
        "severity": severity,
        "triggers": [t[1] for t in triggers],
        "title": f"{context.symbol} {severity}: " + "; ".join(t[2] for t in triggers),
        "message": assessment["summary"],
        "assessment": {
            k: assessment[k] for k in ("regime", "confidence", "stance", "bias", "invalidation", "cautions")
        },
    }
    return alert, new_state
