"""Resume a killed replay: skip, per partition, the events an earlier run of the same replay already wrote.

A replay writes with an idempotent producer (acks=all), so each partition of the raw topic holds a gapless
prefix, in order, of the events the replay routed to it, whatever moment the earlier run died at. A
replay is deterministic (same recording, same events, same order), so skipping the first `n_p` events
that route to partition `p`, where `n_p` is what `p` already holds, continues exactly where the earlier
run stopped: nothing twice, nothing missing. This holds only when the topic holds nothing but this replay
(a namespace of its own, as every backtest has), which `--resume` assumes.
"""

from __future__ import annotations

from collections.abc import Mapping

from confluent_kafka import Consumer, TopicPartition

from market_data.contracts import RawEventSink, RawMarketEvent

_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash (the Java client's `Utils.murmur2`), as an unsigned 32-bit int."""
    length = len(data)
    h = (0x9747B28C ^ length) & _MASK
    for i in range(0, length - length % 4, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail = length - length % 4
    extra = length % 4
    if extra == 3:
        h ^= data[tail + 2] << 16
    if extra >= 2:
        h ^= data[tail + 1] << 8
    if extra >= 1:
        h ^= data[tail]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h


def partition_for(key: bytes, partitions: int) -> int:
    """The partition librdkafka's `murmur2_random` (and the Java default) picks for a non-empty key."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def records_per_partition(props: Mapping[str, str], topic: str, partitions: int) -> dict[int, int]:
    """How many records each partition holds (high minus low watermark)."""
    consumer = Consumer({**props, "group.id": "market-data-resume-unused", "enable.auto.commit": "false"})
    try:
        counts: dict[int, int] = {}
        for p in range(partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
            counts[p] = high - low
        return counts
    finally:
        consumer.close()


class SkippingSink:
    """A sink that drops the first `skip[p]` events routed to each partition `p`, then writes the rest."""

    def __init__(self, sink: RawEventSink, skip: Mapping[int, int], partitions: int) -> None:
        self.sink = sink
        self.partitions = partitions
        self.remaining = {p: n for p, n in skip.items() if n > 0}
        self.skipped = 0
        self._partition_of: dict[str, int] = {}

    def write(self, event: RawMarketEvent, *, block: bool, timeout_ms: int | None) -> None:
        """Skip the event if its partition still has events to skip, else write it."""
        if self.remaining:
            partition = self._partition_of.get(event.symbol)
            if partition is None:
                partition = partition_for(event.symbol.encode(), self.partitions)
                self._partition_of[event.symbol] = partition
            left = self.remaining.get(partition)
            if left:
                if left == 1:
                    del self.remaining[partition]
                else:
                    self.remaining[partition] = left - 1
                self.skipped += 1
                return
        self.sink.write(event, block=block, timeout_ms=timeout_ms)
