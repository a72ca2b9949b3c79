"""`xray topics create|describe` and `xray tail` against a real broker."""

from __future__ import annotations

import json

import orjson
import pytest
from click.testing import CliRunner
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from xray_cli.main import _load_subcommands, cli
from xray_contracts import catalogue
from xray_contracts.codec import codec_for
from xray_contracts.orchestrator_event import (
    HysteresisDebug,
    HysteresisState,
    OrchestratorEvent,
    OrchestratorPayload,
    RegimeOutput,
)
from xray_contracts.plain import from_plain
from xray_contracts.raw_market_event import RawMarketEvent
from xray_runtime.topics import TopicMismatchError, delete_namespace, ensure_topics

_load_subcommands(cli)


def xray(*args: str) -> str:
    """Run the `xray` command in-process; fail the test on a non-zero exit."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_topics_create_is_idempotent_and_describe_shows_the_catalogue(
    kafka_bootstrap: str, kafka_namespace: str
) -> None:
    common = ("--bootstrap", kafka_bootstrap, "--namespace", kafka_namespace)
    first = xray("topics", "create", *common)
    assert f"{len(catalogue.ALL_TOPICS)} created" in first
    second = xray("topics", "create", *common)
    assert "0 created" in second
    rows = [json.loads(line) for line in xray("topics", "describe", "--json", *common).splitlines()]
    by_name = {row["name"]: row for row in rows}
    assert set(by_name) == {s.name for s in catalogue.ALL_TOPICS}
    for spec in catalogue.ALL_TOPICS:
        row = by_name[spec.name]
        assert row["topic"] == spec.topic(kafka_namespace)
        assert row["exists"], row
        assert row["ok"], row
        assert row["partitions"] == spec.partitions
        assert row["cleanup.policy"] == spec.cleanup_policy
    assert by_name["orchestrator.hysteresis_state"]["cleanup.policy"] == "compact"
    assert by_name["raw_market_event"]["retention.ms"] == str(catalogue.LONG_RETENTION_MS)


def test_tail_prints_records_that_round_trip_to_the_contract(
    kafka_bootstrap: str, kafka_namespace: str
) -> None:
    common = ("--bootstrap", kafka_bootstrap, "--namespace", kafka_namespace)
    xray("topics", "create", *common)
    raw = RawMarketEvent(
        schema="raw_market_event",
        schema_version="1",
        event_type="BookDelta",
        source_id="binance",
        symbol="ETHUSDT",
        exchange_ts_ms=1_700_000_000_000,
        recv_ts_ms=1_700_000_000_123,
        raw_payload=b'{"e":"depthUpdate"}\xff',
        normalized={"bids": [[1.5, 2.0]], "asks": [], "U": 7},
        channel="depth",
    )
    event = OrchestratorEvent(
        schema="orchestrator_event",
        schema_version="1",
        event_type="EngineRunCompleted",
        run_id="r1",
        symbol="ETHUSDT",
        engine_timestamp_ms=180_000,
        cut_start_ingest_seq=0,
        cut_end_ingest_seq=9,
        cut_kind="boundary",
        engine_mode="hysteresis",
        attempt=1,
        counts_by_event_type={"BookDelta": 1},
        payload=OrchestratorPayload(
            regime_output=RegimeOutput(
                symbol="ETHUSDT",
                timestamp=180_000,
                regime="CHOP_BALANCED",
                confidence=0.5,
                drivers=("composer:x",),
                invalidations=(),
                permissions=("observe",),
                belief_by_regime={"CHOP_BALANCED": 1.0},
            ),
            hysteresis_state=HysteresisState(
                schema="hysteresis_state",
                schema_version="1",
                symbol="ETHUSDT",
                engine_timestamp_ms=180_000,
                anchor_regime="CHOP_BALANCED",
                candidate_regime=None,
                progress_current=0,
                progress_required=3,
                last_commit_timestamp_ms=None,
                reason_codes=("CANDIDATE_NONE",),
                debug=HysteresisDebug(belief_by_regime={"CHOP_BALANCED": 1.0}),
            ),
        ),
    )
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random"})
    for spec, value in ((catalogue.RAW_MARKET_EVENT, raw), (catalogue.ORCHESTRATOR_EVENT, event)):
        codec = codec_for(type(value))
        producer.produce(
            spec.topic(kafka_namespace),
            key=b"ETHUSDT",
            value=codec.encode(value),
            headers=codec.headers(value),
        )
    producer.produce(catalogue.RAW_MARKET_EVENT.topic(kafka_namespace), key=b"ETHUSDT", value=b"garbage")
    assert producer.flush(30) == 0

    tail = ("tail", "--from-beginning", "--timeout", "20", *common)
    lines = xray(*tail, "raw_market_event", "--max", "2").splitlines()
    records = [orjson.loads(line) for line in lines]
    assert len(records) == 2
    good = [r for r in records if r["value"] is not None]
    bad = [r for r in records if r["value"] is None]
    assert len(good) == 1
    assert len(bad) == 1
    assert good[0]["headers"] == {
        "schema": "raw_market_event",
        "schema_version": "1",
        "event_type": "BookDelta",
    }
    assert from_plain(RawMarketEvent, good[0]["value"]) == raw
    assert bad[0]["error"]
    assert bad[0]["value_base64"] == "Z2FyYmFnZQ=="

    physical = catalogue.ORCHESTRATOR_EVENT.topic(kafka_namespace)
    (line,) = xray(*tail, physical, "--max", "1", "--event-type", "EngineRunCompleted").splitlines()
    assert from_plain(OrchestratorEvent, orjson.loads(line)["value"]) == event


def test_ensure_topics_refuses_a_topic_that_differs_from_the_catalogue(
    kafka_bootstrap: str, kafka_namespace: str
) -> None:
    spec = catalogue.ORCHESTRATOR_HYSTERESIS_STATE
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    wrong = NewTopic(spec.topic(kafka_namespace), num_partitions=2, replication_factor=-1)
    for future in admin.create_topics([wrong]).values():
        future.result(timeout=30)
    with pytest.raises(TopicMismatchError, match=r"2 partitions.*\n.*cleanup.policy=delete"):
        ensure_topics(kafka_bootstrap, kafka_namespace, [spec])
    assert delete_namespace(kafka_bootstrap, kafka_namespace) == [spec.topic(kafka_namespace)]
