"""StateGateConfig / OperationLimits (pydantic; no bools as ints) and validate_config (positivity rules)."""

from __future__ import annotations

import hashlib
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _no_bool(value: object) -> object:
    # Ints may come as env-var strings, but a bool is never a count or a duration.
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


def _no_number(value: object) -> object:
    # A flag is spelled true/false (env strings allowed), never as a number.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("must be true or false, not a number")
    return value


Int = Annotated[int, BeforeValidator(_no_bool)]
Flag = Annotated[bool, BeforeValidator(_no_number)]


class ConfigError(ValueError):
    """Raised by validate_config; the message lists every problem, one per line."""


class OperationLimits(BaseModel):
    """Limits of one operation domain (input, persistence or publish)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_pending: Int
    max_block_ms: Int | None = None
    max_failures: Int | None = None


class StateGateConfig(BaseModel):
    """Gate configuration: reset threshold, denylist, transition blocking and operation limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_gap_ms: Int
    denylisted_invalidations: tuple[str, ...]
    block_during_transition: Flag
    input_limits: OperationLimits
    persistence_limits: OperationLimits
    publish_limits: OperationLimits


def config_problems(config: StateGateConfig) -> list[str]:
    """Every rule the config breaks, as `<path> must be ...` lines (empty when valid)."""
    problems: list[str] = []
    if config.max_gap_ms <= 0:
        problems.append("max_gap_ms must be > 0")
    for index, entry in enumerate(config.denylisted_invalidations):
        if not entry:
            problems.append(f"denylisted_invalidations[{index}] must be a non-empty string")
    for name in ("input_limits", "persistence_limits", "publish_limits"):
        limits: OperationLimits = getattr(config, name)
        if limits.max_pending <= 0:
            problems.append(f"{name}.max_pending must be > 0")
        if limits.max_block_ms is not None and limits.max_block_ms <= 0:
            problems.append(f"{name}.max_block_ms must be > 0")
        if limits.max_failures is not None and limits.max_failures <= 0:
            problems.append(f"{name}.max_failures must be > 0")
    return problems


def validate_config(config: StateGateConfig) -> None:
    """Fail fast: raise ConfigError naming every invalid key."""
    problems = config_problems(config)
    if problems:
        raise ConfigError("\n".join(problems))


def config_fingerprint(config: StateGateConfig) -> str:
    """A short stable hash of the config (replay equivalence holds only for equal fingerprints)."""
    canonical = config.model_dump_json()
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
