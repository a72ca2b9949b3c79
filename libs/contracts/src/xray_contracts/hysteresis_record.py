"""Hysteresis store record v1: the persisted per-symbol hysteresis state (compacted topic value)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SCHEMA: Final = "hysteresis_store_record"
SCHEMA_VERSION: Final = "1"


@dataclass(frozen=True, slots=True)
class HysteresisStoreRecord:
    """What survives a restart: anchor, candidate and progress; beliefs and reason codes are not kept."""

    schema: str
    schema_version: str
    symbol: str
    engine_timestamp_ms: int
    anchor_regime: str
    candidate_regime: str | None
    progress_current: int
    last_commit_timestamp_ms: int | None
