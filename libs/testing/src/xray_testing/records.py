"""Write records and read topics back committed, for tests and benchmarks on a real broker.

`produce_recorded` returns where each record landed (partition, offset), so a test can name exactly
which source record a DLQ entry must point to; `read_committed` returns what a read_committed consumer
sees, partition by partition in offset order, headers included.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaError, Message, Producer
from xray_runtime.reader import PartitionReader

Headers = list[tuple[str, bytes | None]]


@dataclass(frozen=True, slots=True)
class Row:
    """One record as stored: where it is, its key, value and headers."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers

    def header(self, name: str) -> bytes | None:
        """The last value of header `name` (None when absent)."""
        found = [v for k, v in self.headers if k == name]
        return found[-1] if found else None


def _headers_of(msg: Message) -> Headers:
    raw = msg.headers() or []
    items = list(raw.items()) if isinstance(raw, dict) else raw
    return [(str(k), v if isinstance(v, bytes) or v is None else str(v).encode()) for k, v in items]


def read_committed(bootstrap: str, topic: str, partitions: int) -> list[Row]:
    """Every committed record of a topic's first `partitions` partitions, partition by partition."""
    reader = PartitionReader({"bootstrap.servers": bootstrap})
    try:
        return [
            Row(msg.partition() or 0, msg.offset() or 0, msg.key(), msg.value(), _headers_of(msg))
            for msg in reader.read_to_end(topic, list(range(partitions)))
        ]
    finally:
        reader.close()


def produce_recorded(
    bootstrap: str,
    topic: str,
    records: Iterable[tuple[bytes | None, bytes | None]],
    headers: Sequence[tuple[str, bytes]] = (),
) -> list[Row]:
    """Write (key, value) records with the Java-compatible partitioner; return each one's Row, in order."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "enable.idempotence": True, "partitioner": "murmur2_random"}
    )
    placed: list[Row | None] = []
    errors: list[str] = []

    def delivered(
        index: int, key: bytes | None, value: bytes | None
    ) -> Callable[[KafkaError | None, Message], None]:
        def callback(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                errors.append(str(err))
                return
            placed[index] = Row(msg.partition() or 0, msg.offset() or 0, key, value, list(headers))

        return callback

    for key, value in records:
        placed.append(None)
        producer.produce(
            topic, value, key, headers=list(headers), on_delivery=delivered(len(placed) - 1, key, value)
        )
        producer.poll(0)
    remaining = producer.flush(60)
    if remaining or errors or any(p is None for p in placed):
        raise RuntimeError(f"producing to {topic}: {remaining} undelivered, errors {errors[:3]}")
    return [p for p in placed if p is not None]


def wait_committed(
    bootstrap: str,
    topic: str,
    partitions: int,
    count: int,
    *,
    check: Callable[[], None] = lambda: None,
    timeout_s: float = 120.0,
    poll_s: float = 0.5,
) -> list[Row]:
    """Block until `topic` holds at least `count` committed records; `check()` may raise (a dead service)."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = read_committed(bootstrap, topic, partitions)
        if len(rows) >= count:
            return rows
        check()
        if time.monotonic() > deadline:
            raise AssertionError(f"{topic}: {len(rows)} committed records, expected {count}")
        time.sleep(poll_s)


class WatermarkGauge:
    """Cheap progress: the sum of a topic's high watermarks (aborted records and markers included).

    Keeps answering while the broker is down or restarting: it then returns the last value it read.
    """

    def __init__(self, bootstrap: str) -> None:
        from confluent_kafka import Consumer

        self._consumer = Consumer(
            # log_level 2: no "connection refused" lines while a chaos test has the broker down
            {"bootstrap.servers": bootstrap, "group.id": "xray-testing-watermarks-unused", "log_level": 2}
        )
        self._last: dict[str, int] = {}

    def total(self, topic: str, partitions: int, timeout_s: float = 2.0) -> int:
        """Sum of high watermarks now (or the last known sum when the broker does not answer)."""
        from confluent_kafka import KafkaException, TopicPartition

        try:
            total = 0
            for p in range(partitions):
                _, high = self._consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)
                total += high
        except KafkaException:
            return self._last.get(topic, 0)
        self._last[topic] = total
        return total

    def close(self) -> None:
        """Close the consumer."""
        self._consumer.close()
