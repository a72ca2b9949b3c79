"""Hysteresis Store Record v1: the persisted per-symbol form and its conversions."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from regime_engine.contracts.regimes import Regime, regime_from_value
from regime_engine.hysteresis.config import HysteresisConfig
from regime_engine.hysteresis.state import HysteresisState

STORE_RECORD_SCHEMA: Final = "hysteresis_store_record"
STORE_RECORD_SCHEMA_VERSION: Final = "1"


@dataclass(frozen=True, slots=True)
class HysteresisStoreRecord:
    """The persisted subset of a HysteresisState (no progress_required, reason codes or debug)."""

    symbol: str
    engine_timestamp_ms: int
    anchor_regime: Regime
    candidate_regime: Regime | None
    progress_current: int
    last_commit_timestamp_ms: int | None


def record_from_state(state: HysteresisState) -> HysteresisStoreRecord:
    """Project a state onto its persisted record."""
    return HysteresisStoreRecord(
        symbol=state.symbol,
        engine_timestamp_ms=state.engine_timestamp_ms,
        anchor_regime=state.anchor_regime,
        candidate_regime=state.candidate_regime,
        progress_current=state.progress_current,
        last_commit_timestamp_ms=state.last_commit_timestamp_ms,
    )


def state_from_record(record: HysteresisStoreRecord, config: HysteresisConfig) -> HysteresisState:
    """Restore a state: progress_required from config, no reason codes, no debug."""
    return HysteresisState(
        symbol=record.symbol,
        engine_timestamp_ms=record.engine_timestamp_ms,
        anchor_regime=record.anchor_regime,
        candidate_regime=record.candidate_regime,
        progress_current=record.progress_current,
        progress_required=config.window_updates,
        last_commit_timestamp_ms=record.last_commit_timestamp_ms,
        reason_codes=(),
        debug=None,
    )


def record_to_dict(record: HysteresisStoreRecord) -> dict[str, Any]:
    """JSON-ready dict of a record (schema fields included)."""
    return {
        "schema": STORE_RECORD_SCHEMA,
        "schema_version": STORE_RECORD_SCHEMA_VERSION,
        "symbol": record.symbol,
        "engine_timestamp_ms": record.engine_timestamp_ms,
        "anchor_regime": record.anchor_regime.value,
        "candidate_regime": None if record.candidate_regime is None else record.candidate_regime.value,
        "progress_current": record.progress_current,
        "last_commit_timestamp_ms": record.last_commit_timestamp_ms,
    }


def encode_record(state: HysteresisState) -> str:
    """One JSON line (sorted keys, compact separators) for the state's record."""
    return json.dumps(record_to_dict(record_from_state(state)), sort_keys=True, separators=(",", ":"))


def _int(obj: Mapping[str, Any], key: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key} must be a non-negative int")
    return value


def _optional_int(obj: Mapping[str, Any], key: str) -> int | None:
    return None if obj.get(key) is None else _int(obj, key)


def _regime(obj: Mapping[str, Any], key: str) -> Regime:
    value = obj.get(key)
    regime = regime_from_value(value) if isinstance(value, str) else None
    if regime is None:
        raise ValueError(f"{key} must be a known regime")
    return regime


def _optional_regime(obj: Mapping[str, Any], key: str) -> Regime | None:
    return None if obj.get(key) is None else _regime(obj, key)


def parse_record(obj: object) -> HysteresisStoreRecord:
    """Validate a decoded JSON object as a v1 record; raise ValueError when it is not one."""
    if not isinstance(obj, Mapping):
        raise ValueError("record must be an object")
    if obj.get("schema") != STORE_RECORD_SCHEMA or obj.get("schema_version") != STORE_RECORD_SCHEMA_VERSION:
        raise ValueError("wrong schema or schema_version")
    symbol = obj.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise ValueError("symbol must be a non-empty string")
    return HysteresisStoreRecord(
        symbol=symbol,
        engine_timestamp_ms=_int(obj, "engine_timestamp_ms"),
        anchor_regime=_regime(obj, "anchor_regime"),
        candidate_regime=_optional_regime(obj, "candidate_regime"),
        progress_current=_int(obj, "progress_current"),
        last_commit_timestamp_ms=_optional_int(obj, "last_commit_timestamp_ms"),
    )


def restore_from_lines(lines: Iterable[str], config: HysteresisConfig) -> dict[str, HysteresisState]:
    """Latest valid record per symbol from JSONL lines (later line wins a timestamp tie).

    Blank, non-JSON, non-object and invalid lines are skipped; no valid line gives {} (the caller
    decides whether an empty restore is fatal).
    """
    best: dict[str, HysteresisStoreRecord] = {}
    for line in lines:
        if not line.strip():
            continue
        try:
            record = parse_record(json.loads(line))
        except ValueError:
            continue
        held = best.get(record.symbol)
        if held is None or record.engine_timestamp_ms >= held.engine_timestamp_ms:
            best[record.symbol] = record
    return {symbol: state_from_record(rec, config) for symbol, rec in best.items()}
