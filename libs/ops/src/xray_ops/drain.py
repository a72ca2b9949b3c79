"""Is a namespace drained? Every service group has committed past every committed record of its inputs.

A group's backlog on a partition is the number of committed (read_committed) records between the group's
committed offset and the partition's last stable offset. Transaction markers occupy offsets without being
records, so a small gap is checked by reading it; a large gap is a backlog of about that size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from xray_runtime.reader import OffsetRange, PartitionReader
from xray_runtime.topics import admin_client

from xray_ops.catalogue import ServiceEntry

# Gaps up to this many offsets are read to tell markers from records (a marker per transaction).
_EXACT_BELOW = 2000


@dataclass(frozen=True, slots=True)
class StageProgress:
    """One service group's position over its inputs."""

    service: str
    total: int  # committed records in its inputs (end offsets summed, markers included)
    backlog: int  # records it has not committed yet (0: drained)

    @property
    def done(self) -> int:
        """Records behind it (for a progress bar)."""
        return max(0, self.total - self.backlog)


class DrainProbe:
    """Measures the backlog of the pipeline's groups in one namespace on one broker."""

    def __init__(self, bootstrap: str, namespace: str) -> None:
        self.namespace = namespace
        self._admin = admin_client(bootstrap)
        self._reader = PartitionReader({"bootstrap.servers": bootstrap}, stable_wait_s=5.0)

    def stage(self, entry: ServiceEntry) -> StageProgress:
        """The backlog of one service's group over its input topics."""
        group = f"{self.namespace}.{entry.group}"
        partitions = [
            TopicPartition(spec.topic(self.namespace), p)
            for spec in entry.inputs
            for p in range(spec.partitions)
        ]
        request = [ConsumerGroupTopicPartitions(group, partitions)]
        committed = {
            (tp.topic, tp.partition): tp.offset
            for future in self._admin.list_consumer_group_offsets(request, request_timeout=15).values()
            for tp in future.result(timeout=15).topic_partitions or []
        }
        total = backlog = 0
        for tp in partitions:
            low, end = self._reader.watermarks(tp.topic, tp.partition)
            total += end
            position = committed.get((tp.topic, tp.partition), -1001)
            start = position if position >= 0 else low
            gap = end - max(start, low)
            if gap <= 0:
                continue
            if gap > _EXACT_BELOW:
                backlog += gap
                continue
            backlog += sum(1 for _ in self._reader.read([OffsetRange(tp.topic, tp.partition, start, end)]))
        return StageProgress(entry.name, total, backlog)

    def stages(self, entries: Sequence[ServiceEntry]) -> list[StageProgress]:
        """Every listed service's progress, in pipeline order."""
        return [self.stage(e) for e in entries]

    def close(self) -> None:
        """Release the reader."""
        self._reader.close()
