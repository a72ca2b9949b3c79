"""Is a broker really usable? A produce→consume round trip, not just an open port."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

PROBE_TOPIC = "_xray_broker_probe"

_quiet = logging.getLogger("xray_testing.librdkafka")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False  # connection-refused chatter while a broker boots is expected, not news


class BrokerNotReadyError(RuntimeError):
    """The broker did not complete a produce→consume round trip in time."""


def client_config(bootstrap: str, **extra: Any) -> dict[str, Any]:
    """librdkafka settings for a short-lived probe client."""
    return {
        "bootstrap.servers": bootstrap,
        "logger": _quiet,
        "socket.connection.setup.timeout.ms": 3000,
        **extra,
    }


def is_answering(bootstrap: str, timeout_s: float = 3.0) -> bool:
    """True when the bootstrap servers return cluster metadata within the timeout."""
    try:
        AdminClient(client_config(bootstrap)).list_topics(timeout=timeout_s)
    except KafkaException:
        return False
    return True


def _ensure_probe_topic(admin: AdminClient, timeout_s: float) -> None:
    """Create the one-partition probe topic unless it is already there."""
    futures = admin.create_topics(
        [NewTopic(PROBE_TOPIC, num_partitions=1, replication_factor=1)],
        operation_timeout=timeout_s,
        request_timeout=timeout_s,
    )
    try:
        futures[PROBE_TOPIC].result(timeout=timeout_s)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise


def round_trip(bootstrap: str, timeout_s: float = 15.0) -> None:
    """Produce one unique record and read it back; raise BrokerNotReadyError when that fails."""
    deadline = time.monotonic() + timeout_s
    try:
        _ensure_probe_topic(AdminClient(client_config(bootstrap)), timeout_s)
        token = uuid.uuid4().bytes
        delivered: list[Message] = []
        producer = Producer(
            client_config(bootstrap, acks="all", **{"message.timeout.ms": int(timeout_s * 1000)})
        )
        producer.produce(PROBE_TOPIC, value=token, on_delivery=lambda err, msg: delivered.append(msg))
        producer.flush(max(0.1, deadline - time.monotonic()))
    except KafkaException as exc:
        raise BrokerNotReadyError(f"{bootstrap}: {exc}") from exc
    if not delivered or delivered[0].error() is not None:
        why = delivered[0].error() if delivered else "no delivery report"
        raise BrokerNotReadyError(f"{bootstrap}: produce failed: {why}")
    partition, offset = delivered[0].partition(), delivered[0].offset()
    consumer = Consumer(
        client_config(bootstrap, **{"group.id": "xray-broker-probe", "enable.auto.commit": False})
    )
    try:
        consumer.assign(
            [
                TopicPartition(
                    PROBE_TOPIC,
                    partition if partition is not None else 0,
                    offset if offset is not None else 0,
                )
            ]
        )
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None and msg.value() == token:
                return
    finally:
        consumer.close()
    raise BrokerNotReadyError(f"{bootstrap}: produced a record but did not read it back in {timeout_s}s")


def wait_until_ready(
    bootstrap: str,
    timeout_s: float,
    still_alive: Callable[[], bool] = lambda: True,
    attempt_timeout_s: float = 10.0,
) -> None:
    """Retry round_trip until it succeeds; fail fast when `still_alive` says the broker process died."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        if not still_alive():
            raise BrokerNotReadyError(
                f"{bootstrap}: broker process exited during start-up (last error: {last})"
            )
        if is_answering(bootstrap, timeout_s=2.0):
            try:
                round_trip(bootstrap, timeout_s=min(attempt_timeout_s, max(1.0, deadline - time.monotonic())))
                return
            except BrokerNotReadyError as exc:
                last = exc
        time.sleep(0.5)
    raise BrokerNotReadyError(f"{bootstrap}: no round trip within {timeout_s}s (last error: {last})")
