"""The topic catalogue: every topic the system uses, declared once. Nothing else hard-codes a name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

DEFAULT_NAMESPACE: Final = "xray"
DEFAULT_PARTITIONS: Final = 6

CleanupPolicy = Literal["delete", "compact"]


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic's logical name and settings; `topic(namespace)` gives its physical name."""

    name: str
    value_schema: str | None
    cleanup_policy: CleanupPolicy
    retention_ms: int | None = None
    major: int = 1
    key: str = "symbol"
    partitions: int = DEFAULT_PARTITIONS
    extra_config: Mapping[str, str] = field(default_factory=dict)

    def topic(self, namespace: str = DEFAULT_NAMESPACE) -> str:
        """Physical topic name: `{namespace}.{name}.v{major}`."""
        return f"{namespace}.{self.name}.v{self.major}"


def dlq_spec(service: str) -> TopicSpec:
    """The dead-letter topic of one service: undecodable bytes plus provenance headers."""
    return TopicSpec(name=f"{service}.dlq", value_schema=None, cleanup_policy="delete",
                     retention_ms=14 * 24 * 3600 * 1000)
