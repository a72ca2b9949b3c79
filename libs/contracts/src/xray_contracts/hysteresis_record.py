"""Hysteresis store record v1: the persisted per-symbol hysteresis state (compacted topic value)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

SCHEMA: Final = "hysteresis_store_record"
SCHEMA_VERSION: Final = "1"


@dataclass(frozen=True, slots=True)
class HysteresisStoreRecord:
    """What survives a restart: anchor, candidate, progress and the belief carried as the next prior.

    Reason codes are not kept. `belief_by_regime` is None in records written before the field existed
    (or by an engine that keeps no belief); a restored engine then starts from its default prior.
    """

    schema: str
    schema_version: str
    symbol: str
    engine_timestamp_ms: int
    anchor_regime: str
    candidate_regime: str | None
    progress_current: int
    last_commit_timestamp_ms: int | None
    belief_by_regime: Mapping[str, float] | None = None
