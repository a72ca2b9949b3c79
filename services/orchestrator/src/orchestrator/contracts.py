"""The orchestrator's contracts, re-exported from the shared contract library."""

from xray_contracts.hysteresis_record import HysteresisStoreRecord
from xray_contracts.orchestrator_event import (
    DriverContribution,
    HysteresisDebug,
    HysteresisState,
    InvalidationCondition,
    OrchestratorEvent,
    OrchestratorPayload,
    RegimeOutput,
)
from xray_contracts.run_log import EngineRunRecord

__all__ = [
    "DriverContribution",
    "EngineRunRecord",
    "HysteresisDebug",
    "HysteresisState",
    "HysteresisStoreRecord",
    "InvalidationCondition",
    "OrchestratorEvent",
    "OrchestratorPayload",
    "RegimeOutput",
]
