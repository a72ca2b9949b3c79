"""The analysis_engine contracts: wire types from xray_contracts plus the in-process module registry types.

Wire contracts (`AnalysisEngineEvent`, payloads, `AnalysisModuleStateRecord`, `AnalysisRunLedger`) live in
`xray_contracts.analysis_engine` and are re-exported here. `ModuleDefinition`, `ModuleDependency`,
`ArtifactSchema` and `RunContext` never travel on Kafka: they describe modules inside one process.
"""

from __future__ import annotations

from dataclasses import dataclass

from xray_contracts.analysis_engine import (
    ARTIFACT_KINDS,
    EVENT_TYPES,
    MODULE_ERROR_KINDS,
    MODULE_KINDS,
    RUN_STATUSES,
    SCHEMA,
    SCHEMA_VERSION,
    SKIP_REASONS,
    STAGE_ARTIFACT_KIND,
    AnalysisEngineEvent,
    AnalysisEnginePayload,
    AnalysisModuleStateRecord,
    AnalysisRunLedger,
    ArtifactEmittedPayload,
    ArtifactKind,
    EventType,
    JsonValue,
    ModuleErrorKind,
    ModuleFailedPayload,
    ModuleKind,
    RunStatus,
    RunStatusPayload,
    SkipReason,
    canonical_json,
    idempotency_key,
    module_state_key,
)
from xray_contracts.orchestrator_event import HysteresisState, RegimeOutput

__all__ = [
    "ARTIFACT_KINDS",
    "EVENT_TYPES",
    "MODULE_ERROR_KINDS",
    "MODULE_KINDS",
    "RUN_STATUSES",
    "SCHEMA",
    "SCHEMA_VERSION",
    "SKIP_REASONS",
    "STAGE_ARTIFACT_KIND",
    "AnalysisEngineEvent",
    "AnalysisEnginePayload",
    "AnalysisModuleStateRecord",
    "AnalysisRunLedger",
    "ArtifactEmittedPayload",
    "ArtifactKind",
    "ArtifactSchema",
    "EventType",
    "JsonValue",
    "ModuleDefinition",
    "ModuleDependency",
    "ModuleErrorKind",
    "ModuleFailedPayload",
    "ModuleKind",
    "RunContext",
    "RunStatus",
    "RunStatusPayload",
    "SkipReason",
    "canonical_json",
    "idempotency_key",
    "module_state_key",
]


@dataclass(frozen=True, slots=True)
class ModuleDependency:
    """A dependency on one named artifact of one module."""

    module_id: str
    artifact_name: str

    @property
    def key(self) -> str:
        """`"{module_id}:{artifact_name}"`: the key of this dependency in a module's input map."""
        return f"{self.module_id}:{self.artifact_name}"


@dataclass(frozen=True, slots=True)
class ArtifactSchema:
    """One artifact a module may emit, with its module-owned schema id and version."""

    artifact_name: str
    artifact_schema: str
    artifact_schema_version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ModuleDefinition:
    """Static description of a module: identity, kind (stage), dependencies, artifacts, config, state."""

    module_id: str
    module_kind: str
    module_version: str
    dependencies: tuple[ModuleDependency, ...]
    artifact_schemas: tuple[ArtifactSchema, ...]
    config_schema_id: str
    config_schema_version: str
    enabled_by_default: bool = False
    state_schema_id: str | None = None
    state_schema_version: str | None = None

    def __post_init__(self) -> None:
        """Reject empty ids, unknown kinds and duplicate artifact names."""
        if not self.module_id:
            raise ValueError("module_id must not be empty")
        if self.module_kind not in MODULE_KINDS:
            raise ValueError(f"unknown module_kind for {self.module_id}: {self.module_kind}")
        names = [a.artifact_name for a in self.artifact_schemas]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate artifact_name in {self.module_id}")

    @property
    def is_stateful(self) -> bool:
        """True when the module keeps state between runs."""
        return self.state_schema_id is not None

    @property
    def dependency_module_ids(self) -> tuple[str, ...]:
        """Distinct module ids this module depends on, sorted."""
        return tuple(sorted({d.module_id for d in self.dependencies}))


@dataclass(frozen=True, slots=True, kw_only=True)
class RunContext:
    """Everything a module sees about the run besides its dependencies, state and config (immutable)."""

    symbol: str
    run_id: str
    engine_timestamp_ms: int
    engine_mode: str | None
    gate_status: str
    gate_reasons: tuple[str, ...]
    regime_output: RegimeOutput | None
    hysteresis_state: HysteresisState | None
