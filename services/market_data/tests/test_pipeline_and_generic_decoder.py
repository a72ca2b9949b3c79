"""Pipeline, backpressure accounting and the generic decoder (fact-sheet behaviours 1-25, 57-63)."""

from __future__ import annotations

import dataclasses

import pytest
from market_data.config import BackpressureConfig, MarketDataConfig
from market_data.contracts import EVENT_TYPES, REQUIRED_NORMALIZED_KEYS, BackpressureError, RawMarketEvent
from market_data.decoder import decode_and_ingest
from market_data.testing import CapturingLogger, CapturingMetrics, RecordingSink, make_pipeline
from market_data.testing_fuzz import CANONICAL_PAYLOADS
from pydantic import ValidationError

MINIMAL = CANONICAL_PAYLOADS


def ingest(payload: bytes, event_type: str = "TradeTick", **kw: object) -> RawMarketEvent:
    pipeline = make_pipeline()
    return decode_and_ingest(
        pipeline=pipeline,
        event_type=event_type,
        source_id="s",
        symbol="SYM",
        exchange_ts_ms=7,
        raw_payload=payload,
        **kw,  # type: ignore[arg-type]
    )


def test_registry_is_the_required_key_table() -> None:
    assert (
        set(EVENT_TYPES)
        == set(REQUIRED_NORMALIZED_KEYS)
        == {
            "TradeTick",
            "BookTop",
            "BookDelta",
            "Candle",
            "FundingRate",
            "OpenInterest",
            "MarkPrice",
            "IndexPrice",
            "LiquidationPrint",
            "SnapshotInputs",
            "DecodeFailure",
        }
    )


@pytest.mark.parametrize("event_type", sorted(MINIMAL))
def test_minimal_payload_of_each_type(event_type: str) -> None:
    event = ingest(MINIMAL[event_type], event_type)
    assert event.event_type == event_type
    assert (event.schema, event.schema_version, event.recv_ts_ms) == ("raw_market_event", "1", 500)
    assert event.raw_payload == MINIMAL[event_type]
    assert set(REQUIRED_NORMALIZED_KEYS[event_type]) <= set(event.normalized)


