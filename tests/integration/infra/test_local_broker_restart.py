"""A LocalBroker killed with SIGKILL comes back as the same broker: same address, same data."""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from xray_contracts.catalogue import TopicSpec
from xray_testing.broker_probe import is_answering
from xray_testing.local_broker import LocalBroker
from xray_testing.topics import create_topics


def _read_one(bootstrap: str, topic: str) -> bytes | None:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"g-{uuid.uuid4().hex}", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    try:
        for _ in range(60):
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                value = msg.value()
                assert isinstance(value, bytes)
                return value
    finally:
        consumer.close()
    return None


def test_kill_and_restart_keeps_data(private_local_broker: LocalBroker) -> None:
    broker = private_local_broker
    bootstrap = broker.bootstrap
    spec = TopicSpec(name="durable", value_schema=None, cleanup_policy="delete", partitions=1)
    (topic,) = create_topics(AdminClient({"bootstrap.servers": bootstrap}), "chaos", [spec])
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    producer.produce(topic, key="ETHUSDT", value=b"before-the-crash")
    assert producer.flush(30) == 0

    first_pid = broker.pid
    assert first_pid is not None
    broker.kill()
    assert not broker.is_running()
    assert broker.pid is None
    assert not is_answering(bootstrap, timeout_s=2.0)  # really down, not just forgotten

    assert broker.start() == bootstrap
    assert broker.pid not in (None, first_pid)
    assert _read_one(bootstrap, topic) == b"before-the-crash"
