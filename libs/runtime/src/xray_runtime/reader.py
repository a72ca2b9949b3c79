"""Read topic partitions outside the consumer group, read_committed: state restore and history rebuilds."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import cast

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, TopicPartition

from xray_runtime.logs import get_logger

_log = get_logger("xray.runtime.reader")

_TRANSIENT = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._TIMED_OUT,
        KafkaError._TRANSPORT,
    }
)


@dataclass(frozen=True, slots=True)
class OffsetRange:
    """Offsets [start, end) of one topic partition."""

    topic: str
    partition: int
    start: int
    end: int


class PartitionReader:
    """Reads offset ranges of topic partitions with a group-less read_committed consumer.

    `stable_end()` waits until a partition has no open transaction (last stable offset equals the
    high watermark), so a restore never misses records whose commit markers are still being written
    by the previous owner's transaction coordinator.
    """

    def __init__(self, committed_props: dict[str, str], timeout_s: float = 10.0, stable_wait_s: float = 30.0):
        # Group-less: the group id is required by librdkafka but never joined or committed to.
        props = {"auto.offset.reset": "earliest", "group.id": "xray-runtime-reader-unused", **committed_props}
        self._consumer = Consumer({**props, "isolation.level": "read_committed"})
        self._uncommitted = Consumer({**props, "isolation.level": "read_uncommitted"})
        self._timeout_s = timeout_s
        self._stable_wait_s = stable_wait_s

    def watermarks(self, topic: str, partition: int) -> tuple[int, int]:
        """(low, last stable offset) of a partition as a read_committed reader sees it."""
        return self._query(self._consumer, TopicPartition(topic, partition))

    def _query(self, consumer: Consumer, tp: TopicPartition) -> tuple[int, int]:
        """Watermarks, retrying the transient errors of a partition whose leader is moving or new."""
        deadline = time.monotonic() + self._timeout_s
        while True:
            try:
                low, high = consumer.get_watermark_offsets(tp, timeout=self._timeout_s)
                return int(low), int(high)
            except KafkaException as exc:
                err: KafkaError = exc.args[0]
                transient = err.retriable() or err.code() in _TRANSIENT
                if not transient or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stable_end(self, topic: str, partition: int) -> tuple[int, int]:
        """(low, end) once no transaction is open on the partition (or the wait runs out)."""
        deadline = time.monotonic() + self._stable_wait_s
        tp = TopicPartition(topic, partition)
        while True:
            low, lso = self._query(self._consumer, tp)
            _, hwm = self._query(self._uncommitted, tp)
            if lso >= hwm:
                return int(low), int(lso)
            if time.monotonic() > deadline:
                _log.warning("restore_unstable_partition", topic=topic, partition=partition, lso=lso, hwm=hwm)
                return int(low), int(lso)
            time.sleep(0.05)

    def read(self, ranges: Sequence[OffsetRange], batch: int = 5000) -> Iterator[Message]:
        """Yield the committed records of every range, each partition in offset order."""
        pending = {(r.topic, r.partition): r for r in ranges if r.end > r.start}
        if not pending:
            return
        self._consumer.assign(
            [
                TopicPartition(r.topic, r.partition, r.start if r.start >= 0 else OFFSET_BEGINNING)
                for r in pending.values()
            ]
        )
        idle_since = time.monotonic()
        try:
            while pending:
                msgs = self._consumer.consume(batch, 0.5)
                if msgs:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > self._stable_wait_s:
                    raise TimeoutError(f"no progress reading {sorted(pending)} (range end past the log end?)")
                for msg in msgs:
                    tp = (cast(str, msg.topic()), cast(int, msg.partition()))
                    rng = pending.get(tp)
                    if rng is None:
                        continue
                    err = msg.error()
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            if cast(int, msg.offset()) >= rng.end:
                                del pending[tp]
                            continue
                        raise KafkaException(err)
                    offset = cast(int, msg.offset())
                    if offset >= rng.end:
                        del pending[tp]
                        continue
                    yield msg
                    if offset + 1 >= rng.end:
                        del pending[tp]
                # Transaction markers occupy offsets too: the position can pass `end` without a record.
                if pending:
                    positions = self._consumer.position([TopicPartition(t, p) for t, p in pending])
                    for pos in positions:
                        key = (pos.topic, pos.partition)
                        if pos.offset >= 0 and pos.offset >= pending[key].end:
                            del pending[key]
        finally:
            self._consumer.unassign()

    def read_to_end(self, topic: str, partitions: Sequence[int]) -> Iterator[Message]:
        """Yield every committed record of the partitions from the beginning to their stable end."""
        ranges = []
        for p in partitions:
            low, end = self.stable_end(topic, p)
            ranges.append(OffsetRange(topic, p, low, end))
        return self.read(ranges)

    def close(self) -> None:
        """Release the reader's connections."""
        self._consumer.close()
        self._uncommitted.close()
