"""Belief-first hysteresis: config, state, store, pure step and the persisted record v1."""

from regime_engine.native import extend_path

# compiled modules (mypyc) first when they were built from these sources; see regime_engine.native
extend_path(__path__, __name__)

from regime_engine.hysteresis.advance import advance_hysteresis, select_top  # noqa: E402
from regime_engine.hysteresis.config import HysteresisConfig  # noqa: E402
from regime_engine.hysteresis.record import (  # noqa: E402
    HysteresisStoreRecord,
    encode_record,
    parse_record,
    record_from_state,
    record_to_dict,
    restore_from_lines,
    state_from_record,
)
from regime_engine.hysteresis.state import (  # noqa: E402
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
