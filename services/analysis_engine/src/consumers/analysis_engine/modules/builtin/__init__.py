"""The built-in modules (each registered under the `xray.analysis_modules` entry-point group)."""

from consumers.analysis_engine.modules.base import AnalysisModule
from consumers.analysis_engine.modules.builtin.assessment import ASSESSMENT_ID, AssessmentRule
from consumers.analysis_engine.modules.builtin.detectors import (
    CASCADE_ID,
    CROWDING_ID,
    TRANSITION_ID,
    CrowdingDetector,
    LiquidationCascadeDetector,
    RegimeTransitionDetector,
)
from consumers.analysis_engine.modules.builtin.outputs import (
    ALERTS_ID,
    ALERTS_TOPIC,
    WEBHOOK_ID,
    AlertsOutput,
    WebhookOutput,
)
from consumers.analysis_engine.modules.builtin.signals import MODULE_ID as SIGNALS_ID
from consumers.analysis_engine.modules.builtin.signals import RegimeSignals

__all__ = [
    "ALERTS_ID",
    "ALERTS_TOPIC",
    "ASSESSMENT_ID",
    "CASCADE_ID",
    "CROWDING_ID",
    "SIGNALS_ID",
    "TRANSITION_ID",
    "WEBHOOK_ID",
    "AlertsOutput",
    "AssessmentRule",
    "CrowdingDetector",
    "LiquidationCascadeDetector",
    "RegimeSignals",
    "RegimeTransitionDetector",
    "WebhookOutput",
    "builtin_modules",
]


def builtin_modules() -> list[AnalysisModule]:
    """A fresh instance of every built-in module."""
    return [
        RegimeSignals(),
        RegimeTransitionDetector(),
        CrowdingDetector(),
        LiquidationCascadeDetector(),
        AssessmentRule(),
        AlertsOutput(),
        WebhookOutput(),
    ]
