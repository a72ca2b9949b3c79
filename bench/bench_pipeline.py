"""Whole pipeline on a real broker: replay throughput for 1,000,000 raw events, CPU seconds and peak RSS of
each service, the gate stage's latency at a steady rate, and the ceiling (raw produce + consume of the same
records on the same broker), all in one run. `bench/report.py` puts these in the table of `make bench`.

The services run as they are deployed, one process each (`python -m ...`): market_data → orchestrator →
state_gate → analysis_engine. (Should the orchestrator not be installed, its output is computed in-process
from the same simulation and written once market_data has finished, and the figures say so.)

Latency (`boundary_latency`): raw records written straight to the raw topic at a steady rate; for each
record that crosses a 180 s boundary on its partition, the time until every symbol of that partition has
its GateEvaluated for that boundary readable (read_committed) through orchestrator → state_gate.

Usage: .venv/bin/python bench/bench_pipeline.py [--raw 1000000] [--symbols 50]   (starts its own broker)
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from xray_contracts import catalogue
from xray_contracts.codec import ContractCodec, codec_for
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_contracts.raw_market_event import RawMarketEvent
from xray_contracts.state_gate import StateGateEvent
from xray_evaluation.wire import orchestrator_events
from xray_simulator.api import simulate, write_recording
from xray_simulator.config import SimulatorConfig, default_symbols
from xray_simulator.generator import iter_frames
from xray_testing.local_broker import LocalBroker
from xray_testing.measure import ProcessMeter, percentile
from xray_testing.records import read_committed
from xray_testing.services import ServiceProcess, ServiceRunner, set_topic_config
from xray_testing.topics import create_topics

ORCHESTRATOR = importlib.util.find_spec("orchestrator.__main__") is not None
# ~911 raw events per symbol and 180 s window at activity 0.3 (trades thinned, book and mark every 1 s)
EVENTS_PER_SYMBOL_WINDOW = 911
DOWNSTREAM = ("analysis_engine", "state_gate")
QUIET = {"XRAY_LOG_LEVEL": "WARNING", "XRAY_KAFKA__LOG_LEVEL": "2"}


def workload(raw: int, symbols: int, seed: int = 5) -> SimulatorConfig:
    """A simulation of about `raw` raw events over `symbols` symbols."""
    windows = max(2, round(raw / (EVENTS_PER_SYMBOL_WINDOW * symbols)))
    return SimulatorConfig(seed=seed, symbols=default_symbols(symbols), windows=windows, activity=0.3)


def new_namespace(bootstrap: str, prefix: str) -> str:
    """A fresh namespace with every catalogue topic; raw records keep their (old) receive times."""
    namespace = f"{prefix}-{uuid.uuid4().hex[:8]}"
    create_topics(AdminClient({"bootstrap.servers": bootstrap}), namespace, catalogue.ALL_TOPICS)
    set_topic_config(bootstrap, catalogue.RAW_MARKET_EVENT.topic(namespace), "retention.ms", "-1")
    return namespace


def produce(bootstrap: str, topic: str, records: Sequence[tuple[bytes, bytes]]) -> float:
    """Write (key, value) records with an idempotent producer; seconds from the first produce to flush."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "partitioner": "murmur2_random",
            "linger.ms": 20,
            "compression.type": "lz4",
            "queue.buffering.max.messages": 2_000_000,
        }
    )
    started = time.perf_counter()
    for n, (key, value) in enumerate(records, 1):
        while True:
            try:
                producer.produce(topic, value, key)
                break
            except BufferError:
                producer.poll(0.05)
        if n % 10_000 == 0:
            producer.poll(0)
    assert producer.flush(120) == 0
    return time.perf_counter() - started


