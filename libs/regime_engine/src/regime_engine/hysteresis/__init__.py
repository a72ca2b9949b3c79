"""Belief-first hysteresis: config, state, store, pure step and the persisted record v1."""

from regime_engine.hysteresis.advance import advance_hysteresis, select_top
from regime_engine.hysteresis.config import HysteresisConfig
from regime_engine.hysteresis.record import (
    HysteresisStoreRecord,
    encode_record,
    parse_record,
    record_from_state,
    record_to_dict,
    restore_from_lines,
    state_from_record,
)
from regime_engine.hysteresis.state import (
    HysteresisDecision,
    HysteresisState,
    HysteresisStore,
)

__all__ = [
    "HysteresisConfig",
    "HysteresisDecision",
    "HysteresisState",
    "HysteresisStore",
    "HysteresisStoreRecord",
    "advance_hysteresis",
    "encode_record",
    "parse_record",
    "record_from_state",
    "record_to_dict",
    "restore_from_lines",
    "select_top",
    "state_from_record",
]
