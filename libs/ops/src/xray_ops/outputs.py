"""Read a namespace's topics back: decoded values, and per-topic digests that ignore wall-clock fields.

Two replays of the same input must give identical output topics. "Identical" compares, partition by
partition in offset order, each record's key, headers and decoded value with the wall-clock fields
masked (the schemas document them as non-reproducible: publish, plan, start and completion times and the
hysteresis commit time). Kafka record timestamps are not compared (producers stamp them at send time).
Header values that name a topic are compared with the namespace replaced, so two namespaces can match.
Compacted state topics are compared on their compacted view (last record per key), which does not
depend on whether the log cleaner has run yet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import orjson
from xray_contracts import catalogue
from xray_contracts.catalogue import TopicSpec
from xray_contracts.codec import CodecSet, DecodeError, default_codecs
from xray_contracts.plain import to_plain
from xray_runtime.reader import PartitionReader

# Wall-clock fields of the contracts ("non-authoritative"/"diagnostic" in schemas/*.avsc).
MASKED_FIELDS: Final = frozenset(
    {"published_ts_ms", "planned_ts_ms", "started_ts_ms", "completed_ts_ms", "last_commit_timestamp_ms"}
)
MASK: Final = "<masked>"
NAMESPACE_MARK: Final = "<ns>"


@dataclass(frozen=True, slots=True)
class TopicRecord:
    """One record as compared: where it sits, its key, headers and masked plain value."""

    partition: int
    key: str | None
    headers: tuple[tuple[str, str | None], ...]
    value: Any


@dataclass(frozen=True, slots=True)
class TopicDigest:
    """Record count and sha256 over the masked records of one topic."""

    topic: str
    records: int
    sha256: str


def mask(value: Any) -> Any:
    """A copy of plain data with every wall-clock field replaced by a marker."""
    if isinstance(value, dict):
        return {k: (MASK if k in MASKED_FIELDS and v is not None else mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def _header_text(raw: bytes | None, namespace: str) -> str | None:
    if raw is None:
        return None
    return raw.decode("utf-8", "backslashreplace").replace(f"{namespace}.", f"{NAMESPACE_MARK}.")


def read_messages(bootstrap: str, topic: str, partitions: int) -> Iterator[Any]:
    """Every committed record of a topic, partition by partition, each in offset order.

    One partition at a time: a reader assigned several partitions interleaves them in fetch order,
    which differs from run to run, and the digests must not depend on it.
    """
    reader = PartitionReader({"bootstrap.servers": bootstrap})
    try:
        for partition in range(partitions):
            yield from reader.read_to_end(topic, [partition])
    finally:
        reader.close()


def topic_records(
    bootstrap: str, namespace: str, spec: TopicSpec, codecs: CodecSet | None = None
) -> Iterator[TopicRecord]:
    """The masked records of one catalogue topic (undecodable values as base64 with the error)."""
    codecs = codecs or default_codecs()
    codec = codecs.for_topic(spec) if spec.value_schema is not None else None
    for msg in read_messages(bootstrap, spec.topic(namespace), spec.partitions):
        raw = msg.value()
        value: Any
        if raw is None:
            value = None
        elif codec is None:
            value = {"bytes": to_plain(bytes(raw))}
        else:
            try:
                value = mask(to_plain(codec.decode(raw)))
            except DecodeError as exc:
                value = {"undecodable": to_plain(bytes(raw)), "error": str(exc)}
        key = msg.key()
        yield TopicRecord(
            partition=int(msg.partition()),
            key=None if key is None else key.decode("utf-8", "backslashreplace"),
            headers=tuple((k, _header_text(v, namespace)) for k, v in msg.headers() or []),
            value=value,
        )


def digest(bootstrap: str, namespace: str, spec: TopicSpec) -> TopicDigest:
    """The masked digest of one topic (the raw input topic is hashed over its value bytes)."""
    sha = hashlib.sha256()
    count = 0
    if spec is catalogue.RAW_MARKET_EVENT:
        for msg in read_messages(bootstrap, spec.topic(namespace), spec.partitions):
            key = msg.key() or b""
            value = msg.value() or b""
            sha.update(b"%d|%d|%d|" % (msg.partition(), len(key), len(value)) + key + value)
            count += 1
    else:
        records: Iterable[TopicRecord] = topic_records(bootstrap, namespace, spec)
        if spec.cleanup_policy == "compact":
            records = latest_per_key(records)
        for record in records:
            line = orjson.dumps(
                [record.partition, record.key, record.headers, record.value], option=orjson.OPT_SORT_KEYS
            )
            sha.update(line + b"\n")
            count += 1
    return TopicDigest(spec.name, count, sha.hexdigest())


def latest_per_key(records: Iterable[TopicRecord]) -> list[TopicRecord]:
    """The compacted view: the last record of each (partition, key), ordered by partition and key.

    The log cleaner may or may not have compacted a state topic when it is read, so two equal runs are
    compared on what compaction keeps in any case (tombstones included, as the last word on a key).
    """
    latest: dict[tuple[int, str | None], TopicRecord] = {}
    for record in records:
        latest[(record.partition, record.key)] = record
    return [latest[k] for k in sorted(latest, key=lambda k: (k[0], k[1] or ""))]


def decoded_values(bootstrap: str, namespace: str, spec: TopicSpec) -> list[Any]:
    """Every committed value of a contract topic, decoded (tombstones skipped)."""
    codec = default_codecs().for_topic(spec)
    return [
        codec.decode(msg.value())
        for msg in read_messages(bootstrap, spec.topic(namespace), spec.partitions)
        if msg.value() is not None
    ]


def raw_counts(bootstrap: str, namespace: str) -> tuple[dict[str, int], dict[str, int]]:
    """Raw events per symbol (record key) and per `event_type` header, without decoding values."""
    by_symbol: dict[str, int] = {}
    by_type: dict[str, int] = {}
    spec = catalogue.RAW_MARKET_EVENT
    for msg in read_messages(bootstrap, spec.topic(namespace), spec.partitions):
        key = msg.key()
        symbol = "" if key is None else key.decode("utf-8", "backslashreplace")
        by_symbol[symbol] = by_symbol.get(symbol, 0) + 1
        event_type = dict(msg.headers() or []).get("event_type")
        name = "" if event_type is None else event_type.decode("utf-8", "backslashreplace")
        by_type[name] = by_type.get(name, 0) + 1
    return by_symbol, by_type
