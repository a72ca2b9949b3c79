"""Drive the toy counter as real processes on a real broker: topics, input, kills, read-back.

Used by the runtime's integration tests and handy for manual experiments.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from xray_contracts.catalogue import TopicSpec, dlq_spec

from xray_runtime.examples import counter
from xray_runtime.reader import PartitionReader
from xray_runtime.state import fold_state

Row = tuple[int, int, bytes | None, bytes | None, list[tuple[str, bytes]]]


class CounterHarness:
    """Topics, input, processes and read-back for one test's namespace."""

    def __init__(self, bootstrap: str, namespace: str, workdir: Path) -> None:
        self.bootstrap = bootstrap
        self.namespace = namespace
        self.workdir = workdir
        self.input = counter.INPUT.topic(namespace)
        self.output = counter.OUTPUT.topic(namespace)
        self.counts = counter.COUNTS.topic(namespace)
        self.dlq = dlq_spec(counter.SERVICE).topic(namespace)
        self.procs: list[subprocess.Popen[bytes]] = []
        self._starts = 0
        admin = AdminClient({"bootstrap.servers": bootstrap})
        create_topics(admin, namespace, [*counter.TOPICS, dlq_spec(counter.SERVICE)])
        self._watch = Consumer(
            {"bootstrap.servers": bootstrap, "group.id": "unused", "isolation.level": "read_uncommitted"}
        )

    def env(self, instance_id: str, **extra: str) -> dict[str, str]:
        """The counter's environment: small batches so kills land mid-stream, fast group failover."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("XRAY_")}
        env.update(
            {
                "XRAY_KAFKA__BOOTSTRAP_SERVERS": self.bootstrap,
                "XRAY_NAMESPACE": self.namespace,
                "XRAY_INSTANCE_ID": instance_id,
                "XRAY_HTTP__PORT": "0",
                "XRAY_HTTP__HOST": "127.0.0.1",
                "XRAY_PROCESSING__BATCH_MAX_RECORDS": "500",
                "XRAY_PROCESSING__STATISTICS_INTERVAL_MS": "1000",
                "XRAY_KAFKA__CONSUMER__SESSION_TIMEOUT_MS": "6000",
                "XRAY_KAFKA__CONSUMER__HEARTBEAT_INTERVAL_MS": "500",
                "XRAY_KAFKA__LOG_LEVEL": "3",
            }
        )
        env.update(extra)
        return env

    def start(self, instance_id: str, **extra: str) -> subprocess.Popen[bytes]:
        """Start one counter process; its JSON logs go to a file in the test's workdir."""
        self._starts += 1
        log = self.workdir / f"{instance_id}-{self._starts}.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "xray_runtime.examples.counter"],
                env=self.env(instance_id, **extra),
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        proc.log_path = log  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    @staticmethod
    def events(proc: subprocess.Popen[bytes], name: str) -> list[dict[str, Any]]:
        """The JSON log events called `name` that `proc` has written so far."""
        found = []
        for line in Path(proc.log_path).read_bytes().splitlines():  # type: ignore[attr-defined]
            if line.startswith(b"{"):
                event = orjson.loads(line)
                if event.get("event") == name:
                    found.append(event)
        return found

    def wait_for_event(
        self, proc: subprocess.Popen[bytes], name: str, timeout_s: float = 60.0
    ) -> dict[str, Any]:
        """Block until `proc` logs event `name` (fails if it exits or times out)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.events(proc, name)
            if found:
                return found[-1]
            if proc.poll() is not None:
                raise AssertionError(f"counter exited {proc.returncode} before {name}: {self.log_tail(proc)}")
            time.sleep(0.1)
        raise AssertionError(f"no {name} within {timeout_s}s: {self.log_tail(proc)}")

    @staticmethod
    def log_tail(proc: subprocess.Popen[bytes], lines: int = 15) -> str:
        """The last lines of a process's log, for failure messages."""
        text = Path(proc.log_path).read_text(errors="replace")  # type: ignore[attr-defined]
        return "\n".join(text.splitlines()[-lines:])

    def produce_input(
        self, records: list[tuple[bytes, bytes]], pace_s: float = 0.0, chunk: int = 1000
    ) -> None:
        """Write keyed input records (idempotent producer, Java-compatible partitioner)."""
        producer = Producer(
            {
                "bootstrap.servers": self.bootstrap,
                "enable.idempotence": True,
                "partitioner": "murmur2_random",
                "linger.ms": 20,
            }
        )
        for i in range(0, len(records), chunk):
            for key, value in records[i : i + chunk]:
                while True:
                    try:
                        producer.produce(self.input, value, key)
                        break
                    except BufferError:
                        producer.poll(0.1)
            producer.poll(0)
            if pace_s:
                producer.flush(30)
                time.sleep(pace_s)
        assert producer.flush(30) == 0

    def progress(self, topic: str) -> int:
        """Sum of a topic's high watermarks (counts uncommitted and aborted records too): cheap progress."""
        total = 0
        for p in range(counter.OUTPUT.partitions):
            _, high = self._watch.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            total += high
        return total

    def wait_progress(
        self, topic: str, at_least: int, procs: list[subprocess.Popen[bytes]], timeout_s: float = 120
    ) -> None:
        """Block until `topic`'s progress gauge reaches `at_least`."""
        deadline = time.monotonic() + timeout_s
        while self.progress(topic) < at_least:
            for proc in procs:
                if proc.poll() is not None:
                    raise AssertionError(f"counter exited {proc.returncode}: {self.log_tail(proc)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"progress on {topic} stuck below {at_least}")
            time.sleep(0.02)

    def read_committed(self, topic: str, partitions: int = counter.OUTPUT.partitions) -> list[Row]:
        """Every committed record of a topic as (partition, offset, key, value, headers)."""
        return read_committed(self.bootstrap, topic, partitions)

    def wait_committed(
        self, topic: str, count: int, procs: list[subprocess.Popen[bytes]], timeout_s: float = 120
    ) -> list[Row]:
        """Block until `topic` holds `count` committed records; return them."""
        deadline = time.monotonic() + timeout_s
        while True:
            rows = self.read_committed(topic)
            if len(rows) >= count:
                return rows
            for proc in procs:
                if proc.poll() is not None:
                    raise AssertionError(f"counter exited {proc.returncode}: {self.log_tail(proc)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic} has {len(rows)} committed records, expected {count}")
            time.sleep(0.5)

    def final_state(self) -> dict[bytes, int]:
        """The counts topic folded the way a restore folds it."""
        rows = self.read_committed(self.counts)
        return fold_state(((k, v) for _, _, k, v, _ in rows), counter.decode_count)

    def stop(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout_s: float = 30) -> int:
        """Signal a process and wait for its exit code."""
        proc.send_signal(sig)
        return proc.wait(timeout_s)

    def cleanup(self) -> None:
        """Kill whatever is still running."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        self._watch.close()


def read_committed(bootstrap: str, topic: str, partitions: int) -> list[Row]:
    """Every committed record of a topic's first `partitions` partitions, partition by partition."""
    reader = PartitionReader({"bootstrap.servers": bootstrap, "group.id": "unused"})
    try:
        rows: list[Row] = []
        for msg in reader.read_to_end(topic, list(range(partitions))):
            headers = msg.headers() or []
            rows.append((msg.partition(), msg.offset(), msg.key(), msg.value(), list(headers)))  # type: ignore[arg-type]
        return rows
    finally:
        reader.close()


def keyed_input(n_records: int, n_keys: int, seed: int) -> list[tuple[bytes, bytes]]:
    """Deterministic keyed input: (key, ASCII integer value)."""
    import random

    rng = random.Random(seed)
    return [(f"key-{rng.randrange(n_keys):04d}".encode(), str(i).encode()) for i in range(n_records)]


def expected_counts(records: list[tuple[bytes, bytes]]) -> dict[bytes, int]:
    """What an uninterrupted run ends with: the number of records per key."""
    counts: dict[bytes, int] = defaultdict(int)
    for key, _ in records:
        counts[key] += 1
    return dict(counts)


def assert_exactly_once(rows: list[Row], expected: dict[bytes, int]) -> None:
    """Each key's outputs are key:1..key:n in log order, each exactly once, none missing."""
    per_key: dict[bytes, list[int]] = defaultdict(list)
    for _, _, key, value, _ in sorted(rows, key=lambda r: (r[0], r[1])):
        assert key is not None
        assert value is not None
        prefix, _, count = value.rpartition(b":")
        assert prefix == key
        per_key[key].append(int(count))
    assert set(per_key) == set(expected)
    for key, n in expected.items():
        assert per_key[key] == list(range(1, n + 1)), f"{key!r}: {per_key[key][:10]}..."


def create_topics(admin: AdminClient, namespace: str, specs: Iterable[TopicSpec]) -> None:
    """Create the specs' topics (RF 1, existing ones are fine)."""
    requests = []
    for spec in specs:
        config = {"cleanup.policy": spec.cleanup_policy, **spec.extra_config}
        if spec.retention_ms is not None:
            config["retention.ms"] = str(spec.retention_ms)
        requests.append(NewTopic(spec.topic(namespace), spec.partitions, 1, config=config))
    for future in admin.create_topics(requests, operation_timeout=30).values():
        try:
            future.result(30)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
