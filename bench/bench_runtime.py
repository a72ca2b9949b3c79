"""Runtime throughput: raw confluent-kafka rates vs the exactly-once runtime, from one run on one broker.

Prints a table: raw produce and consume rates for 100-byte and 1 KB values, a raw consume+produce
pass-through without transactions (the ceiling), and the runtime's transactional pass-through with
its ratio to that ceiling (target >= 0.5). Uses KAFKA_BOOTSTRAP_SERVERS, else starts the local broker.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from xray_contracts.catalogue import TopicSpec, dlq_spec
from xray_runtime.config import HttpSettings, KafkaSettings, ProcessingSettings, ServiceSettings
from xray_runtime.context import Context, Record
from xray_runtime.examples.counter_harness import create_topics
from xray_runtime.processor import InputTopic, Processor

N_KEYS = 200
PARTITIONS = 6
REPEATS = int(os.environ.get("BENCH_RUNTIME_REPEATS", "5"))
SIZES = {
    "100 B": (100, int(os.environ.get("BENCH_RUNTIME_N_SMALL", "300000"))),
    "1 KB": (1024, int(os.environ.get("BENCH_RUNTIME_N_LARGE", "100000"))),
}
PRODUCER_BASE = {
    "linger.ms": 10,
    "compression.type": "lz4",
    "partitioner": "murmur2_random",
    "enable.idempotence": True,
}


@contextlib.contextmanager
def bootstrap_servers() -> Iterator[str]:
    """The broker to measure on: the env var, else a local broker started for this run."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    from xray_testing.suite import broker_env

    with broker_env() as env:
        yield env["KAFKA_BOOTSTRAP_SERVERS"]


def spec(name: str) -> TopicSpec:
    return TopicSpec(name, None, "delete", partitions=PARTITIONS)


def produce_raw(bootstrap: str, topic: str, n: int, size: int) -> float:
    """Raw produce rate (records/s) including the final flush."""
    producer = Producer({"bootstrap.servers": bootstrap, **PRODUCER_BASE})
    keys = [f"sym-{i:04d}".encode() for i in range(N_KEYS)]
    value = os.urandom(size)
    produce = producer.produce
    start = time.perf_counter()
    for i in range(n):
        while True:
            try:
                produce(topic, value, keys[i % N_KEYS])
                break
            except BufferError:
                producer.poll(0.01)
    assert producer.flush(60) == 0
    return n / (time.perf_counter() - start)


def assigned_consumer(bootstrap: str, topic: str) -> Consumer:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
    return consumer


def consume_raw(bootstrap: str, topic: str, n: int) -> float:
    """Raw batch-consume rate (records/s), clock started at the first record."""
    consumer = assigned_consumer(bootstrap, topic)
    seen = 0
    start = 0.0
    while seen < n:
        msgs = consumer.consume(2000, 1.0)
        if msgs and not start:
            start = time.perf_counter()
        seen += sum(1 for m in msgs if m.error() is None)
    rate = n / (time.perf_counter() - start)
    consumer.close()
    return rate


def passthrough_raw(bootstrap: str, source: str, sink: str, n: int) -> float:
    """The ceiling: consume + produce to the same partition, no transactions (records/s)."""
    consumer = assigned_consumer(bootstrap, source)
    producer = Producer({"bootstrap.servers": bootstrap, **PRODUCER_BASE})
    produce = producer.produce
    seen = 0
    start = 0.0
    while seen < n:
        msgs = consumer.consume(2000, 1.0)
        if msgs and not start:
            start = time.perf_counter()
        for m in msgs:
            if m.error() is not None:
                continue
            while True:
                try:
                    produce(sink, m.value(), m.key(), m.partition())  # type: ignore[arg-type]
                    break
                except BufferError:
                    producer.poll(0.01)
            seen += 1
        producer.poll(0)
    assert producer.flush(60) == 0
    rate = n / (time.perf_counter() - start)
    consumer.close()
    return rate


