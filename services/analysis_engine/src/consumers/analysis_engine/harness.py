"""Drive the analysis_engine service as real processes on a real broker (integration tests, experiments)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from consumers.analysis_engine.contracts import AnalysisEngineEvent, AnalysisModuleStateRecord
from consumers.analysis_engine.service import SERVICE, topic_spec
from consumers.analysis_engine.testing import gate_event, hysteresis_state, one_hot_belief, regime_output
from xray_contracts import catalogue
from xray_contracts.catalogue import dlq_spec
from xray_contracts.codec import codec_for
from xray_contracts.orchestrator_event import InvalidationCondition
from xray_contracts.state_gate import StateGateEvent
from xray_runtime.examples.counter_harness import create_topics
from xray_runtime.reader import PartitionReader

REGIME_CYCLE = (
    "CHOP_BALANCED",
    "TREND_BUILD_UP",
    "SQUEEZE_UP",
    "TREND_EXHAUSTION",
    "LIQUIDATION_DOWN",
    "CHOP_STOPHUNT",
    "TREND_BUILD_DOWN",
    "SQUEEZE_DOWN",
    "LIQUIDATION_UP",
)


def labelled_gate_series(symbols: list[str], runs_per_symbol: int, seed: int) -> list[StateGateEvent]:
    """Gate events for several symbols, interleaved: labelled regime segments, some CLOSED gates, some
    StateResets (before their run), some duplicated GateEvaluated records and a few StateGateHalted."""
    rng = random.Random(seed)
    per_symbol: dict[str, list[StateGateEvent]] = {}
    for s_index, symbol in enumerate(symbols):
        events: list[StateGateEvent] = []
        label_index = s_index
        remaining = rng.randint(3, 8)
        for i in range(runs_per_symbol):
            if remaining == 0:
                label_index += 1
                remaining = rng.randint(3, 8)
            remaining -= 1
            label = REGIME_CYCLE[label_index % len(REGIME_CYCLE)]
            ts = 180_000 * (i + 1)
            run_id = f"{symbol}-{ts}"
            price = 100.0 + (i % 17)
            regime = regime_output(
                label,
                symbol=symbol,
                timestamp=ts,
                belief=one_hot_belief(label, 0.7),
                contributions=[("derivatives.funding_zscore", 0.4), ("flow.cvd_slope", 0.6)],
                conditions=[
                    InvalidationCondition("level", "market.price", "<", price - 1.5, "close below support"),
                    InvalidationCondition(
                        "level", "market.price", ">", price + 1.5, "close above resistance"
                    ),
                ],
            )
            if rng.random() < 0.05:
                events.append(gate_event(run_id, symbol=symbol, event_type="StateReset", timestamp=ts))
            gate = "CLOSED" if rng.random() < 0.1 else "OPEN"
            hyst = hysteresis_state(label, symbol=symbol, timestamp=ts)
            event = gate_event(
                run_id,
                symbol=symbol,
                timestamp=ts,
                regime=regime,
                hysteresis=hyst,
                gate_status=gate,
                engine_mode="hysteresis",
                reasons=() if gate == "OPEN" else ("transition_active",),
            )
            events.append(event)
            if rng.random() < 0.05:
                events.append(event)  # redelivered upstream record
            if rng.random() < 0.02:
                halt = gate_event(run_id, symbol=symbol, event_type="StateGateHalted", timestamp=ts)
                events.append(halt)  # lifted by the symbol's next (newer) gate input
        per_symbol[symbol] = events
    # Interleave symbols round-robin (per-symbol order kept).
    out: list[StateGateEvent] = []
    cursors = {s: 0 for s in symbols}
    while any(cursors[s] < len(per_symbol[s]) for s in symbols):
        for s in symbols:
            if cursors[s] < len(per_symbol[s]):
                out.append(per_symbol[s][cursors[s]])
                cursors[s] += 1
    return out


class AnalysisHarness:
    """Topics, input, service processes and read-back for one test's namespace."""

    def __init__(self, bootstrap: str, namespace: str, workdir: Path) -> None:
        """Create every topic the service uses in `namespace`."""
        self.bootstrap = bootstrap
        self.namespace = namespace
        self.workdir = workdir
        specs = [
            catalogue.spec("state_gate_event"),
            catalogue.spec("analysis_engine_event"),
            catalogue.spec("analysis_engine.module_state"),
            catalogue.spec("analysis_engine.run_ledger"),
            topic_spec("alerts"),
            dlq_spec(SERVICE),
        ]
        create_topics(AdminClient({"bootstrap.servers": bootstrap}), namespace, specs)
        self.input = catalogue.spec("state_gate_event").topic(namespace)
        self.output = catalogue.spec("analysis_engine_event").topic(namespace)
        self.alerts = topic_spec("alerts").topic(namespace)
        self.module_state = catalogue.spec("analysis_engine.module_state").topic(namespace)
        self.dlq = dlq_spec(SERVICE).topic(namespace)
        self.partitions = catalogue.spec("analysis_engine_event").partitions
        self.procs: list[subprocess.Popen[bytes]] = []
        self._watch = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused"})

    def start(self, instance_id: str = "solo", **extra: str) -> subprocess.Popen[bytes]:
        """Start `python -m consumers.analysis_engine` with small batches; logs to the workdir."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("XRAY_")}
        env.update(
            {
                "XRAY_KAFKA__BOOTSTRAP_SERVERS": self.bootstrap,
                "XRAY_NAMESPACE": self.namespace,
                "XRAY_INSTANCE_ID": instance_id,
                "XRAY_HTTP__PORT": "0",
                "XRAY_HTTP__HOST": "127.0.0.1",
                "XRAY_PROCESSING__BATCH_MAX_RECORDS": "25",
                "XRAY_KAFKA__CONSUMER__SESSION_TIMEOUT_MS": "6000",
                "XRAY_KAFKA__CONSUMER__HEARTBEAT_INTERVAL_MS": "500",
                "XRAY_KAFKA__LOG_LEVEL": "3",
                "XRAY_LOG_LEVEL": "WARNING",
            }
        )
        env.update(extra)
        log = self.workdir / f"{instance_id}-{len(self.procs)}.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "consumers.analysis_engine"],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        proc.log_path = log  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    @staticmethod
    def log_tail(proc: subprocess.Popen[bytes], lines: int = 20) -> str:
        """The last lines of a process log."""
        text = Path(proc.log_path).read_text(errors="replace")  # type: ignore[attr-defined]
        return "\n".join(text.splitlines()[-lines:])

    def produce(self, events: list[StateGateEvent], garbage: Sequence[tuple[str, bytes]] = ()) -> None:
        """Write gate events keyed by symbol (Java-compatible partitioner, like every producer), after any
        undecodable (symbol, bytes) records in `garbage`."""
        codec = codec_for(StateGateEvent)
        producer = Producer(
            {"bootstrap.servers": self.bootstrap, "enable.idempotence": True, "partitioner": "murmur2_random"}
        )
        for symbol, raw in garbage:
            producer.produce(self.input, raw, symbol.encode())
        for event in events:
            headers: list[tuple[str, str | bytes | None]] = [*codec.headers(event)]
            producer.produce(self.input, codec.encode(event), event.symbol.encode(), headers=headers)
            producer.poll(0)
        assert producer.flush(30) == 0

    def progress(self, topic: str) -> int:
        """Sum of high watermarks (uncommitted and aborted records too)."""
        total = 0
        for p in range(self.partitions):
            _, high = self._watch.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            total += high
        return total

    def wait_progress(self, at_least: int, proc: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
        """Block until the output topic's watermark sum reaches `at_least`."""
        deadline = time.monotonic() + timeout_s
        while self.progress(self.output) < at_least:
            if proc.poll() is not None:
                raise AssertionError(f"service exited {proc.returncode}: {self.log_tail(proc)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"output stuck below {at_least}: {self.log_tail(proc)}")
            time.sleep(0.02)

    def read_committed(self, topic: str) -> list[tuple[int, int, bytes | None, bytes | None]]:
        """Every committed record of a topic: (partition, offset, key, value)."""
        reader = PartitionReader({"bootstrap.servers": self.bootstrap, "group.id": "unused"})
        try:
            return [
                (m.partition(), m.offset(), m.key(), m.value())  # type: ignore[misc]
                for m in reader.read_to_end(topic, list(range(self.partitions)))
            ]
        finally:
            reader.close()

    def events(self, topic: str) -> dict[str, list[AnalysisEngineEvent]]:
        """Committed events of a topic per symbol, in log order."""
        codec = codec_for(AnalysisEngineEvent)
        out: dict[str, list[AnalysisEngineEvent]] = defaultdict(list)
        for _, _, _, value in sorted(self.read_committed(topic), key=lambda r: (r[0], r[1])):
            assert value is not None
            event = codec.decode(value)
            out[event.symbol].append(event)
        return dict(out)

    def wait_events(self, count: int, proc: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
        """Block until the output topic holds `count` committed records."""
        deadline = time.monotonic() + timeout_s
        while len(self.read_committed(self.output)) < count:
            if proc.poll() is not None:
                raise AssertionError(f"service exited {proc.returncode}: {self.log_tail(proc)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"fewer than {count} committed events: {self.log_tail(proc)}")
            time.sleep(0.5)

    def module_states(self) -> dict[bytes, AnalysisModuleStateRecord]:
        """The module_state topic folded like a restore (last write wins, tombstones delete)."""
        codec = codec_for(AnalysisModuleStateRecord)
        state: dict[bytes, AnalysisModuleStateRecord] = {}
        for _, _, key, value in sorted(self.read_committed(self.module_state), key=lambda r: (r[0], r[1])):
            assert key is not None
            if value is None:
                state.pop(key, None)
            else:
                state[key] = codec.decode(value)
        return state

    def cleanup(self) -> None:
        """Kill whatever still runs."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        self._watch.close()
