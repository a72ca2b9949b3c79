"""Drive the state_gate service as real processes on a real broker: topics, workload, kills, read-back.

Used by tests/integration/state_gate and handy for manual experiments.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from consumers.state_gate import StateGateConfig, StateGateProcessor
from consumers.state_gate.contracts import StateGateEvent
from consumers.state_gate.samples import completed, failed, hysteresis, sample_config, started
from xray_contracts import catalogue
from xray_contracts.codec import codec_for
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_runtime.reader import PartitionReader
from xray_testing.services import set_topic_config
from xray_testing.topics import create_topics

MAX_GAP_MS = 180_000
DENYLIST = ("late_data",)
TOPICS = (
    catalogue.ORCHESTRATOR_EVENT,
    catalogue.STATE_GATE_EVENT,
    catalogue.STATE_GATE_STATE,
    catalogue.STATE_GATE_STATE_LOG,
    catalogue.STATE_GATE_CONTROL,
    catalogue.dlq_spec("state_gate"),
)
Row = tuple[int, int, bytes | None, bytes | None, list[tuple[str, bytes]]]


def gate_config() -> StateGateConfig:
    """The config both the service (via env) and the in-memory reference use."""
    return sample_config(
        max_gap_ms=MAX_GAP_MS, denylist=DENYLIST, block_during_transition=True, max_pending=1000
    )


def run_id_for(symbol: str, ts: int, mode: str) -> str:
    """The orchestrator's run_id derivation (cut_end_ingest_seq = ts in these fixtures)."""
    return hashlib.sha256(f"{symbol}|{ts}|{ts}|{mode}".encode()).hexdigest()


def workload(symbols: Sequence[str], runs: int, seed: int) -> list[OrchestratorEvent]:
    """Runs per symbol (truth/hysteresis, some failed, some gaps), every event twice, some out of order."""
    rng = random.Random(seed)
    streams: dict[str, list[OrchestratorEvent]] = {}
    for symbol in symbols:
        events: list[OrchestratorEvent] = []
        ts = 0
        for _ in range(runs):
            ts += MAX_GAP_MS * (2 if rng.random() < 0.1 else 1)
            mode = rng.choice(("truth", "hysteresis"))
            rid = run_id_for(symbol, ts, mode)
            inval = ("late_data",) if rng.random() < 0.2 else ("quiet",)
            run: list[OrchestratorEvent] = [started(rid, ts, symbol=symbol, engine_mode=mode)]
            if rng.random() < 0.1:
                run.append(failed(rid, ts, symbol=symbol, engine_mode=mode, with_payload=rng.random() < 0.5))
            elif mode == "truth":
                run.append(completed(rid, ts, symbol=symbol, invalidations=inval))
            else:
                pair = [
                    hysteresis(rid, ts, symbol=symbol, progress=rng.choice((0, 0, 1))),
                    completed(rid, ts, symbol=symbol, engine_mode="hysteresis", invalidations=inval),
                ]
                if rng.random() < 0.3:
                    pair.reverse()  # out of order within the run
                run.extend(pair)
            events.extend(run)
        # Every event twice; the copy lands up to 6 places later (so after newer runs at times).
        doubled: list[tuple[float, OrchestratorEvent]] = []
        for i, event in enumerate(events):
            doubled.append((i, event))
            doubled.append((i + rng.uniform(0.1, 6.0), event))
        streams[symbol] = [e for _, e in sorted(doubled, key=lambda pair: pair[0])]
    merged: list[OrchestratorEvent] = []
    cursors = {s: 0 for s in symbols}
    while cursors:
        symbol = rng.choice(sorted(cursors))
        merged.append(streams[symbol][cursors[symbol]])
        cursors[symbol] += 1
        if cursors[symbol] == len(streams[symbol]):
            del cursors[symbol]
    return merged


def expected_by_symbol(events: Sequence[OrchestratorEvent]) -> dict[str, list[StateGateEvent]]:
    """What the in-memory reference gate emits, per symbol, in order."""
    processor = StateGateProcessor(gate_config())
    out: dict[str, list[StateGateEvent]] = {}
    for event in events:
        for emitted in processor.consume(event):
            out.setdefault(emitted.symbol, []).append(emitted)
    return out


