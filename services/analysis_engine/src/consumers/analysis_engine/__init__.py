"""analysis_engine: runs pluggable analysis modules over OPEN state_gate decisions.

Public API (seed): AnalysisEngine, AnalysisEngineConfig, ModuleConfig, SymbolConfig, validate_config,
ModuleRegistry; module helpers in `consumers.analysis_engine.modules`; contracts in
`consumers.analysis_engine.contracts`.
"""

from consumers.analysis_engine.config import (
    AnalysisEngineConfig,
    ConfigError,
    ModuleConfig,
    SymbolConfig,
    ValidatedConfig,
    validate_config,
)
from consumers.analysis_engine.engine import AnalysisEngine, InMemoryState, RunOutcome, StateView
from consumers.analysis_engine.observability import EngineMetrics, HealthStatus
from consumers.analysis_engine.registry import (
    ExecutionPlan,
    ModuleRegistry,
    PlanStep,
    RegistryError,
    build_plan,
)

__all__ = [
    "AnalysisEngine",
    "AnalysisEngineConfig",
    "ConfigError",
    "EngineMetrics",
    "ExecutionPlan",
    "HealthStatus",
    "InMemoryState",
    "ModuleConfig",
    "ModuleRegistry",
    "PlanStep",
    "RegistryError",
    "RunOutcome",
    "StateView",
    "SymbolConfig",
    "ValidatedConfig",
    "build_plan",
    "validate_config",
]