def consume_all(bootstrap: str, topic: str, partitions: int, total: int) -> float:
    """Read `total` records back read_committed, group-less; seconds from the first record to the last."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    seen, started = 0, 0.0
    try:
        while seen < total:
            msgs = consumer.consume(10_000, 1.0)
            if msgs and not started:
                started = time.perf_counter()
            seen += sum(1 for m in msgs if m.error() is None)
        return time.perf_counter() - started
    finally:
        consumer.close()


def ceiling(bootstrap: str, records: Sequence[tuple[bytes, bytes]]) -> dict[str, float]:
    """Raw produce and consume rates of the workload's records on this broker (records/s)."""
    namespace = new_namespace(bootstrap, "bench-ceil")
    spec = catalogue.RAW_MARKET_EVENT
    produced = produce(bootstrap, spec.topic(namespace), records)
    consumed = consume_all(bootstrap, spec.topic(namespace), spec.partitions, len(records))
    return {
        "produce_per_s": len(records) / produced,
        "consume_per_s": len(records) / consumed,
        # one hop: every record written once and read once
        "hop_per_s": len(records) / (produced + consumed),
    }


@dataclass
class PipelineResult:
    """What one replay through the services measured."""

    raw_events: int
    symbols: int
    orchestrator_events: int
    wall_s: float
    market_data_s: float
    cpu_s: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, int] = field(default_factory=dict)
    ceiling: dict[str, float] = field(default_factory=dict)

    @property
    def events_per_s(self) -> float:
        """Raw events through the whole pipeline per second of wall time."""
        return self.raw_events / self.wall_s

    @property
    def events_per_cpu_s(self) -> float:
        """Raw events per CPU second of every process (broker included)."""
        return self.raw_events / sum(self.cpu_s.values())


def last_commit_wall_ms(bootstrap: str, spec: catalogue.TopicSpec, namespace: str) -> tuple[int, int]:
    """(committed records, latest producer timestamp among them): when the last output was written."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "unused", "isolation.level": "read_committed"}
    )
    try:
        rows = read_committed(bootstrap, spec.topic(namespace), spec.partitions)
        latest = 0
        for p in range(spec.partitions):
            _, high = consumer.get_watermark_offsets(TopicPartition(spec.topic(namespace), p), timeout=10)
            if high:
                consumer.assign([TopicPartition(spec.topic(namespace), p, max(0, high - 3))])
                for m in consumer.consume(3, 5.0):
                    if m.error() is None:
                        latest = max(latest, m.timestamp()[1])
        return len(rows), latest
    finally:
        consumer.close()


def wait_settled(
    bootstrap: str,
    namespace: str,
    services: Sequence[ServiceProcess],
    minimum: dict[str, int],
    timeout_s: float = 600,
) -> dict[str, int]:
    """Block until the outputs reach `minimum` and stop growing; their committed counts."""
    deadline = time.monotonic() + timeout_s
    last: dict[str, int] = {}
    while True:
        for service in services:
            service.check_running()
        counts = {
            s.name: len(read_committed(bootstrap, s.topic(namespace), s.partitions))
            for s in (catalogue.STATE_GATE_EVENT, catalogue.ANALYSIS_ENGINE_EVENT)
        }
        if counts == last and all(counts[k] >= v for k, v in minimum.items()):
            return counts
        if time.monotonic() > deadline:
            raise AssertionError(f"outputs did not settle: {counts}, expected at least {minimum}")
        last = counts
        time.sleep(1.0)


def run_pipeline(broker: LocalBroker, workdir: Path, raw: int, symbols: int) -> PipelineResult:
    """Replay a simulated market of ~`raw` events through the services; time, CPU and RSS of each."""
    bootstrap = broker.bootstrap
    config = workload(raw, symbols)
    sim = simulate(config)
    recording = workdir / "bench.dat"
    write_recording(iter_frames(config), recording)
    inputs = [] if ORCHESTRATOR else orchestrator_events(config, sim.events)
    raw_events = len(sim.events)
    del sim
    namespace = new_namespace(bootstrap, "bench-pipe")
    meter = ProcessMeter()
    assert broker.pid is not None
    runner = ServiceRunner(bootstrap, namespace, workdir)
    try:
        modules = {"analysis_engine": "consumers.analysis_engine", "state_gate": "consumers.state_gate"}
        if ORCHESTRATOR:
            modules["orchestrator"] = "orchestrator"
        consumers = []
        for name, module in modules.items():
            proc = runner.start(name, ["-m", module], {**QUIET, "XRAY_LOG_LEVEL": "INFO"})
            proc.wait_for_event("partitions_assigned", timeout_s=120)
            consumers.append(proc)
        # CPU counts from the replay's start: service start-up and idle waiting are not the pipeline's.
        meter.track("broker", broker.pid, from_now=True)
        for proc in consumers:
            meter.track(proc.name, proc.proc.pid, from_now=True)
        meter.start()
        started_wall_ms = int(time.time() * 1000)
        began = time.perf_counter()
        ingest = runner.start(
            "market_data",
            ["-m", "market_data", "--recording", str(recording), "--speed", "max", "--no-status-server"],
            QUIET,
        )
        meter.track("market_data", ingest.proc.pid)
        assert ingest.proc.wait(1800) == 0, ingest.log_tail()
        market_data_s = time.perf_counter() - began
        if not ORCHESTRATOR:
            codec = codec_for(OrchestratorEvent)
            produce(
                bootstrap,
                catalogue.ORCHESTRATOR_EVENT.topic(namespace),
                [(e.symbol.encode(), codec.encode(e)) for e in inputs],
            )
        # One run per symbol per closed boundary (the last window stays open: old data never live-closes).
        expected_runs = symbols * (config.windows - 1) if ORCHESTRATOR else len(inputs)
        outputs = wait_settled(bootstrap, namespace, consumers, {"state_gate_event": max(1, expected_runs)})
        _, last_ms = last_commit_wall_ms(bootstrap, catalogue.ANALYSIS_ENGINE_EVENT, namespace)
        meter.stop()
        result = PipelineResult(
            raw_events=raw_events,
            symbols=symbols,
            orchestrator_events=len(inputs),
            wall_s=(last_ms - started_wall_ms) / 1000,
            market_data_s=market_data_s,
            outputs=outputs,
        )
        for name in meter.names():
            result.cpu_s[name] = meter.cpu_s(name)
            result.peak_rss_mb[name] = meter.peak_rss_mb(name)
        # The ceiling: the very records market_data wrote, produced and consumed once more.
        spec = catalogue.RAW_MARKET_EVENT
        rows = read_committed(bootstrap, spec.topic(namespace), spec.partitions)
        result.ceiling = ceiling(bootstrap, [(r.key or b"", r.value or b"") for r in rows])
        result.ceiling["client_rss_mb"] = raw_client_rss_mb(bootstrap, namespace, len(rows))
        return result
    finally:
        runner.stop_all()


def latency_tail(bootstrap: str, topic: str) -> Consumer:
    """A read_committed consumer of `topic` from its start that fetches with the least waiting."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{uuid.uuid4().hex}",
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 5,
        }
    )
    consumer.subscribe([topic])
    return consumer


