"""Module helpers: base classes per kind, ModuleResult, definition/artifact helpers, discovery."""

from consumers.analysis_engine.contracts import ArtifactSchema, ModuleDefinition, ModuleDependency, RunContext
from consumers.analysis_engine.modules.base import (
    AnalysisModule,
    Dependencies,
    DetectorModule,
    ModuleConfigError,
    ModuleResult,
    ModuleSettings,
    OutputModule,
    RuleModule,
    SignalModule,
    module_definition,
    order_artifact_schemas,
)

__all__ = [
    "AnalysisModule",
    "ArtifactSchema",
    "Dependencies",
    "DetectorModule",
    "ModuleConfigError",
    "ModuleDefinition",
    "ModuleDependency",
    "ModuleResult",
    "ModuleSettings",
    "OutputModule",
    "RuleModule",
    "RunContext",
    "SignalModule",
    "module_definition",
    "order_artifact_schemas",
]
