"""A rebalance inside the batch's second consume() (regression test of b8fd314), with fake Kafka clients.

When nothing is fetched yet, `Processor._next_batch` waits for one record, then drains the rest with a
second consume(). librdkafka serves rebalance callbacks inside consume(): when one runs in that second
call, the first record belongs to the old assignment. Handling it duplicated its output when the
partition came back from its committed offset (the record is fetched again), or handled a partition
another member now owns. The fakes below play that race deterministically; the processor's real
`run()` loop drives them (no broker: only the clients' calls the loop makes are modelled).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, Literal

import pytest
from confluent_kafka import Message, TopicPartition
from xray_contracts.catalogue import TopicSpec
from xray_runtime import processor as processor_module
from xray_runtime.config import HttpSettings, KafkaSettings, ProcessingSettings, ServiceSettings
from xray_runtime.context import Context, Record
from xray_runtime.processor import EXIT_OK, InputTopic, Processor

NAMESPACE = "unit"
INPUT = TopicSpec("rebalance.input", None, "delete", partitions=2)
OUTPUT = TopicSpec("rebalance.output", None, "delete", partitions=2)
RECORDS = 6  # per input partition
Scenario = Literal["reassigned", "moved"]


class FakeBroker:
    """The input records, the group's committed offsets and the committed outputs."""

    def __init__(self) -> None:
        topic = INPUT.topic(NAMESPACE)
        self.records = {(topic, p): [f"p{p}-{i}".encode() for i in range(RECORDS)] for p in (0, 1)}
        self.committed: dict[tuple[str, int], int] = {}
        self.outputs: list[tuple[str, int, bytes | None, bytes | None]] = []


class FakeConsumer:
    """A group consumer as the loop sees it, with one rebalance at the worst moment.

    A call with a timeout fetches everything available on the owned partitions; a call without one
    returns only what was fetched before (so the loop's first non-blocking call finds nothing and it
    waits for one record). The first call after a record was handed out serves a rebalance, as
    librdkafka does inside consume(): `reassigned` revokes partition 0 and assigns it back (it restarts
    at its committed offset, so its fetched records come again); `moved` revokes partition 0 (another
    member owns it now) and assigns partition 1.
    """

    def __init__(self, broker: FakeBroker, scenario: Scenario) -> None:
        self.broker = broker
        self.scenario = scenario
        self.topic = INPUT.topic(NAMESPACE)
        self.owned: list[int] = []
        self.position: dict[int, int] = {}
        self.fetched: list[Message] = []
        self.on_assign: Callable[[Any, list[TopicPartition]], None] | None = None
        self.on_revoke: Callable[[Any, list[TopicPartition]], None] | None = None
        self.stop: Callable[[], None] = lambda: None
        self.joined = False
        self.handed_out = False
        self.rebalanced = False
        self.calls = 0

    # -- what the processor calls
    def subscribe(self, topics: list[str], on_assign: Any = None, on_revoke: Any = None) -> None:
        assert topics == [self.topic]
        self.on_assign, self.on_revoke = on_assign, on_revoke

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Message]:
        self.calls += 1
        if self.calls > 1000:  # a loop that never settles: end it, the assertions will say why
            self.stop()
            return []
        if not self.joined:
            self.joined = True
            self._assign([0])
        elif self.handed_out and not self.rebalanced:
            self.rebalanced = True
            self._revoke([0])
            self._assign([0] if self.scenario == "reassigned" else [1])
        if timeout != 0:
            self._fetch()
        batch, self.fetched = self.fetched[:num_messages], self.fetched[num_messages:]
        self.handed_out = self.handed_out or bool(batch)
        if not batch and timeout != 0 and self.rebalanced:
            self.stop()  # everything owned was handed out
        return batch

    def committed(self, partitions: list[TopicPartition], timeout: float = -1) -> list[TopicPartition]:
        return [
            TopicPartition(tp.topic, tp.partition, self.broker.committed.get((tp.topic, tp.partition), -1001))
            for tp in partitions
        ]

    def consumer_group_metadata(self) -> object:
        return object()

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(self.topic, p) for p in self.owned]

    def pause(self, _partitions: list[TopicPartition]) -> None:
        pass

    def resume(self, _partitions: list[TopicPartition]) -> None:
        pass

    def seek(self, tp: TopicPartition) -> None:
        self.position[tp.partition] = max(tp.offset, 0)
        self.fetched = [m for m in self.fetched if m.partition() != tp.partition]

    def close(self) -> None:
        pass

    # -- the group and the fetcher
    def _assign(self, numbers: list[int]) -> None:
        for p in numbers:
            self.owned.append(p)
            self.position[p] = max(self.broker.committed.get((self.topic, p), 0), 0)
        assert self.on_assign is not None
        self.on_assign(self, [TopicPartition(self.topic, p) for p in numbers])

    def _revoke(self, numbers: list[int]) -> None:
        assert self.on_revoke is not None
        self.on_revoke(self, [TopicPartition(self.topic, p) for p in numbers])
        self.owned = [p for p in self.owned if p not in numbers]
        self.fetched = [m for m in self.fetched if m.partition() not in numbers]  # fetch queue purged

    def _fetch(self) -> None:
        for p in self.owned:
            values = self.broker.records[(self.topic, p)]
            while self.position[p] < len(values):
                offset = self.position[p]
                self.fetched.append(
                    Message(topic=self.topic, partition=p, offset=offset, key=b"k", value=values[offset])
                )
                self.position[p] = offset + 1


