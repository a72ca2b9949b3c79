"""Whole-pipeline chaos: a simulated market replayed through the services on the test's own broker while,
at seeded random points, services are SIGKILLed, the broker is killed and restarted once, and state_gate
scales 1 → 2 → 1. Every output topic, read_committed, must equal an undisturbed run's on the same broker
(published timestamps masked): nothing lost, nothing duplicated, nothing reordered within a symbol.

Stages (the orchestrator service is not merged yet; until it is, the orchestrator_event stage is fed with
what it would publish, computed in-process from the same simulation, as
tests/integration/analysis_engine/test_simulator_pipeline.py does):
- `python -m market_data --recording … --speed max` → raw_market_event (a killed replay restarts with
  `--resume` and continues where it stopped);
- orchestrator_event → `python -m consumers.state_gate` → state_gate_event, state_gate.state(_log)
  → `python -m consumers.analysis_engine` → analysis_engine_event, alerts, module_state, run_ledger.

CI form: 20 symbols, ~20,000 raw events, 6 kills. `make chaos` (XRAY_CHAOS=full): 20 symbols, >500,000
raw events, 22 kills.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from xray_contracts import catalogue
from xray_contracts.catalogue import TopicSpec
from xray_contracts.codec import codec_for
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_evaluation.wire import orchestrator_events
from xray_simulator.api import simulate, write_recording
from xray_simulator.config import SimulatorConfig, default_symbols
from xray_simulator.generator import iter_frames
from xray_testing.chaos import (
    Action,
    ServiceSpec,
    Supervisor,
    chaos_plan,
    committed_count,
    compare_topics,
    run_plan,
)
from xray_testing.local_broker import LocalBroker
from xray_testing.records import WatermarkGauge
from xray_testing.services import running_services, set_topic_config
from xray_testing.topics import create_topics

FULL = os.environ.get("XRAY_CHAOS", "").strip().lower() == "full"
SEED = 4242


@dataclass(frozen=True, slots=True)
class Scale:
    """How big a run is."""

    config: SimulatorConfig
    kills: dict[str, int]
    feed_s: float  # how long the orchestrator_event feed of the chaos run lasts
    replay_speed: float  # the chaos run's market_data pace (x recorded time), so kills land mid-replay
    timeout_s: float


QUICK = Scale(
    SimulatorConfig(
        seed=11, symbols=default_symbols(20), windows=5, activity=0.1, book_interval_s=5, mark_interval_s=5
    ),
    kills={"market_data": 2, "state_gate": 2, "analysis_engine": 2},
    feed_s=25.0,
    replay_speed=50.0,  # 900 s of market in ~18 s
    timeout_s=300.0,
)
FULL_SCALE = Scale(
    SimulatorConfig(seed=11, symbols=default_symbols(20), windows=27, activity=0.3),
    kills={"market_data": 4, "state_gate": 9, "analysis_engine": 9},
    feed_s=150.0,
    replay_speed=60.0,  # 4,860 s of market in ~80 s
    timeout_s=1500.0,
)
SCALE = FULL_SCALE if FULL else QUICK

# Topics the services write (inputs included: the raw topic is market_data's output).
OUTPUTS: tuple[TopicSpec, ...] = (
    catalogue.RAW_MARKET_EVENT,
    catalogue.STATE_GATE_EVENT,
    catalogue.STATE_GATE_STATE,
    catalogue.STATE_GATE_STATE_LOG,
    catalogue.ANALYSIS_ENGINE_EVENT,
    catalogue.ANALYSIS_ENGINE_MODULE_STATE,
    catalogue.ANALYSIS_ENGINE_RUN_LEDGER,
    catalogue.ALERTS,
    *(catalogue.dlq_spec(s) for s in ("market_data", "state_gate", "analysis_engine")),
)
# Wall-clock fields, blanked before comparing (none of the current stages' outputs has one yet; the
# orchestrator's do: published_ts_ms, and the run log's started/completed times).
MASKS = {
    "orchestrator_event": ("published_ts_ms",),
    "orchestrator.run_log": ("started_ts_ms", "completed_ts_ms"),
}
# Where each service's progress is read (its main output topic).
PROGRESS_TOPIC = {
    "market_data": catalogue.RAW_MARKET_EVENT,
    "state_gate": catalogue.STATE_GATE_EVENT,
    "analysis_engine": catalogue.ANALYSIS_ENGINE_EVENT,
}
DONE_TOPICS = (catalogue.STATE_GATE_EVENT, catalogue.ANALYSIS_ENGINE_EVENT)


def service_specs(recording: Path, speed: str) -> dict[str, ServiceSpec]:
    """The pipeline's services (argv after `python`)."""
    replay = ["-m", "market_data", "--recording", str(recording), "--speed", speed, "--no-status-server"]
    return {
        "market_data": ServiceSpec("market_data", replay, restart_argv=[*replay, "--resume"], finishes=True),
        "state_gate": ServiceSpec("state_gate", ["-m", "consumers.state_gate"]),
        "analysis_engine": ServiceSpec("analysis_engine", ["-m", "consumers.analysis_engine"]),
    }


