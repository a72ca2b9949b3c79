"""The contract market_data emits: RawMarketEvent v1 (re-exported), the sink protocol and its error."""

from __future__ import annotations

from typing import Protocol

from xray_contracts.raw_market_event import (
    EVENT_TYPES,
    REQUIRED_NORMALIZED_KEYS,
    SCHEMA,
    SCHEMA_VERSION,
    RawMarketEvent,
)

__all__ = [
    "EVENT_TYPES",
    "REQUIRED_NORMALIZED_KEYS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "BackpressureError",
    "RawEventSink",
    "RawMarketEvent",
]


class BackpressureError(RuntimeError):
    """The sink could not accept an event within the configured backpressure policy."""


class RawEventSink(Protocol):
    """Where accepted events go (the "Raw Event Bus" writer)."""

    def write(self, event: RawMarketEvent, *, block: bool, timeout_ms: int | None) -> None:
        """Accept one event or raise BackpressureError; any other exception is a sink fault."""
        ...
