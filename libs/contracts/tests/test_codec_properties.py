"""Property tests: contracts round-trip through their codecs in both wire formats; garbage -> DecodeError."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xray_contracts import analysis_engine as ae
from xray_contracts import bindings
from xray_contracts import hysteresis_record as hr
from xray_contracts import orchestrator_cursor as oc
from xray_contracts import orchestrator_event as oe
from xray_contracts import raw_market_event as rme
from xray_contracts import run_log as rl
from xray_contracts import state_gate as sg
from xray_contracts.codec import (
    CONFLUENT_MAGIC,
    SINGLE_OBJECT_MAGIC,
    ContractCodec,
    DecodeError,
    EncodeError,
    InMemoryResolver,
    build_codecs,
    default_codecs,
)
from xray_contracts.plain import from_plain, to_plain
from xray_contracts.schema_store import default_store

# Each example is a batch of BATCH values (hypothesis' per-example overhead dominates on a busy machine):
# 200 examples x 5 = 1,000 generated values per contract (OrchestratorCursor included); the three state
# records beyond the brief's eight contracts get 300.
BATCH = 5
ROUND_TRIPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER_ROUND_TRIPS = settings(ROUND_TRIPS, max_examples=60)

texts = st.text(max_size=8)
opt_texts = st.none() | texts
longs = st.integers(min_value=-(2**63), max_value=2**63 - 1)
opt_longs = st.none() | longs
doubles = st.floats(allow_nan=False)
opt_doubles = st.none() | doubles
str_tuples = st.lists(texts, max_size=3).map(tuple)
float_maps = st.dictionaries(texts, doubles, max_size=4)
json_values = st.recursive(
    st.none() | st.booleans() | longs | doubles | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(texts, json_values, max_size=4)
finite_json_values = st.recursive(
    st.none() | st.booleans() | longs | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
regimes = st.sampled_from(oe.REGIME_VALUES)
# A belief distribution (non-empty), keyed by regime values or by any text.
belief_maps = st.dictionaries(regimes | texts, doubles, min_size=1, max_size=len(oe.REGIME_VALUES))

# ---- RawMarketEvent ----
levels = st.lists(st.lists(doubles, min_size=2, max_size=2), max_size=4)
sides = st.sampled_from(["buy", "sell", None])
TYPED_NORMALIZED: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "TradeTick": st.fixed_dictionaries({"price": doubles, "quantity": doubles, "side": sides}),
    "LiquidationPrint": st.fixed_dictionaries({"price": doubles, "quantity": doubles, "side": sides}),
    "BookTop": st.fixed_dictionaries(
        {k: doubles for k in ("best_bid_price", "best_bid_quantity", "best_ask_price", "best_ask_quantity")}
    ),
    "BookDelta": st.fixed_dictionaries({"bids": levels, "asks": levels}),
    "Candle": st.fixed_dictionaries(
        {
            **{k: doubles for k in ("open", "high", "low", "close", "volume")},
            "interval_ms": longs,
            "is_final": st.none() | st.booleans(),
        }
    ),
    "FundingRate": st.fixed_dictionaries({"funding_rate": doubles}),
    "OpenInterest": st.fixed_dictionaries({"open_interest": doubles}),
    "MarkPrice": st.fixed_dictionaries({"mark_price": doubles}),
    "IndexPrice": st.fixed_dictionaries({"index_price": doubles}),
    "SnapshotInputs": st.fixed_dictionaries(
        {"timestamp_ms": longs}, optional={"market": json_objects, "flow": json_objects}
    ),
    "DecodeFailure": st.fixed_dictionaries({"error_kind": texts, "error_detail": texts}),
}


@st.composite
def raw_market_events(draw: st.DrawFn) -> rme.RawMarketEvent:
    event_type = draw(st.sampled_from((*rme.EVENT_TYPES, "SomethingNew")))
    typed = TYPED_NORMALIZED.get(event_type)
    if typed is not None and draw(st.integers(0, 3)) > 0:
        normalized = draw(typed)
        normalized.update(draw(st.dictionaries(st.text(min_size=13, max_size=16), json_values, max_size=2)))
    else:  # anything JSON-like: wrong types, nulls, ints for floats, unknown event types
        normalized = draw(json_objects)
    return rme.RawMarketEvent(
        schema=rme.SCHEMA,
        schema_version=draw(st.sampled_from([rme.SCHEMA_VERSION, "2"])),
        event_type=event_type,
        source_id=draw(texts),
        symbol=draw(texts),
        exchange_ts_ms=draw(opt_longs),
        recv_ts_ms=draw(longs),
        raw_payload=draw(st.binary(max_size=64)),
        normalized=normalized,
        source_event_id=draw(opt_texts),
        source_seq=draw(opt_longs),
        channel=draw(opt_texts),
        payload_content_type=draw(opt_texts),
        payload_hash=draw(opt_texts),
    )


# ---- engine payloads & OrchestratorEvent ----
regime_outputs = st.builds(
    oe.RegimeOutput,
    symbol=texts,
    timestamp=longs,
    regime=regimes,
    confidence=doubles,
    drivers=str_tuples,
    invalidations=str_tuples,
    permissions=str_tuples,
    belief_by_regime=st.none() | float_maps,
    driver_contributions=st.none()
    | st.lists(st.builds(oe.DriverContribution, driver=texts, contribution=doubles), max_size=3).map(tuple),
    invalidation_conditions=st.none()
    | st.lists(
        st.builds(
            oe.InvalidationCondition,
            kind=texts,
            field=texts,
            op=texts,
            threshold=opt_doubles,
            description=texts,
        ),
        max_size=3,
    ).map(tuple),
)
hysteresis_states = st.builds(
    oe.HysteresisState,
    schema=st.just(oe.HYSTERESIS_STATE_SCHEMA),
    schema_version=st.just("1"),
    symbol=texts,
    engine_timestamp_ms=longs,
    anchor_regime=regimes,
    candidate_regime=st.none() | regimes,
    progress_current=longs,
    progress_required=longs,
    last_commit_timestamp_ms=opt_longs,
    reason_codes=str_tuples,
    debug=st.none() | st.builds(oe.HysteresisDebug, belief_by_regime=float_maps),
)
orchestrator_events = st.builds(
    oe.OrchestratorEvent,
    schema=st.just(oe.SCHEMA),
    schema_version=st.just(oe.SCHEMA_VERSION),
    event_type=st.sampled_from(oe.EVENT_TYPES),
    run_id=texts,
    symbol=texts,
    engine_timestamp_ms=longs,
    cut_start_ingest_seq=longs,
    cut_end_ingest_seq=longs,
    cut_kind=st.sampled_from(oe.CUT_KINDS),
    engine_mode=st.none() | st.sampled_from(oe.ENGINE_MODES),
    attempt=opt_longs,
    published_ts_ms=opt_longs,
    counts_by_event_type=st.none() | st.dictionaries(texts, longs, max_size=4),
    payload=st.none()
    | st.builds(
        oe.OrchestratorPayload,
        regime_output=st.none() | regime_outputs,
        hysteresis_state=st.none() | hysteresis_states,
        error_kind=opt_texts,
        error_detail=opt_texts,
    ),
)
engine_run_records = st.builds(
    rl.EngineRunRecord,
    run_id=texts,
    symbol=texts,
    engine_timestamp_ms=longs,
    engine_mode=st.sampled_from(oe.ENGINE_MODES),
    cut_kind=st.sampled_from(oe.CUT_KINDS),
    cut_start_ingest_seq=longs,
    cut_end_ingest_seq=longs,
    planned_ts_ms=longs,
    started_ts_ms=opt_longs,
    completed_ts_ms=opt_longs,
    status=st.sampled_from(rl.STATUSES),
    attempts=longs,
    error_kind=opt_texts,
    error_detail=opt_texts,
)
hysteresis_store_records = st.builds(
    hr.HysteresisStoreRecord,
    schema=st.just(hr.SCHEMA),
    schema_version=st.just(hr.SCHEMA_VERSION),
    symbol=texts,
    engine_timestamp_ms=longs,
    anchor_regime=regimes,
    candidate_regime=st.none() | regimes,
    progress_current=longs,
    last_commit_timestamp_ms=opt_longs,
    belief_by_regime=st.none() | belief_maps,
)
orchestrator_cursors = st.builds(
    oc.OrchestratorCursor,
    schema=st.just(oc.SCHEMA),
    schema_version=st.just(oc.SCHEMA_VERSION),
    partition=longs,
    open_boundary_ms=opt_longs,
    last_offset=opt_longs,
    last_cut_end=st.lists(st.builds(oc.SymbolOffset, symbol=texts, offset=longs), max_size=4).map(tuple),
    known_symbols=str_tuples,
    window_starts=st.lists(st.builds(oc.WindowStart, boundary_ms=longs, offset=longs), max_size=4).map(tuple),
)

# ---- state_gate ----
state_gate_payloads = st.none() | st.one_of(
    st.builds(
        sg.GateEvaluatedPayload,
        regime_output=st.none() | regime_outputs,
        hysteresis_state=st.none() | hysteresis_states,
    ),
    st.builds(sg.StateResetPayload, reset_reason=st.sampled_from(sg.RESET_REASONS)),
    st.builds(sg.StateGateHaltedPayload, error_kind=texts, error_detail=texts),
)
state_gate_events = st.builds(
    sg.StateGateEvent,
    schema=st.just(sg.SCHEMA),
    schema_version=st.just(sg.SCHEMA_VERSION),
    event_type=st.sampled_from(sg.EVENT_TYPES),
    symbol=texts,
    engine_timestamp_ms=longs,
    run_id=texts,
    state_status=st.sampled_from(sg.STATE_STATUSES),
    gate_status=st.sampled_from(sg.GATE_STATUSES),
    reasons=str_tuples,
    payload=state_gate_payloads,
    input_event_type=st.none() | st.sampled_from(sg.INPUT_EVENT_TYPES),
    engine_mode=st.none() | st.sampled_from(sg.ENGINE_MODES),
)
state_gate_state_records = st.builds(
    sg.StateGateStateRecord,
    symbol=texts,
    engine_timestamp_ms=longs,
    run_id=texts,
    state_status=st.sampled_from(sg.STATE_STATUSES),
    gate_status=st.sampled_from(sg.GATE_STATUSES),
    reasons=str_tuples,
    engine_mode=opt_texts,
    source_event_type=opt_texts,
    regime_output=st.none() | regime_outputs,
    hysteresis_state=st.none() | hysteresis_states,
    reset_reason=opt_texts,
    error_kind=opt_texts,
    error_detail=opt_texts,
    event_type=opt_texts,
)
pending_runs = st.builds(
    sg.PendingRun,
    run_id=texts,
    engine_timestamp_ms=longs,
    engine_mode=opt_texts,
    regime_output=st.none() | regime_outputs,
    hysteresis_state=st.none() | hysteresis_states,
    failed=st.booleans(),
    seen_input_types=str_tuples,
)
state_gate_snapshots = st.builds(
    sg.StateGateSnapshot,
    symbol=texts,
    last_run_id=opt_texts,
    last_engine_timestamp_ms=opt_longs,
    state_status=st.sampled_from(sg.STATE_STATUSES),
    gate_status=st.sampled_from(sg.GATE_STATUSES),
    reasons=str_tuples,
    engine_mode=opt_texts,
    source_event_type=opt_texts,
    halted=st.booleans(),
    halt_error_kind=opt_texts,
    halt_error_detail=opt_texts,
    halt_run_id=opt_texts,
    processed_keys=str_tuples,
    pending=st.lists(pending_runs, max_size=2).map(tuple),
    last_record=st.none() | state_gate_state_records,
    record_count=longs,
    config_fingerprint=opt_texts,
)
state_gate_controls = st.builds(
    sg.StateGateControl,
    schema=st.just(sg.CONTROL_SCHEMA),
    schema_version=st.just("1"),
    command=st.sampled_from(sg.CONTROL_COMMANDS),
    symbol=texts,
    operator=opt_texts,
    note=opt_texts,
)

# ---- analysis_engine ----
canonical_json_texts = finite_json_values.map(ae.canonical_json)
ANALYSIS_PAYLOADS: dict[str, st.SearchStrategy[Any]] = {
    "ArtifactEmitted": st.builds(
        ae.ArtifactEmittedPayload,
        artifact_kind=st.sampled_from(ae.ARTIFACT_KINDS),
        module_id=texts,
        artifact_name=texts,
        artifact_schema=texts,
        artifact_schema_version=texts,
        payload_json=canonical_json_texts,
    ),
    "ModuleFailed": st.builds(
        ae.ModuleFailedPayload,
        module_id=texts,
        module_kind=st.sampled_from(ae.MODULE_KINDS),
        error_kind=st.sampled_from(ae.MODULE_ERROR_KINDS),
        error_detail=texts,
    ),
    "AnalysisRunCompleted": st.builds(
        ae.RunStatusPayload, status=st.sampled_from(ae.RUN_STATUSES), module_failures=str_tuples
    ),
    "AnalysisRunFailed": st.builds(ae.RunStatusPayload, status=st.just("FAILED"), module_failures=str_tuples),
}


@st.composite
def analysis_engine_events(draw: st.DrawFn) -> ae.AnalysisEngineEvent:
    event_type = draw(st.sampled_from(ae.EVENT_TYPES))
    payload_strategy = ANALYSIS_PAYLOADS.get(event_type)
    return ae.AnalysisEngineEvent(
        event_type=event_type,
        symbol=draw(texts),
        run_id=draw(texts),
        engine_timestamp_ms=draw(longs),
        payload=None if payload_strategy is None else draw(payload_strategy),
        engine_mode=draw(st.none() | st.sampled_from(sg.ENGINE_MODES)),
        source_gate_reasons=draw(st.none() | str_tuples),
    )


analysis_module_states = st.builds(
    ae.AnalysisModuleStateRecord,
    symbol=texts,
    module_id=texts,
    run_id=texts,
    engine_timestamp_ms=longs,
    state_schema_id=texts,
    state_schema_version=texts,
    state_payload_json=canonical_json_texts,
)
analysis_run_ledgers = st.builds(
    ae.AnalysisRunLedger,
    symbol=texts,
    last_run_id=opt_texts,
    last_engine_timestamp_ms=opt_longs,
    recent_run_ids=str_tuples,
    halted=st.booleans(),
    halted_by_run_id=opt_texts,
    halted_at_engine_timestamp_ms=opt_longs,
)

STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    rme.RawMarketEvent: raw_market_events(),
    oe.OrchestratorEvent: orchestrator_events,
    rl.EngineRunRecord: engine_run_records,
    hr.HysteresisStoreRecord: hysteresis_store_records,
    oc.OrchestratorCursor: orchestrator_cursors,
    sg.StateGateEvent: state_gate_events,
    sg.StateGateStateRecord: state_gate_state_records,
    sg.StateGateSnapshot: state_gate_snapshots,
    sg.StateGateControl: state_gate_controls,
    ae.AnalysisEngineEvent: analysis_engine_events(),
    ae.AnalysisModuleStateRecord: analysis_module_states,
    ae.AnalysisRunLedger: analysis_run_ledgers,
}

EXTRA_CONTRACTS = {sg.StateGateSnapshot, sg.StateGateControl, ae.AnalysisRunLedger}
SINGLE = default_codecs()
CONFLUENT = build_codecs(resolver=InMemoryResolver())


def test_every_binding_has_a_strategy() -> None:
    assert set(STRATEGIES) == set(SINGLE.by_type)


@pytest.mark.parametrize("contract", list(STRATEGIES), ids=lambda t: t.__name__)
def test_round_trip_both_wire_formats(contract: type) -> None:
    single: ContractCodec[Any] = SINGLE.for_type(contract)
    confluent: ContractCodec[Any] = CONFLUENT.for_type(contract)

    @(FEWER_ROUND_TRIPS if contract in EXTRA_CONTRACTS else ROUND_TRIPS)
    @given(st.lists(STRATEGIES[contract], min_size=BATCH, max_size=BATCH))
    def check(values: list[Any]) -> None:
        for value in values:
            a = single.encode(value)
            assert a[:2] == SINGLE_OBJECT_MAGIC
            assert single.decode(a) == value
            b = confluent.encode(value)
            assert b[:1] == CONFLUENT_MAGIC
            assert confluent.decode(b) == value
            # A reader with a registry accepts both framings, whatever it writes.
            assert confluent.decode(a) == value

    check()


def test_typed_normalized_fast_path_is_used_for_decoder_shapes() -> None:
    codec = SINGLE.for_type(rme.RawMarketEvent)
    event = rme.RawMarketEvent(
        schema="raw_market_event",
        schema_version="1",
        event_type="BookDelta",
        source_id="binance",
        symbol="BTCUSDT",
        exchange_ts_ms=None,
        recv_ts_ms=1,
        raw_payload=b"{}",
        normalized={"bids": [[1.0, 2.0]], "asks": []},
    )
    from xray_contracts.bindings import normalized_to_avro

    assert normalized_to_avro("BookDelta", event.normalized)[0].endswith("BookDeltaNormalized")
    assert normalized_to_avro("BookDelta", {"bids": [[1, 2.0]], "asks": []})[0].endswith("GenericNormalized")
    assert codec.decode(codec.encode(event)) == event


def test_headers_name_schema_version_and_event_type() -> None:
    codec = SINGLE.for_type(rl.EngineRunRecord)
    record = rl.EngineRunRecord(
        run_id="r",
        symbol="S",
        engine_timestamp_ms=1,
        engine_mode="truth",
        cut_kind="boundary",
        cut_start_ingest_seq=0,
        cut_end_ingest_seq=1,
        planned_ts_ms=1,
        started_ts_ms=None,
        completed_ts_ms=None,
        status="started",
        attempts=1,
    )
    assert codec.headers(record) == [
        ("schema", b"engine_run_record"),
        ("schema_version", b"1"),
        ("event_type", b"EngineRunRecord"),
    ]


def _hysteresis_record(**changes: Any) -> hr.HysteresisStoreRecord:
    record = hr.HysteresisStoreRecord(
        schema="hysteresis_store_record",
        schema_version="1",
        symbol="BTCUSDT",
        engine_timestamp_ms=180_000,
        anchor_regime="CHOP_BALANCED",
        candidate_regime="TREND_BUILD_UP",
        progress_current=1,
        last_commit_timestamp_ms=7,
    )
    return replace(record, **changes)


def test_hysteresis_store_record_carries_the_belief() -> None:
    belief = {"CHOP_BALANCED": 0.625, "TREND_BUILD_UP": 0.375}
    for codecs in (SINGLE, CONFLUENT):
        codec = codecs.for_type(hr.HysteresisStoreRecord)
        for value in (belief, MappingProxyType(belief), {}, None):
            decoded = codec.decode(codec.encode(_hysteresis_record(belief_by_regime=value)))
            assert decoded == _hysteresis_record(belief_by_regime=None if value is None else dict(value))
            assert decoded.belief_by_regime is None or type(decoded.belief_by_regime) is dict


def test_hysteresis_store_record_written_before_the_belief_field_reads_as_no_belief() -> None:
    """A record a pre-belief orchestrator wrote (retired writer schema) decodes with belief None."""
    codec = SINGLE.for_type(hr.HysteresisStoreRecord)
    (old,) = [
        e
        for e in default_store().by_fingerprint.values()
        if e.full_name == codec.schema_name
        and [f["name"] for f in e.schema_json["fields"]][-1] == "last_commit_timestamp_ms"
    ]
    assert not old.current
    datum = bindings.hysteresis_store_record_to_avro(_hysteresis_record())
    del datum["belief_by_regime"]
    body = io.BytesIO()
    fastavro.schemaless_writer(body, old.parsed, datum)
    data = SINGLE_OBJECT_MAGIC + old.fingerprint + body.getvalue()
    assert codec.decode(data) == _hysteresis_record()
    assert CONFLUENT.for_type(hr.HysteresisStoreRecord).decode(data) == _hysteresis_record()


def test_orchestrator_cursor_headers_and_topic() -> None:
    cursor = oc.OrchestratorCursor(
        schema=oc.SCHEMA,
        schema_version=oc.SCHEMA_VERSION,
        partition=3,
        open_boundary_ms=360_000,
        last_offset=41,
        last_cut_end=(oc.SymbolOffset("BTCUSDT", 41), oc.SymbolOffset("ETHUSDT", 40)),
        known_symbols=("BTCUSDT", "ETHUSDT"),
        window_starts=(oc.WindowStart(180_000, 0),),
    )
    codec = SINGLE.for_topic("orchestrator.cursor")
    assert codec is SINGLE.for_type(oc.OrchestratorCursor)
    assert codec.headers(cursor) == [
        ("schema", b"orchestrator_cursor"),
        ("schema_version", b"1"),
        ("event_type", b"OrchestratorCursor"),
    ]
    assert SINGLE.decode_any(codec.encode(cursor)) == cursor


def test_plain_round_trip_of_the_new_orchestrator_state_fields() -> None:
    """`xray tail` prints `to_plain` JSON; `from_plain` must rebuild the cursor and the belief."""
    cursor = oc.OrchestratorCursor(
        schema=oc.SCHEMA,
        schema_version=oc.SCHEMA_VERSION,
        partition=5,
        open_boundary_ms=None,
        last_offset=None,
        last_cut_end=(oc.SymbolOffset("BTCUSDT", 9),),
        known_symbols=("BTCUSDT",),
        window_starts=(oc.WindowStart(180_000, 0), oc.WindowStart(360_000, 10)),
    )
    record = _hysteresis_record(belief_by_regime={"CHOP_BALANCED": 1.0})
    for value in (cursor, record, _hysteresis_record()):
        text = json.dumps(to_plain(value))
        assert from_plain(type(value), json.loads(text)) == value


def test_out_of_range_values_raise_encode_error() -> None:
    codec = SINGLE.for_type(hr.HysteresisStoreRecord)
    record = hr.HysteresisStoreRecord(
        schema="hysteresis_store_record",
        schema_version="1",
        symbol="S",
        engine_timestamp_ms=2**64,
        anchor_regime="CHOP_BALANCED",
        candidate_regime=None,
        progress_current=0,
        last_commit_timestamp_ms=None,
    )
    with pytest.raises(EncodeError):
        codec.encode(record)


CODECS = list(SINGLE.by_type.values())


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(CODECS), st.binary(max_size=64))
def test_random_bytes_raise_decode_error(codec: Any, junk: bytes) -> None:
    for data in (junk, SINGLE_OBJECT_MAGIC + codec.entry.fingerprint + junk, b"\x00\x00\x00\x00\x01" + junk):
        with contextlib.suppress(DecodeError):
            codec.decode(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_records_raise_decode_error_or_decode(data: st.DataObject) -> None:
    contract = data.draw(st.sampled_from(list(STRATEGIES)))
    codec: ContractCodec[Any] = SINGLE.for_type(contract)
    encoded = bytearray(codec.encode(data.draw(STRATEGIES[contract])))
    if len(encoded) > 10:
        cut = data.draw(st.integers(10, len(encoded) - 1))
        flip = data.draw(st.integers(0, 255))
        mutated = [
            bytes(encoded[:cut]),
            bytes(encoded[:cut]) + bytes([encoded[cut] ^ flip]) + bytes(encoded[cut + 1 :]),
        ]
    else:
        mutated = [bytes(encoded[:-1])]
    for candidate in mutated:
        with contextlib.suppress(DecodeError):
            codec.decode(candidate)


def test_wrong_contract_is_a_decode_error() -> None:
    run_codec = SINGLE.for_type(rl.EngineRunRecord)
    record = hr.HysteresisStoreRecord(
        schema="hysteresis_store_record",
        schema_version="1",
        symbol="S",
        engine_timestamp_ms=1,
        anchor_regime="CHOP_BALANCED",
        candidate_regime=None,
        progress_current=0,
        last_commit_timestamp_ms=None,
    )
    data = SINGLE.for_type(hr.HysteresisStoreRecord).encode(record)
    with pytest.raises(DecodeError):
        run_codec.decode(data)
    assert SINGLE.decode_any(data) == record


def test_confluent_record_without_registry_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="no schema registry"):
        SINGLE.for_type(rl.EngineRunRecord).decode(b"\x00\x00\x00\x00\x07\x00")
