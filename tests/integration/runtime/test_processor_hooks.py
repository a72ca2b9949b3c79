"""In-process processor on the real broker: abort -> rewind -> redo, on_assigned + reader, punctuate."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from xray_contracts.catalogue import TopicSpec, dlq_spec
from xray_runtime.config import HttpSettings, KafkaSettings, ProcessingSettings, ServiceSettings
from xray_runtime.context import Context, InputPartition, Record
from xray_runtime.examples.counter_harness import assert_exactly_once, create_topics, read_committed
from xray_runtime.processor import InputTopic, Processor
from xray_runtime.reader import OffsetRange, PartitionReader
from xray_runtime.state import StoreSpec

SERVICE = "hooks"
INPUT = TopicSpec("hooks.input", None, "delete")
OUTPUT = TopicSpec("hooks.output", None, "delete")
TICKS = TopicSpec("hooks.ticks", None, "delete")
COUNTS = TopicSpec("hooks.counts", None, "compact")
STORE: StoreSpec[int] = StoreSpec(name="counts", topic=COUNTS, encode=lambda v: str(v).encode(), decode=int)
RECORDS = [(f"k{i % 3}".encode(), str(i).encode()) for i in range(30)]
POISON = b"13"  # the first time it is seen, the handler produces an oversized record: the batch aborts


def settings(bootstrap: str, namespace: str) -> ServiceSettings:
    return ServiceSettings(
        kafka=KafkaSettings(bootstrap_servers=bootstrap, consumer={"session.timeout.ms": 6000}),
        namespace=namespace,
        instance_id="solo",
        http=HttpSettings(host="127.0.0.1", port=0),
        processing=ProcessingSettings(punctuate_interval_ms=200, statistics_interval_ms=0),
    )


class Recorder:
    """What the hooks saw."""

    def __init__(self) -> None:
        self.assigned: list[list[InputPartition]] = []
        self.revoked: list[list[InputPartition]] = []
        self.history: dict[int, list[bytes]] = defaultdict(list)
        self.ticks_at_end: set[int] = set()
        self.poisoned = False

    def on_assigned(self, parts: Sequence[InputPartition], reader: PartitionReader) -> None:
        self.assigned.append(list(parts))
        # Rebuild "history" from the input topic: everything before the committed offset.
        ranges = [OffsetRange(p.topic, p.partition, 0, p.committed_offset or 0) for p in parts]
        for msg in reader.read(ranges):
            self.history[msg.partition()].append(msg.value())  # type: ignore[index,arg-type]

    def on_revoked(self, parts: Sequence[InputPartition]) -> None:
        self.revoked.append(list(parts))
        self.history.clear()


def run_in_thread(proc: Processor[int]) -> tuple[threading.Thread, list[int]]:
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(proc.run(install_signal_handlers=False)))
    thread.start()
    return thread, codes


def wait_until(predicate: object, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


def test_abort_rewinds_and_hooks_see_history_and_log_end(
    kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path
) -> None:
    ns = kafka_namespace
    create_topics(
        AdminClient({"bootstrap.servers": kafka_bootstrap}),
        ns,
        [INPUT, OUTPUT, TICKS, COUNTS, dlq_spec(SERVICE)],
    )
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random"})
    for key, value in RECORDS:
        producer.produce(INPUT.topic(ns), value, key)
    assert producer.flush(30) == 0

    rec = Recorder()

    def handle(record: Record[int], ctx: Context) -> None:
        store = ctx.store("counts")
        count = (store.get(record.key or b"") or 0) + 1
        store.put(record.key or b"", count)
        ctx.emit(ctx.topic(OUTPUT), record.key, (record.key or b"") + b":" + str(count).encode())
        if record.raw_value == POISON and not rec.poisoned:
            rec.poisoned = True
            ctx.emit(ctx.topic(OUTPUT), record.key, b"x" * 2_000_000)  # over message.max.bytes

    def punctuate(now_ms: int, ctx: Context) -> None:
        assert now_ms > 0
        for topic, partition in ctx.partitions:
            if ctx.at_log_end(topic, partition) and partition not in rec.ticks_at_end:
                rec.ticks_at_end.add(partition)
                ctx.emit(ctx.topic(TICKS), b"tick", str(partition).encode(), partition=partition)

    proc = Processor(
        service=SERVICE,
        settings=settings(kafka_bootstrap, ns),
        inputs=[InputTopic(INPUT, int)],
        handler=handle,
        stores=[STORE],
        on_assigned=rec.on_assigned,
        on_revoked=rec.on_revoked,
        punctuate=punctuate,
    )
    thread, codes = run_in_thread(proc)
    try:
        wait_until(lambda: len(read_committed(kafka_bootstrap, OUTPUT.topic(ns), 6)) >= len(RECORDS))
        wait_until(lambda: len(rec.ticks_at_end) == 6)
    finally:
        proc.request_stop()
        thread.join(60)
    assert codes == [0]

    expected = {b"k0": 10, b"k1": 10, b"k2": 10}
    assert_exactly_once(read_committed(kafka_bootstrap, OUTPUT.topic(ns), 6), expected)
    assert rec.poisoned
    aborted = proc.metrics.transactions.labels("aborted")._value.get()
    assert aborted == 1
    # The abort rewound: the hooks were told the partitions were revoked and assigned again.
    assert len(rec.revoked) >= 2  # the rewind, then the shutdown
    assert len(rec.assigned) >= 2
    ticks = read_committed(kafka_bootstrap, TICKS.topic(ns), 6)
    assert sorted((p, v) for p, _, _, v, _ in ticks) == [(p, str(p).encode()) for p in range(6)]

    # A second incarnation rebuilds its history from the input topic up to the committed offsets.
    rec2 = Recorder()
    proc2 = Processor(
        service=SERVICE,
        settings=settings(kafka_bootstrap, ns),
        inputs=[InputTopic(INPUT, int)],
        handler=handle,
        stores=[STORE],
        on_assigned=rec2.on_assigned,
    )
    thread, codes = run_in_thread(proc2)
    try:
        wait_until(lambda: bool(rec2.assigned))
    finally:
        proc2.request_stop()
        thread.join(60)
    assert codes == [0]
    # Partitions without records have nothing committed; the others point past their last record.
    assert sum(p.committed_offset or 0 for p in rec2.assigned[0]) >= len(RECORDS)
    rebuilt = sorted(v for values in rec2.history.values() for v in values)
    assert rebuilt == sorted(v for _, v in RECORDS)


def test_reader_fails_loudly_on_a_range_past_the_log_end(kafka_bootstrap: str, kafka_namespace: str) -> None:
    create_topics(AdminClient({"bootstrap.servers": kafka_bootstrap}), kafka_namespace, [INPUT])
    topic = INPUT.topic(kafka_namespace)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(topic, b"1", b"k", partition=0)
    assert producer.flush(30) == 0
    reader = PartitionReader({"bootstrap.servers": kafka_bootstrap}, stable_wait_s=1.0)
    try:
        assert [m.value() for m in reader.read([OffsetRange(topic, 0, 0, 1)])] == [b"1"]
        # Below the low watermark is fine (starts at the first record); past the end is an error.
        assert [m.value() for m in reader.read([OffsetRange(topic, 0, -5, 1)])] == [b"1"]
        with pytest.raises(TimeoutError):
            list(reader.read([OffsetRange(topic, 0, 0, 50)]))
    finally:
        reader.close()
