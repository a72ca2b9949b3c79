"""Module discovery through the `xray.analysis_modules` entry-point group (built-ins and third parties alike).

An entry point's name must equal the module_id of what it loads; it must load a zero-argument callable
(usually the module class) returning an AnalysisModule. The resulting modules then go through the same
ModuleRegistry / validate_config checks as any other module.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

from consumers.analysis_engine.modules.base import AnalysisModule
from consumers.analysis_engine.registry import ModuleRegistry, RegistryError

ENTRY_POINT_GROUP = "xray.analysis_modules"


class DiscoveryError(RegistryError):
    """An entry point does not yield a valid module."""


def load_entry_point(entry_point: EntryPoint) -> AnalysisModule:
    """Load one entry point and check what it gives."""
    try:
        factory = entry_point.load()
        module = factory()
    except Exception as exc:
        raise DiscoveryError(f"entry point {entry_point.name} failed to load: {exc}") from exc
    if not isinstance(module, AnalysisModule):
        raise DiscoveryError(f"entry point {entry_point.name} did not return an AnalysisModule")
    if module.definition.module_id != entry_point.name:
        raise DiscoveryError(
            f"entry point {entry_point.name} returned module_id {module.definition.module_id}"
        )
    return module


def discover_modules(points: Iterable[EntryPoint] | None = None) -> list[AnalysisModule]:
    """Every module of the entry-point group (or of the given entry points), sorted by name."""
    found = list(points) if points is not None else list(entry_points(group=ENTRY_POINT_GROUP))
    return [load_entry_point(ep) for ep in sorted(found, key=lambda ep: ep.name)]


def discover_registry(points: Iterable[EntryPoint] | None = None) -> ModuleRegistry:
    """A registry of every discovered module (duplicate ids are an error)."""
    return ModuleRegistry(modules=discover_modules(points))