def gate_latency(
    broker: LocalBroker, workdir: Path, rate_per_s: float, seconds: float, symbols: int, *, through_gate: bool
) -> list[float]:
    """Milliseconds from writing an EngineRunCompleted to its GateEvaluated being readable (read_committed),
    inputs written at a steady `rate_per_s` for `seconds`. `through_gate=False` is the ceiling: the same
    records written and read back on one topic with no service in between."""
    bootstrap = broker.bootstrap
    namespace = new_namespace(bootstrap, "bench-lat")
    config = workload(int(rate_per_s * seconds) * 4, symbols)
    inputs = orchestrator_events(config)[: int(rate_per_s * seconds)]
    runner = ServiceRunner(bootstrap, namespace, workdir)
    sent: dict[str, float] = {}
    got: dict[str, float] = {}
    created: dict[str, float] = {}  # the output's producer timestamp (wall clock), for the split below
    sent_wall: dict[str, float] = {}
    stop = threading.Event()
    in_topic = catalogue.ORCHESTRATOR_EVENT.topic(namespace)
    out_topic = catalogue.STATE_GATE_EVENT.topic(namespace) if through_gate else in_topic

    def tail() -> None:
        codec: ContractCodec[Any] = codec_for(StateGateEvent if through_gate else OrchestratorEvent)
        consumer = latency_tail(bootstrap, out_topic)
        while not stop.is_set():
            # poll, not consume(n, t): consume waits for n records or t, which would add to the latency
            m = consumer.poll(0.01)
            if m is not None and m.error() is None:
                event = codec.decode(m.value() or b"")
                if not through_gate or event.event_type == "GateEvaluated":
                    got.setdefault(event.run_id, time.perf_counter())
                    created.setdefault(event.run_id, m.timestamp()[1] / 1000)
        consumer.close()

    try:
        if through_gate:
            proc = runner.start(
                "state_gate", ["-m", "consumers.state_gate"], QUIET | {"XRAY_LOG_LEVEL": "INFO"}
            )
            proc.wait_for_event("partitions_assigned", timeout_s=120)
        tailer = threading.Thread(target=tail, daemon=True)
        tailer.start()
        time.sleep(2.0)
        codec = codec_for(OrchestratorEvent)
        producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "linger.ms": 0})
        began = time.perf_counter()
        for i, event in enumerate(inputs):
            due = began + i / rate_per_s
            while time.perf_counter() < due:
                time.sleep(max(0.0, min(0.01, due - time.perf_counter())))
            value = codec.encode(event)
            producer.produce(in_topic, value, event.symbol.encode(), headers=list(codec.headers(event)))
            producer.poll(0)
            sent[event.run_id] = time.perf_counter()
            sent_wall[event.run_id] = time.time()
        producer.flush(30)
        deadline = time.monotonic() + 60
        while len(got) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        tailer.join(10)
    finally:
        runner.stop_all()
    if through_gate and created:
        to_produce = [(created[r] - sent_wall[r]) * 1000 for r in created if r in sent_wall]
        LAST_SPLIT["written_p50_ms"] = percentile(to_produce, 50)
        LAST_SPLIT["written_p99_ms"] = percentile(to_produce, 99)
    return [(got[r] - t) * 1000 for r, t in sent.items() if r in got]