class GateHarness:
    """Topics in a fresh namespace, the service as subprocesses, input producer and committed read-back."""

    def __init__(
        self,
        bootstrap: str,
        namespace: str,
        workdir: Path,
        topics: Sequence[catalogue.TopicSpec] = TOPICS,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.namespace = namespace
        self.workdir = workdir
        self.procs: list[subprocess.Popen[bytes]] = []
        self._starts = 0
        self.extra_env = dict(extra_env or {})
        self._admin = AdminClient({"bootstrap.servers": bootstrap})
        create_topics(self._admin, namespace, topics)
        self.input = catalogue.ORCHESTRATOR_EVENT.topic(namespace)
        self.output = catalogue.STATE_GATE_EVENT.topic(namespace)
        self.state = catalogue.STATE_GATE_STATE.topic(namespace)
        self.state_log = catalogue.STATE_GATE_STATE_LOG.topic(namespace)
        self.dlq = catalogue.dlq_spec("state_gate").topic(namespace)
        self._watch = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused"})
        self._producer = Producer(
            {"bootstrap.servers": bootstrap, "enable.idempotence": True, "partitioner": "murmur2_random"}
        )

    def env(self, instance_id: str) -> dict[str, str]:
        """The service's environment: small batches, fast failover, the test's gate config."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("XRAY_")}
        env.update(
            {
                "XRAY_KAFKA__BOOTSTRAP_SERVERS": self.bootstrap,
                "XRAY_NAMESPACE": self.namespace,
                "XRAY_INSTANCE_ID": instance_id,
                "XRAY_HTTP__PORT": "0",
                "XRAY_HTTP__HOST": "127.0.0.1",
                "XRAY_PROCESSING__BATCH_MAX_RECORDS": "50",
                "XRAY_PROCESSING__STATISTICS_INTERVAL_MS": "0",
                "XRAY_KAFKA__CONSUMER__SESSION_TIMEOUT_MS": "6000",
                "XRAY_KAFKA__CONSUMER__HEARTBEAT_INTERVAL_MS": "500",
                "XRAY_KAFKA__LOG_LEVEL": "3",
                "XRAY_GATE__MAX_GAP_MS": str(MAX_GAP_MS),
                "XRAY_GATE__DENYLISTED_INVALIDATIONS": orjson.dumps(list(DENYLIST)).decode(),
                "XRAY_GATE__BLOCK_DURING_TRANSITION": "true",
            }
        )
        env.update(self.extra_env)
        return env

    def set_topic_config(self, topic: str, key: str, value: str) -> None:
        """Change one broker-side topic config (e.g. a small max.message.bytes to make writes fail)."""
        set_topic_config(self.bootstrap, topic, key, value)

    def readyz(self, proc: subprocess.Popen[bytes]) -> int:
        """The HTTP status of GET /readyz (200 ready, 503 not ready)."""
        port = int(self.events(proc, "http_started")[-1]["port"])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def wait_readyz(self, proc: subprocess.Popen[bytes], status: int, timeout_s: float = 60.0) -> None:
        """Block until /readyz answers `status`."""
        deadline = time.monotonic() + timeout_s
        while self.readyz(proc) != status:
            if proc.poll() is not None:
                raise AssertionError(f"service exited {proc.returncode}: {self.log_tail(proc)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"/readyz never answered {status}: {self.log_tail(proc)}")
            time.sleep(0.1)

    def start(self, instance_id: str) -> subprocess.Popen[bytes]:
        """Start one `python -m consumers.state_gate`; its JSON logs go to the test's workdir."""
        self._starts += 1
        log = self.workdir / f"{instance_id}-{self._starts}.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "consumers.state_gate"],
                env=self.env(instance_id),
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        proc.log_path = log  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    @staticmethod
    def events(proc: subprocess.Popen[bytes], name: str) -> list[dict[str, Any]]:
        """JSON log events called `name` that `proc` has written so far."""
        found = []
        for line in Path(proc.log_path).read_bytes().splitlines():  # type: ignore[attr-defined]
            if line.startswith(b"{"):
                event = orjson.loads(line)
                if event.get("event") == name:
                    found.append(event)
        return found

    @staticmethod
    def log_tail(proc: subprocess.Popen[bytes], lines: int = 20) -> str:
        """The last lines of a process's log, for failure messages."""
        text = Path(proc.log_path).read_text(errors="replace")  # type: ignore[attr-defined]
        return "\n".join(text.splitlines()[-lines:])

    def wait_for_event(self, proc: subprocess.Popen[bytes], name: str, timeout_s: float = 60.0) -> None:
        """Block until `proc` logs `name`."""
        deadline = time.monotonic() + timeout_s
        while not self.events(proc, name):
            if proc.poll() is not None:
                raise AssertionError(f"service exited {proc.returncode}: {self.log_tail(proc)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {name} within {timeout_s}s: {self.log_tail(proc)}")
            time.sleep(0.1)

    def metrics_text(self, proc: subprocess.Popen[bytes]) -> str:
        """GET /metrics of a running service (its port comes from the `http_started` log event)."""
        port = int(self.events(proc, "http_started")[-1]["port"])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            text: str = response.read().decode()
        return text

    def produce(self, events: Sequence[OrchestratorEvent]) -> None:
        """Write orchestrator events keyed by symbol (Avro single-object, catalogue headers)."""
        codec = codec_for(OrchestratorEvent)
        for event in events:
            headers: list[tuple[str, str | bytes | None]] = list(codec.headers(event))
            self._producer.produce(self.input, codec.encode(event), event.symbol.encode(), headers=headers)
            self._producer.poll(0)
        assert self._producer.flush(30) == 0

    def produce_paced(self, events: Sequence[OrchestratorEvent], chunk: int, pace_s: float) -> None:
        """Write events in chunks with pauses, so kills and stops land while records flow."""
        for i in range(0, len(events), chunk):
            self.produce(events[i : i + chunk])
            time.sleep(pace_s)

    def wait_progress(
        self, topic: str, at_least: int, procs: Sequence[subprocess.Popen[bytes]], timeout_s: float = 90.0
    ) -> None:
        """Block until `topic`'s high watermarks add up to `at_least`."""
        deadline = time.monotonic() + timeout_s
        while self.progress(topic) < at_least:
            for proc in procs:
                if proc.poll() is not None:
                    raise AssertionError(f"service exited {proc.returncode}: {self.log_tail(proc)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"progress on {topic} stuck below {at_least}")
            time.sleep(0.05)

    def produce_raw(self, key: bytes, value: bytes) -> None:
        """Write arbitrary bytes to the input topic (a corrupt record)."""
        self._producer.produce(self.input, value, key)
        assert self._producer.flush(30) == 0

    def progress(self, topic: str) -> int:
        """Sum of high watermarks (includes uncommitted records): a cheap progress gauge."""
        total = 0
        for p in range(catalogue.STATE_GATE_EVENT.partitions):
            _, high = self._watch.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            total += high
        return total

    def read_committed(self, topic: str) -> list[Row]:
        """Every committed record of a topic as (partition, offset, key, value, headers)."""
        reader = PartitionReader({"bootstrap.servers": self.bootstrap, "group.id": "unused"})
        try:
            rows: list[Row] = []
            for msg in reader.read_to_end(topic, list(range(catalogue.STATE_GATE_EVENT.partitions))):
                raw = msg.headers() or []
                items = list(raw.items()) if isinstance(raw, dict) else raw
                headers = [(str(k), v if isinstance(v, bytes) else b"") for k, v in items]
                rows.append((msg.partition() or 0, msg.offset() or 0, msg.key(), msg.value(), headers))
            return rows
        finally:
            reader.close()

    def outputs_by_symbol(self) -> dict[str, list[StateGateEvent]]:
        """Committed state_gate_event records decoded, per symbol, in offset order."""
        codec = codec_for(StateGateEvent)
        out: dict[str, list[StateGateEvent]] = {}
        for _, _, _, value, _ in sorted(self.read_committed(self.output), key=lambda r: (r[0], r[1])):
            assert value is not None
            event = codec.decode(value)
            out.setdefault(event.symbol, []).append(event)
        return out

    def wait_outputs(
        self, count: int, procs: Sequence[subprocess.Popen[bytes]], timeout_s: float = 90.0
    ) -> dict[str, list[StateGateEvent]]:
        """Block until `count` committed outputs exist; return them per symbol."""
        deadline = time.monotonic() + timeout_s
        while True:
            out = self.outputs_by_symbol()
            if sum(len(v) for v in out.values()) >= count:
                return out
            for proc in procs:
                if proc.poll() is not None:
                    raise AssertionError(f"service exited {proc.returncode}: {self.log_tail(proc)}")
            if time.monotonic() > deadline:
                have = sum(len(v) for v in out.values())
                raise AssertionError(f"{have} committed outputs, expected {count}")
            time.sleep(0.3)

    def stop(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout_s: float = 30) -> int:
        """Signal a process and wait for its exit code."""
        proc.send_signal(sig)
        return proc.wait(timeout_s)

    def cleanup(self) -> None:
        """Kill leftover processes."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
