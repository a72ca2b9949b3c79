"""Hysteresis Store Record v1 (fact sheet §2.10, §6.4, §9 48-51)."""

from __future__ import annotations

import json

import pytest
from regime_engine.contracts.regimes import Regime
from regime_engine.hysteresis import (
    HysteresisConfig,
    HysteresisState,
    encode_record,
    parse_record,
    record_from_state,
    restore_from_lines,
    state_from_record,
)


def _state(
    symbol: str, ts: int, anchor: Regime, progress: int, cand: Regime | None = None, last: int | None = None
) -> HysteresisState:
    return HysteresisState(
        symbol=symbol,
        engine_timestamp_ms=ts,
        anchor_regime=anchor,
        candidate_regime=cand,
        progress_current=progress,
        progress_required=3,
        last_commit_timestamp_ms=last,
        reason_codes=("X",),
        debug={"belief_by_regime": {}},
    )


def test_bad_schema_rejected() -> None:
    with pytest.raises(ValueError, match="schema"):
        parse_record({"schema": "bad", "schema_version": "1"})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("engine_timestamp_ms", True),
        ("engine_timestamp_ms", -1),
        ("progress_current", 1.5),
        ("symbol", ""),
        ("anchor_regime", "NOPE"),
        ("last_commit_timestamp_ms", False),
    ],
)
def test_field_validation(key: str, value: object) -> None:
    obj = json.loads(encode_record(_state("BTC", 1, Regime.CHOP_BALANCED, 0)))
    obj[key] = value
    with pytest.raises(ValueError, match=key.split("_", maxsplit=1)[0]):
        parse_record(obj)


def test_encoding_is_the_documented_line() -> None:
    line = encode_record(_state("BTCUSDT", 1, Regime.CHOP_BALANCED, 0))
    assert line == (
        '{"anchor_regime":"CHOP_BALANCED","candidate_regime":null,"engine_timestamp_ms":1,'
        '"last_commit_timestamp_ms":null,"progress_current":0,"schema":"hysteresis_store_record",'
        '"schema_version":"1","symbol":"BTCUSDT"}'
    )


def test_restore_latest_wins_later_line_on_tie() -> None:
    lines = [
        encode_record(_state("BTC", 100, Regime.CHOP_BALANCED, 1)),
        encode_record(_state("BTC", 100, Regime.TREND_BUILD_UP, 2)),
        "not-json",
        "[1]",
        "",
        encode_record(_state("ETH", 50, Regime.SQUEEZE_DOWN, 0, Regime.TREND_BUILD_DOWN, 25)),
    ]
    states = restore_from_lines(lines, HysteresisConfig(window_updates=7))
    assert (states["BTC"].anchor_regime, states["BTC"].progress_current) == (Regime.TREND_BUILD_UP, 2)
    assert states["ETH"].candidate_regime is Regime.TREND_BUILD_DOWN
    assert states["ETH"].last_commit_timestamp_ms == 25
    assert states["ETH"].progress_required == 7
    assert states["ETH"].reason_codes == ()
    assert states["ETH"].debug is None


def test_round_trip() -> None:
    state = _state("SOL", 900, Regime.TREND_EXHAUSTION, 2, Regime.CHOP_STOPHUNT, 450)
    record = parse_record(json.loads(encode_record(state)))
    assert record == record_from_state(state)
    back = state_from_record(record, HysteresisConfig())
    assert (back.anchor_regime, back.candidate_regime, back.progress_current) == (
        state.anchor_regime,
        state.candidate_regime,
        state.progress_current,
    )
