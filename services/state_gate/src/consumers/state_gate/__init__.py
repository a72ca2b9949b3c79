"""state_gate: one explicit gate decision per engine run, with state that survives restarts."""

from consumers.state_gate.config import ConfigError, OperationLimits, StateGateConfig, validate_config
from consumers.state_gate.processor import HealthStatus, StateGateProcessor
from consumers.state_gate.store import StateGateStateStore

__all__ = [
    "ConfigError",
    "HealthStatus",
    "OperationLimits",
    "StateGateConfig",
    "StateGateProcessor",
    "StateGateStateStore",
    "validate_config",
]