# The gate run's split: input written -> GateEvaluated produced (its producer timestamp), p50/p99.
LAST_SPLIT: dict[str, float] = {}
WINDOW_MS = 180_000


def latency_workload(rate_per_s: float, seconds: float, symbols: int) -> list[Any]:
    """A thin simulated market (~4,000 raw events per 180 s window over 50 symbols): at 2,000 events/s a
    boundary is crossed every ~2 s of wall time, so a minute gives hundreds of (symbol, boundary) samples."""
    per_window = 76 * symbols  # activity 0.05, book/mark every 30 s: ~76 events per symbol-window
    windows = max(3, int(rate_per_s * seconds / per_window) + 1)
    config = SimulatorConfig(
        seed=9,
        symbols=default_symbols(symbols),
        windows=windows,
        activity=0.05,
        book_interval_s=30,
        mark_interval_s=30,
    )
    events = sorted(simulate(config).events, key=lambda e: e.recv_ts_ms)
    return events[: int(rate_per_s * seconds)]


def boundary_latency(
    broker: LocalBroker,
    workdir: Path,
    rate_per_s: float,
    seconds: float,
    symbols: int,
    env: dict[str, str] | None = None,
) -> list[float]:
    """Milliseconds from writing the raw record that crosses a boundary on its partition to each of that
    partition's symbols' GateEvaluated for the boundary being readable, raw records at a steady rate."""
    from market_data.resume import partition_for  # the murmur2_random partition of a key

    bootstrap = broker.bootstrap
    namespace = new_namespace(bootstrap, "bench-e2e")
    events = latency_workload(rate_per_s, seconds, symbols)
    partitions = catalogue.RAW_MARKET_EVENT.partitions
    part_of = {s: partition_for(s.encode(), partitions) for s in {e.symbol for e in events}}
    runner = ServiceRunner(bootstrap, namespace, workdir)
    crossed: dict[
        tuple[int, int], float
    ] = {}  # (partition, boundary) -> when its crossing record was written
    got: dict[tuple[str, int], float] = {}
    stop = threading.Event()
    out_topic = catalogue.STATE_GATE_EVENT.topic(namespace)

    def tail() -> None:
        codec = codec_for(StateGateEvent)
        consumer = latency_tail(bootstrap, out_topic)
        while not stop.is_set():
            m = consumer.poll(0.01)
            if m is not None and m.error() is None:
                event = codec.decode(m.value() or b"")
                if event.event_type == "GateEvaluated":
                    got.setdefault((event.symbol, event.engine_timestamp_ms), time.perf_counter())
        consumer.close()

    quiet_live = {
        **QUIET,
        "XRAY_LOG_LEVEL": "INFO",
        "XRAY_ORCHESTRATOR__SCHEDULER__LIVE_CLOSE": "false",
        **(env or {}),
    }
    try:
        for name, module in (("state_gate", "consumers.state_gate"), ("orchestrator", "orchestrator")):
            proc = runner.start(name, ["-m", module], quiet_live)
            proc.wait_for_event("partitions_assigned", timeout_s=120)
        tailer = threading.Thread(target=tail, daemon=True)
        tailer.start()
        time.sleep(2.0)
        codec = codec_for(RawMarketEvent)
        topic = catalogue.RAW_MARKET_EVENT.topic(namespace)
        producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "linger.ms": 0})
        open_boundary: dict[int, int] = {}
        began = time.perf_counter()
        for i, event in enumerate(events):
            due = began + i / rate_per_s
            while time.perf_counter() < due:
                time.sleep(max(0.0, min(0.005, due - time.perf_counter())))
            producer.produce(topic, codec.encode(event), event.symbol.encode())
            producer.poll(0)
            now = time.perf_counter()
            p, ts = part_of[event.symbol], event.recv_ts_ms
            boundary = open_boundary.get(p)
            if boundary is not None and ts >= boundary:
                crossed[(p, boundary)] = now  # later boundaries of a gap close with it; the first is timed
            if boundary is None or ts >= boundary:
                open_boundary[p] = (ts // WINDOW_MS + 1) * WINDOW_MS
        producer.flush(30)
        wanted = {(s, b) for (p, b) in crossed for s, sp in part_of.items() if sp == p}
        deadline = time.monotonic() + 60
        while not wanted <= set(got) and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        tailer.join(10)
    finally:
        runner.stop_all()
    return [(got[(s, b)] - crossed[(part_of[s], b)]) * 1000 for (s, b) in got if (part_of[s], b) in crossed]


RAW_CLIENT = """
import sys, time
from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING
import xray_runtime.processor, xray_contracts.codec  # what every service imports
bootstrap, topic, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-rss", "isolation.level": "read_committed"})
c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(6)])
p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 20})
seen = 0
while seen < total:
    for m in c.consume(10000, 1.0):
        if m.error() is None:
            seen += 1
            p.produce(topic + ".copy", m.value(), m.key())
            p.poll(0)
p.flush(60)
print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
"""


def raw_client_rss_mb(bootstrap: str, namespace: str, total: int) -> float:
    """Peak RSS (MB) of a bare client process that imports the runtime, consumes every raw record and
    produces it again: the floor under any service's memory on this workload."""
    import subprocess

    topic = catalogue.RAW_MARKET_EVENT.topic(namespace)
    out = subprocess.run(
        [sys.executable, "-c", RAW_CLIENT, bootstrap, topic, str(total)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> int:
    """Run the pipeline replay, the ceiling and the gate latency; print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--raw", type=int, default=1_000_000)
    parser.add_argument("--symbols", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        broker = LocalBroker(Path(tmp) / "broker")
        broker.start()
        try:
            # the first pass warms the just-started broker's JIT (a deployed broker's is warm); both print
            cold_dir = Path(tmp) / "cold-pass"
            cold_dir.mkdir()
            cold = run_pipeline(broker, cold_dir, args.raw, args.symbols)
            print(f"first pass (cold broker JVM): wall {cold.wall_s:.1f} s, cpu {cold.cpu_s}")
            result = run_pipeline(broker, Path(tmp), args.raw, args.symbols)
            print(result)
            print(f"events/s {result.events_per_s:,.0f}, events per CPU-s {result.events_per_cpu_s:,.0f}")
            latencies = boundary_latency(broker, Path(tmp), 2000.0, 60.0, args.symbols)
            print(
                f"boundary -> GateEvaluated latency ms: p50 {percentile(latencies, 50):.1f} "
                f"p99 {percentile(latencies, 99):.1f} mean {statistics.fmean(latencies):.1f} "
                f"n={len(latencies)}"
            )
        finally:
            broker.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
