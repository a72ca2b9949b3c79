"""The module interface: base classes per kind, ModuleResult, and helpers to build definitions/artifacts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from consumers.analysis_engine.contracts import (
    STAGE_ARTIFACT_KIND,
    ArtifactEmittedPayload,
    ArtifactSchema,
    JsonValue,
    ModuleDefinition,
    ModuleDependency,
    ModuleKind,
    RunContext,
    canonical_json,
)
from pydantic import BaseModel, ValidationError

# Dependencies as a module sees them: "{module_id}:{artifact_name}" -> the producer's artifact.
Dependencies = Mapping[str, ArtifactEmittedPayload]
# A module's validated config blob (read-only mapping; {} when none was given).
ModuleSettings = Mapping[str, Any]


class ModuleConfigError(ValueError):
    """A module's config blob does not match the module's config schema."""


@dataclass(frozen=True, slots=True)
class ModuleResult:
    """What one execution returns: artifacts (any order) and the new state (None keeps no record)."""

    artifacts: tuple[ArtifactEmittedPayload, ...] = ()
    state_payload: JsonValue | None = None


class AnalysisModule:
    """Base of every module. Subclasses set `kind`, pass a definition and implement `execute`.

    Signals, detectors and rules must be deterministic and side-effect free (no I/O, no clock, no
    randomness). `config_model` (optional pydantic model) validates the module's config blob at startup;
    the validated, defaults-filled blob reaches `execute` as `config`.
    """

    kind: ClassVar[str] = ""
    config_model: ClassVar[type[BaseModel] | None] = None

    def __init__(self, definition: ModuleDefinition) -> None:
        """Bind the definition; its module_kind must match the class kind."""
        if self.kind and definition.module_kind != self.kind:
            raise ValueError(
                f"module {definition.module_id} has kind {definition.module_kind}, expected {self.kind}"
            )
        self._definition = definition

    @property
    def definition(self) -> ModuleDefinition:
        """This module's immutable definition."""
        return self._definition

    def validate_config(self, raw: Mapping[str, Any] | None) -> ModuleSettings:
        """Validate a config blob against `config_model` (unknown keys rejected there); return it filled."""
        if self.config_model is None:
            return dict(raw or {})
        try:
            return self.config_model.model_validate(dict(raw or {})).model_dump(mode="json")
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "<root>"
            raise ModuleConfigError(
                f"invalid module_config for {self.definition.module_id}: {where}: {first['msg']}"
            ) from exc

    def execute(
        self,
        context: RunContext,
        dependencies: Dependencies,
        state: JsonValue | None,
        config: ModuleSettings,
    ) -> ModuleResult:
        """Compute this module's artifacts (and new state) for one run."""
        raise NotImplementedError

    def artifact(self, artifact_name: str, payload: JsonValue) -> ArtifactEmittedPayload:
        """Build an artifact of this module: identity and schema from the definition, canonical payload."""
        for schema in self._definition.artifact_schemas:
            if schema.artifact_name == artifact_name:
                return ArtifactEmittedPayload(
                    artifact_kind=str(STAGE_ARTIFACT_KIND[self._definition.module_kind]),
                    module_id=self._definition.module_id,
                    artifact_name=artifact_name,
                    artifact_schema=schema.artifact_schema,
                    artifact_schema_version=schema.artifact_schema_version,
                    payload_json=canonical_json(payload),
                )
        raise ValueError(f"{self._definition.module_id} declares no artifact {artifact_name}")


class SignalModule(AnalysisModule):
    """Stage 1: turns the run context into `signal` artifacts."""

    kind = ModuleKind.SIGNAL


class DetectorModule(AnalysisModule):
    """Stage 2: detects conditions from signals; emits `detection` artifacts."""

    kind = ModuleKind.DETECTOR


class RuleModule(AnalysisModule):
    """Stage 3: evaluates detections into `evaluation` artifacts."""

    kind = ModuleKind.RULE


class OutputModule(AnalysisModule):
    """Stage 4: shapes `output` artifacts for delivery.

    `execute` stays pure like every other stage. Delivery happens in the service shell: if
    `output_topic` names a catalogue topic, each artifact's ArtifactEmitted event is also written there
    inside the run's transaction; `deliver` does any external I/O (HTTP...) and can never change what was
    computed (its result is only logged and counted).
    """

    kind = ModuleKind.OUTPUT
    output_topic: ClassVar[str | None] = None

    def deliver(
        self, context: RunContext, artifact: ArtifactEmittedPayload, config: ModuleSettings, event_key: str
    ) -> bool:
        """Deliver one artifact externally; True when delivered (default: nothing to do)."""
        return True


def module_definition(
    *,
    module_id: str,
    module_kind: str,
    module_version: str,
    dependencies: Iterable[ModuleDependency | tuple[str, str]] = (),
    artifact_schemas: Iterable[ArtifactSchema | tuple[str, str, str]] = (),
    config_schema_id: str | None = None,
    config_schema_version: str = "1",
    enabled_by_default: bool = False,
    state_schema_id: str | None = None,
    state_schema_version: str | None = None,
) -> ModuleDefinition:
    """Build a ModuleDefinition from keyword arguments (tuples accepted for deps and artifact schemas)."""
    deps = tuple(d if isinstance(d, ModuleDependency) else ModuleDependency(*d) for d in dependencies)
    schemas = tuple(a if isinstance(a, ArtifactSchema) else ArtifactSchema(*a) for a in artifact_schemas)
    return ModuleDefinition(
        module_id=module_id,
        module_kind=module_kind,
        module_version=module_version,
        dependencies=deps,
        artifact_schemas=schemas,
        config_schema_id=config_schema_id if config_schema_id is not None else f"{module_id}.config",
        config_schema_version=config_schema_version,
        enabled_by_default=enabled_by_default,
        state_schema_id=state_schema_id,
        state_schema_version=state_schema_version,
    )


def order_artifact_schemas(schemas: Iterable[ArtifactSchema]) -> tuple[ArtifactSchema, ...]:
    """Artifact schemas sorted by artifact_name (the emission order within one module)."""
    return tuple(sorted(schemas, key=lambda s: s.artifact_name))
