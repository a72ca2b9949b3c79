"""The session broker is real: transactions, read_committed isolation, namespaced topics, console tools."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from xray_contracts.catalogue import TopicSpec
from xray_testing.console_tools import console_consume
from xray_testing.namespaces import namespace_for
from xray_testing.topics import create_topics


def _read_all(bootstrap: str, topic: str, expected: int, isolation: str = "read_committed") -> list[bytes]:
    """Read `topic` from the start until `expected` values arrived or 30 s of polling passed."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"g-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "isolation.level": isolation,
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    values: list[bytes] = []
    try:
        for _ in range(60):
            for msg in consumer.consume(num_messages=500, timeout=0.5):
                assert msg.error() is None, msg.error()
                value = msg.value()
                assert isinstance(value, bytes)
                values.append(value)
            if len(values) >= expected:
                break
    finally:
        consumer.close()
    return values


def test_transactional_round_trip_read_committed(
    kafka_bootstrap: str, kafka_namespace: str, kafka_admin: AdminClient
) -> None:
    spec = TopicSpec(name="infra_probe", value_schema=None, cleanup_policy="delete")
    (topic,) = create_topics(kafka_admin, kafka_namespace, [spec])
    producer = Producer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "transactional.id": f"{kafka_namespace}-tx",
            "partitioner": "murmur2_random",
        }
    )
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, key=f"SYM{i % 3}", value=f"committed-{i}".encode())
    producer.commit_transaction(30)
    producer.begin_transaction()
    producer.produce(topic, key="SYM0", value=b"aborted")
    producer.flush(30)
    producer.abort_transaction(30)
    producer.begin_transaction()
    producer.produce(topic, key="SYM1", value=b"committed-last")
    producer.commit_transaction(30)

    committed = _read_all(kafka_bootstrap, topic, expected=11)
    assert sorted(committed) == sorted([f"committed-{i}".encode() for i in range(10)] + [b"committed-last"])
    # read_uncommitted does see the aborted record: the isolation above is real, not an accident
    assert b"aborted" in _read_all(kafka_bootstrap, topic, expected=12, isolation="read_uncommitted")


def test_create_topics_in_namespace(
    kafka_namespace: str,
    kafka_admin: AdminClient,
    kafka_create_topics: Callable[[Iterable[TopicSpec]], list[str]],
) -> None:
    specs = [
        TopicSpec(name="a_events", value_schema=None, cleanup_policy="delete", retention_ms=3_600_000),
        TopicSpec(name="a.state", value_schema=None, cleanup_policy="compact", partitions=3),
    ]
    names = kafka_create_topics(specs)
    assert names == [f"{kafka_namespace}.a_events.v1", f"{kafka_namespace}.a.state.v1"]
    assert kafka_create_topics(specs) == names  # idempotent
    metadata = kafka_admin.list_topics(timeout=30)
    assert len(metadata.topics[names[0]].partitions) == 6
    assert len(metadata.topics[names[1]].partitions) == 3


def test_namespaces_differ_between_tests(kafka_namespace: str) -> None:
    # a second namespace drawn for the same test name is still different
    assert kafka_namespace.startswith("t-namespaces-differ-between-tests-")
    assert namespace_for("test_namespaces_differ_between_tests") != kafka_namespace


def test_console_consumer_reads_committed_records(
    kafka_bootstrap: str, kafka_namespace: str, kafka_admin: AdminClient
) -> None:
    spec = TopicSpec(name="console", value_schema=None, cleanup_policy="delete", partitions=1)
    (topic,) = create_topics(kafka_admin, kafka_namespace, [spec])
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(topic, key="BTCUSDT", value=b"hello-console", headers=[("schema", b"Probe")])
    assert producer.flush(30) == 0
    result = console_consume(
        kafka_bootstrap, topic, max_messages=1, extra=["--property", "print.headers=true"]
    )
    assert result.returncode == 0, result.stderr
    assert "schema:Probe" in result.stdout
    assert "hello-console" in result.stdout
