"""Engine config (composition only: which modules run, with which blobs) and its startup validation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consumers.analysis_engine.modules.base import ModuleConfigError, ModuleSettings
from consumers.analysis_engine.registry import ExecutionPlan, ModuleRegistry, RegistryError, build_plan
from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "AnalysisEngineConfig",
    "ConfigError",
    "ModuleConfig",
    "SymbolConfig",
    "ValidatedConfig",
    "validate_config",
]


class ConfigError(ValueError):
    """The engine config does not fit the registry (raised at startup, before any input)."""


class ModuleConfig(BaseModel):
    """One module's config blob (null or a mapping; validated by the module's own config schema)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    module_id: str = Field(min_length=1)
    config: Mapping[str, Any] | None = None

    @field_validator("config", mode="before")
    @classmethod
    def _mapping_or_null(cls, value: object, info: Any) -> object:
        if value is not None and not isinstance(value, Mapping):
            module_id = info.data.get("module_id", "?")
            raise ValueError(f"module_config for {module_id} must be a mapping if provided")
        return value


class SymbolConfig(BaseModel):
    """Per-symbol enabled set; replaces the default set for that symbol (an empty list runs nothing)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = Field(min_length=1)
    enabled_modules: tuple[str, ...]

    @field_validator("enabled_modules", mode="before")
    @classmethod
    def _not_a_string(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError("enabled_modules must be a list, not a string")
        return value


class AnalysisEngineConfig(BaseModel):
    """Which modules run (default and per symbol) and each module's config blob."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled_modules: tuple[str, ...]
    module_configs: tuple[ModuleConfig, ...]
    symbols: tuple[SymbolConfig, ...] | None = None

    @field_validator("enabled_modules", mode="before")
    @classmethod
    def _not_a_string(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError("enabled_modules must be a list, not a string")
        return value


class ValidatedConfig:
    """The result of validation: the default plan, per-symbol plans and each module's validated blob."""

    def __init__(
        self,
        default_plan: ExecutionPlan,
        symbol_plans: Mapping[str, ExecutionPlan],
        module_settings: Mapping[str, ModuleSettings],
    ) -> None:
        """Hold the plans and settings computed by validate_config."""
        self.default_plan = default_plan
        self.symbol_plans = dict(symbol_plans)
        self.module_settings = dict(module_settings)

    def plan_for(self, symbol: str) -> ExecutionPlan:
        """The plan of one symbol (its own entry, else the default)."""
        return self.symbol_plans.get(symbol, self.default_plan)


def validate_config(config: AnalysisEngineConfig, registry: ModuleRegistry) -> ValidatedConfig:
    """Check the config against the registry and build every plan; raise ConfigError on the first problem."""
    for module_id in config.enabled_modules:
        if module_id not in registry:
            raise ConfigError(f"unknown module_id in enabled_modules: {module_id}")
    seen: set[str] = set()
    settings: dict[str, ModuleSettings] = {}
    for module_config in config.module_configs:
        module_id = module_config.module_id
        if module_id not in registry:
            raise ConfigError(f"unknown module_id in module_configs: {module_id}")
        if module_id in seen:
            raise ConfigError(f"duplicate module_config for {module_id}")
        seen.add(module_id)
        try:
            settings[module_id] = registry.get(module_id).validate_config(module_config.config)
        except ModuleConfigError as exc:
            raise ConfigError(str(exc)) from exc
    for module_id in registry.module_ids():
        if module_id not in settings:
            try:
                settings[module_id] = registry.get(module_id).validate_config(None)
            except ModuleConfigError:
                # A module whose config has required keys is unusable without one; only an error if enabled.
                continue
    symbols: set[str] = set()
    for entry in config.symbols or ():
        if entry.symbol in symbols:
            raise ConfigError(f"duplicate symbol entry: {entry.symbol}")
        symbols.add(entry.symbol)
        for module_id in entry.enabled_modules:
            if module_id not in registry:
                raise ConfigError(f"unknown module_id in symbol config: {module_id}")
    try:
        default_plan = build_plan(registry, config.enabled_modules or None)
        symbol_plans = {e.symbol: build_plan(registry, e.enabled_modules) for e in config.symbols or ()}
    except RegistryError as exc:
        raise ConfigError(str(exc)) from exc
    for plan in (default_plan, *symbol_plans.values()):
        for module_id in plan.module_ids():
            if module_id not in settings:
                raise ConfigError(f"module_config for {module_id} is required (its config has required keys)")
    return ValidatedConfig(default_plan, symbol_plans, settings)
