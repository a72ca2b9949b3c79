"""ModuleRegistry and execution plans: dependency validation, stage checks, deterministic ordering."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from consumers.analysis_engine.contracts import MODULE_KINDS, ArtifactSchema, ModuleDefinition
from consumers.analysis_engine.modules.base import AnalysisModule, order_artifact_schemas

__all__ = [
    "ExecutionPlan",
    "ModuleRegistry",
    "PlanError",
    "PlanStep",
    "RegistryError",
    "build_plan",
    "order_artifact_schemas",
]


class RegistryError(ValueError):
    """The set of modules is inconsistent (duplicate id, unknown/missing dependency, cycle)."""


class PlanError(RegistryError):
    """An execution plan cannot be built (later-stage dependency, cycle within a stage)."""


class ModuleRegistry:
    """All known modules, keyed and listed by module_id (input order irrelevant)."""

    def __init__(self, modules: Iterable[AnalysisModule]) -> None:
        """Register modules; a duplicate module_id is an error."""
        by_id: dict[str, AnalysisModule] = {}
        for module in modules:
            if not isinstance(module, AnalysisModule):
                raise RegistryError(f"not an AnalysisModule: {module!r}")
            module_id = module.definition.module_id
            if module_id in by_id:
                raise RegistryError(f"duplicate module_id: {module_id}")
            by_id[module_id] = module
        self._modules = dict(sorted(by_id.items()))

    def __contains__(self, module_id: object) -> bool:
        """True when a module with this id is registered."""
        return module_id in self._modules

    def module_ids(self) -> tuple[str, ...]:
        """Registered module ids, sorted."""
        return tuple(self._modules)

    def get(self, module_id: str) -> AnalysisModule:
        """The module with this id (KeyError if unknown)."""
        return self._modules[module_id]

    def modules(self) -> tuple[AnalysisModule, ...]:
        """Registered modules, sorted by module_id."""
        return tuple(self._modules.values())

    def definitions(self) -> tuple[ModuleDefinition, ...]:
        """Registered definitions, sorted by module_id."""
        return tuple(m.definition for m in self._modules.values())

    def enabled_definitions(self, enabled: Sequence[str] | None = None) -> tuple[ModuleDefinition, ...]:
        """Definitions of the given ids (sorted, deduplicated), or of the enabled-by-default modules."""
        if enabled is None:
            return tuple(d for d in self.definitions() if d.enabled_by_default)
        out = []
        for module_id in sorted(set(enabled)):
            if module_id not in self._modules:
                raise RegistryError(f"unknown module_id: {module_id}")
            out.append(self._modules[module_id].definition)
        return tuple(out)

    def validate_dependencies(self, enabled: Sequence[str] | None = None) -> None:
        """Every dependency must be enabled; no cycles (DFS over enabled modules in sorted order)."""
        validate_dependencies(self.enabled_definitions(enabled))


def validate_dependencies(definitions: Sequence[ModuleDefinition]) -> None:
    """Check that every dependency of the enabled set is itself enabled and that there is no cycle."""
    by_id = {d.module_id: d for d in definitions}
    for definition in definitions:
        for dep in definition.dependencies:
            if dep.module_id not in by_id:
                raise RegistryError(
                    f"missing dependency for {definition.module_id}: {dep.module_id}.{dep.artifact_name}"
                )
    done: set[str] = set()
    on_path: set[str] = set()

    def visit(module_id: str) -> None:
        """Depth-first walk along enabled dependencies; meeting the current path again is a cycle."""
        if module_id in done:
            return
        if module_id in on_path:
            raise RegistryError(f"dependency cycle detected at {module_id}")
        on_path.add(module_id)
        for dep_id in by_id[module_id].dependency_module_ids:
            visit(dep_id)
        on_path.discard(module_id)
        done.add(module_id)

    for module_id in sorted(by_id):
        visit(module_id)


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One module in a plan: id, kind, artifact schemas (sorted) and dependency module ids."""

    module_id: str
    module_kind: str
    artifact_schemas: tuple[ArtifactSchema, ...]
    dependencies: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ExecutionPlan:
    """Steps per stage, in the fixed stage order; every stage is present (possibly empty)."""

    stages: tuple[tuple[str, tuple[PlanStep, ...]], ...]

    def stage(self, kind: str) -> tuple[PlanStep, ...]:
        """The steps of one stage, in execution order."""
        for stage_kind, steps in self.stages:
            if stage_kind == kind:
                return steps
        raise KeyError(kind)

    def steps(self) -> tuple[PlanStep, ...]:
        """All steps in execution order."""
        return tuple(step for _, steps in self.stages for step in steps)

    def module_ids(self) -> tuple[str, ...]:
        """Module ids in execution order."""
        return tuple(step.module_id for step in self.steps())


def _stage_order(definitions: Sequence[ModuleDefinition]) -> list[ModuleDefinition]:
    """Topological order over intra-stage dependencies, smallest ready module_id first."""
    by_id = {d.module_id: d for d in definitions}
    pending = {d.module_id: {x for x in d.dependency_module_ids if x in by_id} for d in definitions}
    ready = [module_id for module_id, deps in pending.items() if not deps]
    heapq.heapify(ready)
    ordered: list[ModuleDefinition] = []
    while ready:
        module_id = heapq.heappop(ready)
        ordered.append(by_id[module_id])
        del pending[module_id]
        for other, deps in pending.items():
            if module_id in deps:
                deps.discard(module_id)
                if not deps:
                    heapq.heappush(ready, other)
    if pending:
        raise PlanError("cycle detected within stage")
    return ordered


def build_plan(registry: ModuleRegistry, enabled: Sequence[str] | None = None) -> ExecutionPlan:
    """Validate the enabled set and order it: stages in fixed order, dependencies first, ties by id."""
    definitions = registry.enabled_definitions(enabled)
    validate_dependencies(definitions)
    stage_index = {kind: i for i, kind in enumerate(MODULE_KINDS)}
    by_id = {d.module_id: d for d in definitions}
    for definition in definitions:
        for dep_id in definition.dependency_module_ids:
            if stage_index[by_id[dep_id].module_kind] > stage_index[definition.module_kind]:
                raise PlanError(
                    f"invalid dependency ordering: {definition.module_id} depends on later stage {dep_id}"
                )
    stages = []
    for kind in MODULE_KINDS:
        members = [d for d in definitions if d.module_kind == kind]
        steps = tuple(
            PlanStep(
                module_id=d.module_id,
                module_kind=d.module_kind,
                artifact_schemas=order_artifact_schemas(d.artifact_schemas),
                dependencies=d.dependency_module_ids,
            )
            for d in _stage_order(members)
        )
        stages.append((kind, steps))
    return ExecutionPlan(stages=tuple(stages))
