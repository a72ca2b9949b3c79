"""Create a namespace's topics from catalogue TopicSpecs (for tests; `xray topics create` is the tool)."""

from __future__ import annotations

from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from xray_contracts.catalogue import RAW_MARKET_EVENT, TopicSpec


def new_topic(spec: TopicSpec, namespace: str) -> NewTopic:
    """The admin request for one spec in one namespace (RF 1: test brokers have one node).

    The raw topic gets no time retention: raw records carry their receive time as the Kafka timestamp,
    and tests replay recordings and simulations older than the catalogue's 30 days, which the broker's
    next retention check would delete mid-test (as `xray replay` avoids with `replay_topics`).
    """
    config = {"cleanup.policy": spec.cleanup_policy, **spec.extra_config}
    retention = -1 if spec.name == RAW_MARKET_EVENT.name else spec.retention_ms
    if retention is not None:
        config["retention.ms"] = str(retention)
    return NewTopic(
        spec.topic(namespace), num_partitions=spec.partitions, replication_factor=1, config=config
    )


def create_topics(
    admin: AdminClient, namespace: str, specs: Iterable[TopicSpec], timeout_s: float = 30.0
) -> list[str]:
    """Create each spec's topic in `namespace` (existing ones are fine); return the physical names."""
    requests = [new_topic(spec, namespace) for spec in specs]
    if not requests:
        return []
    futures = admin.create_topics(requests, operation_timeout=timeout_s, request_timeout=timeout_s)
    for name, future in futures.items():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise RuntimeError(f"creating topic {name}: {exc}") from exc
    return [r.topic for r in requests]
