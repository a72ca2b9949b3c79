"""Producer and consumer settings with the right defaults; everything overridable by pass-through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, Producer

from xray_runtime.config import ServiceSettings

PRODUCER_DEFAULTS: dict[str, str] = {
    "enable.idempotence": "true",
    "acks": "all",
    # Java-compatible key hashing: a symbol lands on the same partition number in every topic.
    "partitioner": "murmur2_random",
    "compression.type": "lz4",
    # Transactions commit on a ~100 ms interval anyway; a short linger fills batches cheaply.
    "linger.ms": "10",
    # The next transaction's AddPartitionsToTxn / AddOffsetsToTxn is refused (CONCURRENT_TRANSACTIONS)
    # until the broker has written the previous commit's markers, and librdkafka retries it after
    # retry.backoff.ms (default 100): most transactions that produced output took ~100 ms longer to
    # commit. Measured (2026-12-06, orchestrator at 2,000 raw events/s): commit p90 108 -> 9 ms. The
    # Java client backs off 20 ms for exactly this; other retries back off exponentially from here
    # (up to retry.backoff.max.ms, 1 s).
    "retry.backoff.ms": "10",
    # Kafka Streams' EOS default: a dead instance's open transaction is aborted within 10 s,
    # so whoever takes over its partitions is not blocked behind the last stable offset for long.
    "transaction.timeout.ms": "10000",
}

CONSUMER_DEFAULTS: dict[str, str] = {
    "isolation.level": "read_committed",
    "enable.auto.commit": "false",
    "enable.auto.offset.store": "false",
    "auto.offset.reset": "earliest",
    # Co-partitioned inputs need the range assignor (same partition numbers to one member).
    "partition.assignment.strategy": "range",
    # Needed for "at log end" tracking (punctuate) and restore.
    "enable.partition.eof": "true",
    # A read_committed fetch waiting at the broker is not woken when a commit marker moves the last stable
    # offset: committed records then wait out fetch.wait.max.ms (default 500). Measured on the dev broker
    # (2026-12-06): visible after commit p90 149 ms / max 459 ms at 500, p90 4 ms / max 8 ms at 10. Every
    # transactional hop pays this, so keep it short; an idle consumer then fetches ~100 times a second.
    "fetch.wait.max.ms": "10",
}

# Used by the restore/reader consumer: no group, reads state topics read_committed.
READER_DEFAULTS: dict[str, str] = {
    "isolation.level": "read_committed",
    # A range starting below the low watermark (retention) starts at the first record still there.
    "auto.offset.reset": "earliest",
    "enable.auto.commit": "false",
    "enable.partition.eof": "true",
    "group.id": "xray-runtime-reader-unused",
    # As for CONSUMER_DEFAULTS: committed records would otherwise wait out the broker-side fetch wait
    # (the dashboard's live view reads through this config).
    "fetch.wait.max.ms": "10",
}


def transactional_id(settings: ServiceSettings, service: str) -> str:
    """Stable per instance, so a restarted instance fences its own zombie and aborts its open transaction."""
    return f"{settings.namespace}.{service}.{settings.instance_id}"


def group_id(settings: ServiceSettings, service: str) -> str:
    """One consumer group per service and namespace."""
    return f"{settings.namespace}.{service}"


def producer_config(settings: ServiceSettings, service: str, transactional: bool = True) -> dict[str, str]:
    """The producer's librdkafka properties (defaults < common pass-through < producer pass-through)."""
    props = dict(PRODUCER_DEFAULTS)
    props["client.id"] = f"{service}.{settings.instance_id}.producer"
    if transactional:
        props["transactional.id"] = transactional_id(settings, service)
    if settings.processing.statistics_interval_ms:
        props["statistics.interval.ms"] = str(settings.processing.statistics_interval_ms)
    props.update(settings.kafka.common_config())
    props.update(settings.kafka.producer_overrides())
    return props


def consumer_config(settings: ServiceSettings, service: str) -> dict[str, str]:
    """The group consumer's librdkafka properties."""
    props = dict(CONSUMER_DEFAULTS)
    props["group.id"] = group_id(settings, service)
    props["client.id"] = f"{service}.{settings.instance_id}.consumer"
    if settings.processing.static_membership:
        props["group.instance.id"] = transactional_id(settings, service)
    if settings.processing.statistics_interval_ms:
        props["statistics.interval.ms"] = str(settings.processing.statistics_interval_ms)
    props.update(settings.kafka.common_config())
    props.update(settings.kafka.consumer_overrides())
    return props


def reader_config(settings: ServiceSettings, service: str) -> dict[str, str]:
    """Properties of the group-less consumer that restores state and reads offset ranges."""
    props = dict(READER_DEFAULTS)
    props["client.id"] = f"{service}.{settings.instance_id}.reader"
    props.update(settings.kafka.common_config())
    props.update(settings.kafka.consumer_overrides())
    # The reader must never join the service's group or commit, whatever the overrides say.
    props["enable.auto.commit"] = "false"
    props["group.id"] = READER_DEFAULTS["group.id"]
    props.pop("group.instance.id", None)
    return props


def make_producer(props: dict[str, str], **callbacks: Callable[..., Any]) -> Producer:
    """A Producer from properties plus callbacks (stats_cb, error_cb, ...)."""
    return Producer({**props, **callbacks})


def make_consumer(props: dict[str, str], **callbacks: Callable[..., Any]) -> Consumer:
    """A Consumer from properties plus callbacks."""
    return Consumer({**props, **callbacks})
