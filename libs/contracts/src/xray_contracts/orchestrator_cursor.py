"""OrchestratorCursor v1: the orchestrator's per-partition restart cursor (compacted topic value).

One record per `raw_market_event` partition, keyed by the partition number (decimal text): what the
partition's cut planner must remember across a restart. Everything else is re-read from the log,
starting at the committed offset (the open window's first offset).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SCHEMA: Final = "orchestrator_cursor"
SCHEMA_VERSION: Final = "1"


@dataclass(frozen=True, slots=True)
class SymbolOffset:
    """One symbol's last cut end: the partition offset its latest closed cut ended at."""

    symbol: str
    offset: int


@dataclass(frozen=True, slots=True)
class WindowStart:
    """The first input offset of the window that closed at `boundary_ms`."""

    boundary_ms: int
    offset: int


@dataclass(frozen=True, slots=True)
class OrchestratorCursor:
    """A `raw_market_event` partition's planner state after its latest closed window."""

    schema: str
    schema_version: str
    partition: int
    open_boundary_ms: int | None
    last_offset: int | None
    last_cut_end: tuple[SymbolOffset, ...]
    known_symbols: tuple[str, ...]
    window_starts: tuple[WindowStart, ...]