def feed(bootstrap: str, namespace: str, events: Sequence[OrchestratorEvent], duration_s: float) -> None:
    """Write the orchestrator events keyed by symbol, spread evenly over `duration_s` (0: at once)."""
    codec = codec_for(OrchestratorEvent)
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "partitioner": "murmur2_random",
            "log_level": 2,  # quiet while the broker is down
        }
    )
    topic = catalogue.ORCHESTRATOR_EVENT.topic(namespace)
    chunks = max(1, int(duration_s / 0.25))
    size = max(1, -(-len(events) // chunks))
    for start in range(0, len(events), size):
        for event in events[start : start + size]:
            producer.produce(
                topic, codec.encode(event), event.symbol.encode(), headers=list(codec.headers(event))
            )
        producer.poll(0)
        if duration_s:
            time.sleep(duration_s / chunks)
    assert producer.flush(120) == 0


@dataclass
class Run:
    """One pass of the pipeline in one namespace: what was done and how long it took."""

    namespace: str
    actions: list[str]
    kills: dict[str, int]
    crashes: list[str]
    seconds: float


def run_pipeline(
    broker: LocalBroker,
    namespace: str,
    workdir: Path,
    recording: Path,
    inputs: Sequence[OrchestratorEvent],
    *,
    raw_total: int,
    expected: dict[str, int] | None,
    plans: tuple[Sequence[Action], Sequence[Action]] = ((), ()),
) -> Run:
    """Create the namespace's topics and run the pipeline in two phases, each with its plan: the replay
    into the raw topic, then the downstream services on the fed orchestrator_event topic.

    Phases, because a consumer of the raw topic (the orchestrator, once merged) must start on a complete
    topic (its live close would otherwise cut old simulated windows whenever it caught up), and because
    a broker restart stalls the replay's deliveries, which then land all at once and would skip the
    replay's later kill points."""
    raw_plan, downstream_plan = plans
    chaos = bool(raw_plan or downstream_plan)
    bootstrap = broker.bootstrap
    create_topics(AdminClient({"bootstrap.servers": bootstrap}), namespace, catalogue.ALL_TOPICS)
    # market_data stamps each raw record with its receive time, in 2023 for the simulator; under the
    # catalogue's 30-day retention the broker deletes such records at its first retention check
    # (reported: a replay namespace needs retention measured from ingestion, or none).
    set_topic_config(bootstrap, catalogue.RAW_MARKET_EVENT.topic(namespace), "retention.ms", "-1")
    workdir.mkdir(parents=True, exist_ok=True)
    gauge = WatermarkGauge(bootstrap)
    began = time.monotonic()
    raw = catalogue.RAW_MARKET_EVENT
    with running_services(bootstrap, namespace, workdir) as runner:
        speed = str(SCALE.replay_speed) if chaos else "max"
        supervisor = Supervisor(runner, service_specs(recording, speed))

        def progress(service: str) -> float:
            spec = PROGRESS_TOPIC[service]
            total = raw_total if service == "market_data" else (expected or {}).get(spec.name, 0)
            return gauge.total(spec.topic(namespace), spec.partitions) / max(1, total)

        supervisor.start("market_data")
        actions = run_plan(
            raw_plan,
            supervisor,
            progress,
            broker=broker,
            seed=SEED,
            finished=lambda: (
                "market_data" in supervisor.done
                and gauge.total(raw.topic(namespace), raw.partitions) >= raw_total
            ),
            timeout_s=SCALE.timeout_s,
            poll_s=0.2,
        )
        for name in ("analysis_engine", "state_gate"):
            supervisor.start(name).wait_for_event("partitions_assigned", timeout_s=90)
        feeder = threading.Thread(
            target=feed, args=(bootstrap, namespace, inputs, SCALE.feed_s if chaos else 0.0), daemon=True
        )
        feeder.start()
        last_counts: list[dict[str, int]] = []

        def finished() -> bool:
            if feeder.is_alive():
                return False
            counts = {s.name: committed_count(bootstrap, s, namespace) for s in DONE_TOPICS}
            if expected is not None:
                return all(counts[name] >= expected[name] for name in counts)
            # The undisturbed run: done once the outputs stop growing between two polls.
            settled = bool(last_counts) and last_counts[-1] == counts and all(counts.values())
            last_counts.append(counts)
            return settled

        actions += run_plan(
            downstream_plan,
            supervisor,
            progress,
            broker=broker,
            seed=SEED + 1,
            finished=finished,
            timeout_s=SCALE.timeout_s,
            poll_s=0.2 if chaos else 3.0,
        )
        codes = supervisor.stop_all()
        assert all(code == 0 for code in codes.values()), codes
        gauge.close()
        return Run(namespace, actions, dict(supervisor.kills), supervisor.crashes, time.monotonic() - began)


def test_pipeline_under_chaos_equals_the_undisturbed_run(
    private_local_broker: LocalBroker, tmp_path: Path
) -> None:
    broker = private_local_broker
    config = SCALE.config
    sim = simulate(config)
    recording = tmp_path / "market.dat"
    write_recording(iter_frames(config), recording)
    raw_total = len(sim.events)
    inputs = orchestrator_events(config, sim.events)
    assert len(config.symbols) >= 20
    if FULL:
        assert raw_total >= 500_000

    reference = run_pipeline(
        broker, "ref", tmp_path / "ref", recording, inputs, raw_total=raw_total, expected=None
    )
    expected = {s.name: committed_count(broker.bootstrap, s, "ref") for s in DONE_TOPICS}
    raw_kills = {"market_data": SCALE.kills["market_data"]}
    downstream_kills = {k: v for k, v in SCALE.kills.items() if k != "market_data"}
    plans = (
        chaos_plan(SEED, kills=raw_kills),
        chaos_plan(SEED, kills=downstream_kills, scale=("state_gate",), broker_restart="state_gate"),
    )
    print(f"chaos plan: {[a.describe() for p in plans for a in p]}")
    chaos = run_pipeline(
        broker,
        "chaos",
        tmp_path / "chaos",
        recording,
        inputs,
        raw_total=raw_total,
        expected=expected,
        plans=plans,
    )
    diffs = compare_topics(broker.bootstrap, "ref", "chaos", OUTPUTS, MASKS)
    print(
        f"chaos: {raw_total} raw events, {len(config.symbols)} symbols, {len(inputs)} orchestrator events; "
        f"reference run {reference.seconds:.0f}s, chaos run {chaos.seconds:.0f}s; kills {chaos.kills} "
        f"({sum(chaos.kills.values())}); unplanned exits {len(chaos.crashes)}"
    )
    for line in chaos.actions:
        print(f"  did: {line}")
    for diff in diffs:
        print(f"  {diff.describe()}")
    assert chaos.kills == SCALE.kills, "every planned kill must hit a running instance"
    assert any("broker_restart" in a for a in chaos.actions)
    assert all(d.equal for d in diffs), [d.describe() for d in diffs if not d.equal]
    # After the broker's SIGKILL its transaction coordinator aborts the transactions that timed out
    # meanwhile and bumps their producers' epochs: those producers are fenced, the runtime exits 1 and
    # the supervisor restarts them as a deployment would (reported). Any other exit fails the test.
    fenced = [c for c in chaos.crashes if "fenced" in c.lower()]
    print(f"  restarted after being fenced by the broker restart: {len(fenced)}")
    others = [c for c in chaos.crashes if c not in fenced]
    assert not others, others[:3]
    assert not reference.crashes, reference.crashes[:3]
    # Every topic carried records, or the comparison proves little.
    assert all(d.records > 0 for d in diffs if "dlq" not in d.topic), [d.describe() for d in diffs]
