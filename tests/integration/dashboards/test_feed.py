"""The dashboard's Kafka reader on a real broker: history read back, lag from the topics, bad records."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from consumers.dashboards import DashboardBuilder
from consumers.dashboards.feed import KafkaFeed
from consumers.dashboards.settings import DashboardSettings
from consumers.dashboards.testing import orchestrator, regime
from xray_contracts import catalogue
from xray_contracts.codec import codec_for, default_codecs
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_testing.topics import create_topics

pytestmark = pytest.mark.kafka

SYMBOLS = ("AAAUSDT", "BBBUSDT", "CCCUSDT")
RUNS = 10


def produce(bootstrap: str, namespace: str) -> None:
    codec = codec_for(OrchestratorEvent)
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    topic = catalogue.ORCHESTRATOR_EVENT.topic(namespace)
    for i in range(RUNS):
        for symbol in SYMBOLS:
            if symbol == "BBBUSDT" and i == RUNS - 2:
                producer.produce(topic, b"not avro", symbol.encode())  # a bad record, then two good ones
            event = orchestrator(
                "EngineRunCompleted",
                f"{symbol}-{i}",
                180_000 * (i + 1),
                output=regime(symbol=symbol),
                symbol=symbol,
            )
            producer.produce(topic, codec.encode(event), symbol.encode(), headers=list(codec.headers(event)))
    assert producer.flush(30) == 0


def feed_for(bootstrap: str, namespace: str, builder: DashboardBuilder, history: int) -> KafkaFeed:
    settings = DashboardSettings(kafka={"bootstrap_servers": bootstrap}, namespace=namespace)
    return KafkaFeed(
        settings,
        builder,
        default_codecs(),
        history_records=history,
        price_feed=False,
        price_history_records=0,
        price_bucket_ms=30_000,
    )


def read_until_caught_up(feed: KafkaFeed, builder: DashboardBuilder) -> None:
    deadline = time.monotonic() + 60
    while True:
        feed.poll(0.2)
        feed.report_positions()
        streams = {s.stream: s for s in builder.build_snapshot(as_of_ts_ms=0).telemetry.streams}
        if streams["orchestrator_event"].caught_up:
            return
        assert time.monotonic() < deadline, streams


def test_history_lag_and_a_bad_record(kafka_bootstrap: str, kafka_namespace: str) -> None:
    create_topics(AdminClient({"bootstrap.servers": kafka_bootstrap}), kafka_namespace, catalogue.ALL_TOPICS)
    produce(kafka_bootstrap, kafka_namespace)
    total = RUNS * len(SYMBOLS) + 1

    builder = DashboardBuilder()
    feed = feed_for(kafka_bootstrap, kafka_namespace, builder, history=10_000)
    try:
        deadline = time.monotonic() + 60
        feed.discover()
        while feed.missing_topics:  # a topic whose leaders were not elected yet is tried again
            assert time.monotonic() < deadline, feed.missing_topics
            time.sleep(0.5)
            feed.discover()
        feed.report_positions()
        before = {s.stream: s for s in builder.build_snapshot(as_of_ts_ms=0).telemetry.streams}
        assert before["orchestrator_event"].lag_records == total  # nothing consumed yet
        read_until_caught_up(feed, builder)
        dvm = builder.build_snapshot(as_of_ts_ms=int(time.time() * 1000))
    finally:
        feed.close()
    stream = {s.stream: s for s in dvm.telemetry.streams}["orchestrator_event"]
    assert (stream.lag_records, stream.caught_up) == (0, True)
    assert stream.events_ingested == total - 1
    assert (stream.failure_count, stream.last_failure_kind, stream.failing) == (1, "invalid_schema", False)
    assert stream.age_ms is not None
    assert stream.age_ms < 120_000
    assert [s.symbol for s in dvm.symbols] == list(SYMBOLS)
    assert all(s.last_run_id == f"{s.symbol}-{RUNS - 1}" for s in dvm.symbols)

    # A bounded history reads only the newest records of each partition.
    recent = DashboardBuilder()
    feed = feed_for(kafka_bootstrap, kafka_namespace, recent, history=2)
    try:
        read_until_caught_up(feed, recent)
    finally:
        feed.close()
    snapshot = recent.build_snapshot(as_of_ts_ms=0)
    assert {s.stream: s for s in snapshot.telemetry.streams}["orchestrator_event"].events_ingested == 2 * len(
        SYMBOLS
    )
    assert all(s.last_run_id == f"{s.symbol}-{RUNS - 1}" for s in snapshot.symbols)
