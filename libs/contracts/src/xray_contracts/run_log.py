"""EngineRunRecord v1: one record per attempted engine run, the orchestrator's replay authority."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SCHEMA: Final = "engine_run_record"
SCHEMA_VERSION: Final = "1"

STATUS_STARTED: Final = "started"
STATUS_COMPLETED: Final = "completed"
STATUS_FAILED: Final = "failed"
STATUSES: Final[tuple[str, ...]] = (STATUS_STARTED, STATUS_COMPLETED, STATUS_FAILED)


@dataclass(frozen=True, slots=True)
class EngineRunRecord:
    """A run-log entry: written `started` before execution, then a terminal `completed`/`failed`."""

    run_id: str
    symbol: str
    engine_timestamp_ms: int
    engine_mode: str
    cut_kind: str
    cut_start_ingest_seq: int
    cut_end_ingest_seq: int
    planned_ts_ms: int
    started_ts_ms: int | None
    completed_ts_ms: int | None
    status: str
    attempts: int
    error_kind: str | None = None
    error_detail: str | None = None