def test_event_is_frozen() -> None:
    event = ingest(MINIMAL["TradeTick"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.symbol = "X"  # type: ignore[misc]


def test_candle_without_is_final_and_numbers_as_floats() -> None:
    event = ingest(MINIMAL["Candle"], "Candle")
    assert event.normalized["is_final"] is None
    assert event.normalized["interval_ms"] == 60000
    assert event.normalized["volume"] == 10.0
    assert type(event.normalized["volume"]) is float


def test_trade_tick_parsing() -> None:
    event = ingest(b'{"price":"1.2","quantity":"3","side":"BUY"}')
    assert event.normalized == {"price": 1.2, "quantity": 3.0, "side": "buy"}


@pytest.mark.parametrize(
    ("payload", "event_type", "kind", "detail"),
    [
        (b'{"price":1.2}', "TradeTick", "missing_required_field", "missing quantity"),
        (b'{"price":"bad","quantity":1}', "TradeTick", "parse_error", "invalid price"),
        (b'{"price":"nan","quantity":1}', "TradeTick", "parse_error", "invalid price"),
        (b'{"price":true,"quantity":1}', "TradeTick", "parse_error", "invalid price"),
        (b"[1]", "TradeTick", "schema_mismatch", "payload must be an object"),
        (b'{"price":1,"quantity":1,"side":"long"}', "TradeTick", "parse_error", "invalid side"),
        (b'{"price":1}', "Nope", "schema_mismatch", "unsupported event_type"),
        (b'{"price":1}', "DecodeFailure", "schema_mismatch", "unsupported event_type"),
        (
            b'{"open":1,"high":1,"low":1,"close":1,"volume":1,"interval_ms":1.5}',
            "Candle",
            "parse_error",
            "invalid interval_ms",
        ),
        (b'{"bids":[[1,2,3]],"asks":[]}', "BookDelta", "parse_error", "invalid bids"),
        (b'{"bids":[[1,"x"]],"asks":[]}', "BookDelta", "parse_error", "invalid bids.quantity"),
        (b'{"timestamp_ms":1,"market":[1]}', "SnapshotInputs", "parse_error", "invalid market"),
    ],
)
def test_generic_failures(payload: bytes, event_type: str, kind: str, detail: str) -> None:
    event = ingest(payload, event_type)
    assert event.event_type == "DecodeFailure"
    assert dict(event.normalized) == {"error_kind": kind, "error_detail": detail}
    assert event.raw_payload == payload


def test_bad_json_and_bad_utf8_are_decode_errors() -> None:
    for payload in (b"{bad-json}", b"\xff\xfe"):
        sink = RecordingSink()
        pipeline = make_pipeline(sink)
        event = decode_and_ingest(
            pipeline=pipeline,
            event_type="TradeTick",
            source_id="s",
            symbol="S",
            exchange_ts_ms=None,
            raw_payload=payload,
        )
        assert event.normalized["error_kind"] == "decode_error"
        assert sink.events == [event]
        assert event.raw_payload == payload


def test_content_type_rules() -> None:
    assert ingest(b"{}", payload_content_type="application/x-protobuf").normalized == {
        "error_kind": "decode_error",
        "error_detail": "unsupported content type",
    }
    assert ingest(MINIMAL["TradeTick"], payload_content_type=None).event_type == "TradeTick"


def test_failure_keeps_the_callers_envelope() -> None:
    event = ingest(
        b"{x",
        channel="c",
        source_event_id="e",
        source_seq=3,
        payload_content_type="application/json",
        payload_hash="h",
    )
    assert (event.exchange_ts_ms, event.channel, event.source_event_id, event.source_seq) == (7, "c", "e", 3)
    assert (event.payload_content_type, event.payload_hash) == ("application/json", "h")


def test_candle_interval_and_bool_strings() -> None:
    payload = b'{"open":1,"high":1,"low":1,"close":1,"volume":1,"interval_ms":"180000","is_final":"TRUE"}'
    event = ingest(payload, "Candle")
    assert event.normalized["interval_ms"] == 180000
    assert event.normalized["is_final"] is True


def test_snapshot_inputs_subobjects() -> None:
    event = ingest(b'{"timestamp_ms":5,"market":null,"flow":{"cvd":1},"other":1}', "SnapshotInputs")
    assert dict(event.normalized) == {"timestamp_ms": 5, "flow": {"cvd": 1}}


def test_ingest_validation_writes_nothing() -> None:
    sink = RecordingSink()
    pipeline = make_pipeline(sink)
    with pytest.raises(ValueError, match="missing normalized keys for TradeTick: quantity, side"):
        pipeline.ingest(
            event_type="TradeTick",
            source_id="s",
            symbol="S",
            exchange_ts_ms=None,
            raw_payload=b"",
            normalized={"price": 1.0},
        )
    with pytest.raises(ValueError, match="unsupported event_type: Nope"):
        pipeline.ingest(
            event_type="Nope", source_id="s", symbol="S", exchange_ts_ms=None, raw_payload=b"", normalized={}
        )
    assert sink.events == []
    extra = pipeline.ingest(
        event_type="MarkPrice",
        source_id="s",
        symbol="S",
        exchange_ts_ms=None,
        raw_payload=b"",
        normalized={"mark_price": 1.0, "more": 2},
    )
    assert extra.normalized["more"] == 2


def test_ingest_stamps_once_and_writes_once() -> None:
    sink = RecordingSink()
    event = make_pipeline(sink, clock_value=123).ingest(
        event_type="MarkPrice",
        source_id="s",
        symbol="S",
        exchange_ts_ms=None,
        raw_payload=b"",
        normalized={"mark_price": 1.0},
    )
    assert event.recv_ts_ms == 123
    assert sink.events == [event]


def test_block_and_fail_policies_reach_the_sink() -> None:
    sink = RecordingSink()
    ingest_args = {
        "event_type": "MarkPrice",
        "source_id": "s",
        "symbol": "S",
        "exchange_ts_ms": None,
        "raw_payload": b"",
        "normalized": {"mark_price": 1.0},
    }
    make_pipeline(sink, policy="block", max_block_ms=50).ingest(**ingest_args)  # type: ignore[arg-type]
    make_pipeline(sink, policy="fail").ingest(**ingest_args)  # type: ignore[arg-type]
    assert sink.calls == [(True, 50), (False, 0)]


class RefusingSink:
    def write(self, event: RawMarketEvent, *, block: bool, timeout_ms: int | None) -> None:
        raise BackpressureError("full")


def test_backpressure_is_counted_logged_and_reraised() -> None:
    metrics, logger = CapturingMetrics(), CapturingLogger()
    pipeline = make_pipeline(RefusingSink(), policy="fail", metrics=metrics, logger=logger)
    with pytest.raises(BackpressureError):
        pipeline.ingest(
            event_type="MarkPrice",
            source_id="s",
            symbol="S",
            exchange_ts_ms=1,
            raw_payload=b"",
            normalized={"mark_price": 1.0},
        )
    assert metrics.names("increment") == ["market_data.backpressure.count"]
    assert "market_data.backpressure.blocked_ms" in metrics.names("observe")
    assert [m for _, m, _ in logger.records] == ["market_data.backpressure"]


def test_observability_of_events_and_failures() -> None:
    metrics, logger = CapturingMetrics(), CapturingLogger()
    pipeline = make_pipeline(metrics=metrics, logger=logger, clock_value=10)
    decode_and_ingest(
        pipeline=pipeline,
        event_type="TradeTick",
        source_id="s",
        symbol="S",
        exchange_ts_ms=4,
        raw_payload=MINIMAL["TradeTick"],
    )
    decode_and_ingest(
        pipeline=pipeline,
        event_type="TradeTick",
        source_id="s",
        symbol="S",
        exchange_ts_ms=None,
        raw_payload=b"{",
    )
    assert [m for _, m, _ in logger.records] == ["market_data.event", "market_data.decode_failure"]
    event_fields = logger.records[0][2]
    assert {"source_id", "symbol", "event_type", "exchange_ts_ms", "recv_ts_ms"} <= set(event_fields)
    assert {"error_kind", "error_detail"} <= set(logger.records[1][2])
    latency = [c for c in metrics.calls if c[1] == "market_data.exchange_to_recv.latency_ms"]
    assert [c[2] for c in latency] == [6]
    assert metrics.names("increment") == ["market_data.events.count", "market_data.decode_failures.count"]


def test_config_validation() -> None:
    limits = {
        "connect_timeout_ms": 1,
        "read_timeout_ms": 1,
        "retry": {"min_delay_ms": 1, "max_delay_ms": 1, "max_attempts": 1},
        "backpressure": {"policy": "block", "max_pending": 1},
    }
    source = {"source_id": "a", "symbol_map": {"x": "X"}, "channels": ["trades"], "limits": limits}
    MarketDataConfig(sources=[source])
    bad_cases = [
        {"sources": []},
        {"sources": [source, source]},
        {"sources": [{**source, "symbol_map": {}}]},
        {"sources": [{**source, "channels": []}]},
        {
            "sources": [
                {
                    **source,
                    "limits": {**limits, "retry": {"min_delay_ms": 5, "max_delay_ms": 1, "max_attempts": 1}},
                }
            ]
        },
        {"sources": [{**source, "limits": {**limits, "backpressure": {"policy": "drop", "max_pending": 1}}}]},
    ]
    for case in bad_cases:
        with pytest.raises(ValidationError):
            MarketDataConfig.model_validate(case)
    with pytest.raises(ValueError, match="greater than 0"):
        BackpressureConfig(policy="block", max_pending=0)
