"""Is a namespace drained? Every service group has committed past every committed record of its inputs.

A group's backlog on a partition is the number of committed (read_committed) records between the group's
committed offset and the partition's last stable offset. Transaction markers occupy offsets without being
records, so a small gap is checked by reading it; a large gap is a backlog of about that size.

The orchestrator is the exception (`ServiceEntry.event_time_cuts`): it commits the first offset of each
partition's open event-time window, and a replay's last window never closes, so its group never commits
the log end. Its cut planner's open boundary is always the first boundary after the largest `recv_ts_ms`
it has read, so it has cut everything the log holds once its committed cursor
(`orchestrator.cursor`, written in the same transaction as the outputs) has an open boundary past the
partition's largest `recv_ts_ms`; without a cursor, once no record reaches the boundary after the first
record's receive time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, cast

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from xray_contracts import catalogue
from xray_contracts.codec import DecodeError, default_codecs
from xray_contracts.orchestrator_cursor import OrchestratorCursor
from xray_contracts.raw_market_event import RawMarketEvent
from xray_runtime.reader import OffsetRange, PartitionReader
from xray_runtime.topics import admin_client

from xray_ops.catalogue import ServiceEntry

# Gaps up to this many offsets are read to tell markers from records (a marker per transaction).
_EXACT_BELOW = 2000
# The orchestrator's default boundary interval (`orchestrator.scheduler.boundary_interval_ms`).
DEFAULT_BOUNDARY_INTERVAL_MS: Final = 180_000


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


@dataclass(slots=True)
class _ReceiveSpan:
    """What a scan of a raw partition found so far: up to which offset, first and largest recv_ts_ms."""

    scanned_to: int
    first_ms: int | None = None
    max_ms: int | None = None


class DrainProbe:
    """Measures the backlog of the pipeline's groups in one namespace on one broker.

    `boundary_interval_ms`: the orchestrator's boundary interval (only needed for a partition on which
    it has not cut anything yet).
    """

    def __init__(
        self, bootstrap: str, namespace: str, boundary_interval_ms: int = DEFAULT_BOUNDARY_INTERVAL_MS
    ) -> None:
        self.namespace = namespace
        self.boundary_interval_ms = boundary_interval_ms
        self._admin = admin_client(bootstrap)
        self._reader = PartitionReader({"bootstrap.servers": bootstrap}, stable_wait_s=5.0)
        self._spans: dict[tuple[str, int], _ReceiveSpan] = {}
        self._raw_codec = default_codecs().for_type(RawMarketEvent)
        self._cursor_codec = default_codecs().for_type(OrchestratorCursor)

    def _committed(self, group: str, partitions: list[TopicPartition]) -> dict[tuple[str, int], int]:
        request = [ConsumerGroupTopicPartitions(group, partitions)]
        return {
            (tp.topic, tp.partition): tp.offset
            for future in self._admin.list_consumer_group_offsets(request, request_timeout=15).values()
            for tp in future.result(timeout=15).topic_partitions or []
        }

    def stage(self, entry: ServiceEntry) -> StageProgress:
        """The backlog of one service's group over its input topics."""
        group = f"{self.namespace}.{entry.group}"
        partitions = [
            TopicPartition(spec.topic(self.namespace), p)
            for spec in entry.inputs
            for p in range(spec.partitions)
        ]
        committed = self._committed(group, partitions)
        if entry.event_time_cuts:
            return self._cut_stage(entry, partitions, committed)
        total = backlog = 0
        small: list[OffsetRange] = []
        for tp in partitions:
            low, end = self._reader.watermarks(tp.topic, tp.partition)
            total += end
            position = committed.get((tp.topic, tp.partition), -1001)
            start = max(position if position >= 0 else low, low)
            gap = end - start
            if gap <= 0:
                continue
            if gap > _EXACT_BELOW:
                backlog += gap
                continue
            small.append(OffsetRange(tp.topic, tp.partition, start, end))
        # One read for every small gap (each read waits for its ranges' ends, markers or not).
        backlog += sum(1 for _ in self._reader.read(small))
        return StageProgress(entry.name, total, backlog)

    def _cut_stage(
        self, entry: ServiceEntry, partitions: list[TopicPartition], committed: dict[tuple[str, int], int]
    ) -> StageProgress:
        """The orchestrator: a partition is drained once every boundary its log crosses is cut."""
        cursors = self.open_boundaries()
        interval = self.boundary_interval_ms
        ends = {
            (tp.topic, tp.partition): self._reader.watermarks(tp.topic, tp.partition) for tp in partitions
        }
        self._scan(ends)
        total = backlog = 0
        for (topic, partition), (low, end) in ends.items():
            total += end
            span = self._spans[(topic, partition)]
            if span.first_ms is None or span.max_ms is None:
                continue  # nothing to cut
            open_boundary = cursors.get(partition)
            if open_boundary is None:
                open_boundary = (span.first_ms // interval + 1) * interval
            if open_boundary > span.max_ms:
                continue  # the open window holds the rest of the log: cut as far as the log allows
            position = committed.get((topic, partition), -1001)
            backlog += max(1, end - max(position, low))
        return StageProgress(entry.name, total, backlog)

    def open_boundaries(self) -> dict[int, int]:
        """Each raw partition's open boundary in the orchestrator's latest committed cursor."""
        spec = catalogue.ORCHESTRATOR_CURSOR
        topic = spec.topic(self.namespace)
        ranges = []
        for p in range(spec.partitions):
            low, end = self._reader.watermarks(topic, p)
            ranges.append(OffsetRange(topic, p, low, end))
        found: dict[int, int] = {}
        for msg in self._reader.read(ranges):
            value = msg.value()
            if value is None:
                continue
            cursor = self._cursor_codec.decode(value)
            if cursor.open_boundary_ms is not None:
                found[cursor.partition] = cursor.open_boundary_ms  # log order: the latest wins
        return found

    def _scan(self, ends: dict[tuple[str, int], tuple[int, int]]) -> None:
        """First and largest recv_ts_ms of each raw partition, reading only what is new since last time."""
        ranges = []
        for (topic, partition), (low, end) in ends.items():
            span = self._spans.setdefault((topic, partition), _ReceiveSpan(scanned_to=low))
            if end > span.scanned_to:
                ranges.append(OffsetRange(topic, partition, max(span.scanned_to, low), end))
        for msg in self._reader.read(ranges):
            value = msg.value()
            if value is None:
                continue
            try:
                recv = self._raw_codec.decode(value).recv_ts_ms
            except DecodeError:
                continue  # the orchestrator sends it to its DLQ
            span = self._spans[(cast(str, msg.topic()), cast(int, msg.partition()))]
            if span.first_ms is None:
                span.first_ms = recv
            if span.max_ms is None or recv > span.max_ms:
                span.max_ms = recv
        for r in ranges:
            self._spans[(r.topic, r.partition)].scanned_to = r.end

    def stages(self, entries: Sequence[ServiceEntry]) -> list[StageProgress]:
        """Every listed service's progress, in pipeline order."""
        return [self.stage(e) for e in entries]

    def close(self) -> None:
        """Release the reader."""
        self._reader.close()