def passthrough_runtime(
    bootstrap: str, namespace: str, source: TopicSpec, sink: TopicSpec, n: int, run: int
) -> float:
    """The runtime: decode (identity), handler, emit, offsets + commit in transactions (records/s)."""
    settings = ServiceSettings(
        kafka=KafkaSettings(bootstrap_servers=bootstrap),
        namespace=namespace,
        instance_id=f"bench-{run}",
        http=HttpSettings(host="127.0.0.1", port=0),
        processing=ProcessingSettings(),
    )
    sink_topic = sink.topic(namespace)
    state = {"seen": 0, "start": 0.0, "end": 0.0}
    done = threading.Event()
    processor: Processor[bytes]

    def handle(record: Record[bytes], ctx: Context) -> None:
        if not state["start"]:
            state["start"] = time.perf_counter()
        ctx.emit(sink_topic, record.key, record.value)
        state["seen"] += 1
        if state["seen"] >= n:
            processor.request_stop()
            done.set()

    def committed() -> None:
        if done.is_set() and not state["end"]:
            state["end"] = time.perf_counter()  # the transaction holding the n-th record committed

    processor = Processor(
        service=f"bench-{source.name}-{run}",
        settings=settings,
        inputs=[InputTopic(source, bytes)],
        handler=handle,
        on_committed=committed,
    )
    code = processor.run(install_signal_handlers=False)
    elapsed = state["end"] - state["start"]
    assert code == 0
    assert done.is_set()
    return n / elapsed


def delete_namespace(admin: AdminClient, namespace: str) -> None:
    """Drop the run's topics so repeated runs leave nothing behind."""
    topics = [t for t in admin.list_topics(timeout=30).topics if t.startswith(f"{namespace}.")]
    if topics:
        for future in admin.delete_topics(topics, operation_timeout=30).values():
            future.result(30)


def main() -> int:
    rows: list[tuple[str, str, float, str]] = []
    with bootstrap_servers() as bootstrap:
        namespace = f"bench-rt-{uuid.uuid4().hex[:8]}"
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for label, (size, n) in SIZES.items():
            tag = f"s{size}"
            src = spec(f"{tag}.in")
            outs = [spec(f"{tag}.out{i}") for i in range(2 * REPEATS)]
            dlqs = [dlq_spec(f"bench-{src.name}-{i}") for i in range(REPEATS)]
            create_topics(admin, namespace, [src, *outs, *dlqs])
            produce_rate = produce_raw(bootstrap, src.topic(namespace), n, size)
            consume_rate = consume_raw(bootstrap, src.topic(namespace), n)
            # Alternate ceiling and runtime runs and keep each one's best: the machine is shared,
            # so a load spike should not decide the ratio.
            ceiling = runtime = 0.0
            for i in range(REPEATS):
                ceiling = max(
                    ceiling, passthrough_raw(bootstrap, src.topic(namespace), outs[2 * i].topic(namespace), n)
                )
                runtime = max(runtime, passthrough_runtime(bootstrap, namespace, src, outs[2 * i + 1], n, i))
            rows += [
                (label, "raw produce", produce_rate, ""),
                (label, "raw consume (batch)", consume_rate, ""),
                (label, "raw consume+produce (ceiling)", ceiling, "1.00"),
                (label, "runtime EOS pass-through", runtime, f"{runtime / ceiling:.2f}"),
            ]
            print(f"  {label}: n={n} done", file=sys.stderr, flush=True)
        delete_namespace(admin, namespace)
    print()
    print(f"{'value':<7} {'measure':<32} {'records/s':>12} {'vs ceiling':>11}")
    print("-" * 65)
    for label, name, rate, ratio in rows:
        print(f"{label:<7} {name:<32} {rate:>12,.0f} {ratio:>11}")
    print("\nTarget: runtime EOS pass-through >= 0.50 of the ceiling (same run, same broker).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