class FakeProducer:
    """A transactional producer: outputs and input offsets become visible on commit only."""

    def __init__(self, broker: FakeBroker) -> None:
        self.broker = broker
        self.pending: list[tuple[str, int, bytes | None, bytes | None]] = []
        self.offsets: list[TopicPartition] = []

    def init_transactions(self, _timeout: float) -> None:
        pass

    def begin_transaction(self) -> None:
        self.pending, self.offsets = [], []

    def produce(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int = -1,
        headers: Any = None,
    ) -> None:
        self.pending.append((topic, partition, key, value))

    def send_offsets_to_transaction(self, offsets: list[TopicPartition], _meta: object, _t: float) -> None:
        self.offsets = list(offsets)

    def commit_transaction(self, _timeout: float) -> None:
        self.broker.outputs.extend(self.pending)
        for tp in self.offsets:
            self.broker.committed[(tp.topic, tp.partition)] = tp.offset
        self.pending, self.offsets = [], []

    def abort_transaction(self, _timeout: float) -> None:
        self.pending, self.offsets = [], []

    def poll(self, _timeout: float = 0) -> int:
        return 0

    def flush(self, _timeout: float = 0) -> int:
        return 0

    def __len__(self) -> int:
        return len(self.pending)


class NoReader:
    """The state reader: this processor has no stores, so it is only closed."""

    def __init__(self, _config: object) -> None:
        pass

    def close(self) -> None:
        pass


def run_processor(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> tuple[FakeBroker, list[tuple[int, int, bool]]]:
    """Run the real loop over the fakes; returns the broker and each handled (partition, offset, owned)."""
    broker = FakeBroker()
    consumer = FakeConsumer(broker, scenario)
    monkeypatch.setattr(processor_module, "make_consumer", lambda _props, **_cb: consumer)
    monkeypatch.setattr(processor_module, "make_producer", lambda _props, **_cb: FakeProducer(broker))
    monkeypatch.setattr(processor_module, "PartitionReader", NoReader)
    handled: list[tuple[int, int, bool]] = []

    def handle(record: Record[bytes], ctx: Context) -> None:
        handled.append((record.partition, record.offset, record.partition in consumer.owned))
        ctx.emit(ctx.topic(OUTPUT), record.key, record.value)

    settings = ServiceSettings(
        kafka=KafkaSettings(bootstrap_servers="fake:9092"),
        namespace=NAMESPACE,
        instance_id="solo",
        http=HttpSettings(host="127.0.0.1", port=0),
        processing=ProcessingSettings(batch_max_records=50, batch_timeout_ms=1, statistics_interval_ms=0),
    )
    proc: Processor[bytes] = Processor(
        service="rebalance", settings=settings, inputs=[InputTopic(INPUT, bytes)], handler=handle
    )
    consumer.stop = proc.request_stop
    assert proc.run(install_signal_handlers=False) == EXIT_OK
    assert consumer.rebalanced, "the scripted rebalance never ran"
    assert consumer.calls <= 1000, "the loop never settled"
    return broker, handled


def test_partition_reassigned_mid_batch_gives_each_output_once(monkeypatch: pytest.MonkeyPatch) -> None:
    broker, handled = run_processor("reassigned", monkeypatch)
    out = OUTPUT.topic(NAMESPACE)
    values = [value for topic, _, _, value in broker.outputs if topic == out]
    # The record fetched before the rebalance is fetched again after it: handled and output once.
    assert max(Counter(values).values()) == 1, values
    assert values == broker.records[(INPUT.topic(NAMESPACE), 0)]
    assert sorted((p, o) for p, o, _ in handled) == [(0, i) for i in range(RECORDS)]
    assert broker.committed[(INPUT.topic(NAMESPACE), 0)] == RECORDS


def test_partition_moved_away_mid_batch_is_not_handled_here(monkeypatch: pytest.MonkeyPatch) -> None:
    broker, handled = run_processor("moved", monkeypatch)
    # Partition 0 went to another member before its first record was handled: that member outputs it
    # from the committed offset, so nothing of it may come from here.
    assert all(owned for _, _, owned in handled), handled
    assert [(p, o) for p, o, _ in handled] == [(1, i) for i in range(RECORDS)]
    out = OUTPUT.topic(NAMESPACE)
    assert [value for topic, _, _, value in broker.outputs if topic == out] == broker.records[
        (INPUT.topic(NAMESPACE), 1)
    ]
    assert (INPUT.topic(NAMESPACE), 0) not in broker.committed
