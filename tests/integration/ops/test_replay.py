"""`xray replay` on a real broker.

- The 2024-08-08 BTCUSDT + ETHUSDT recording (XRAY_SAMPLE_DATA), replayed twice into two namespaces,
  gives identical reports (apart from their id, namespace and timing) and identical output topics,
  compared record by record with the wall-clock fields masked; `xray tail` round-trips every topic of
  the replay; `--compare` says the outputs are identical; `--clean` removes both namespaces.
- The drain probe, which decides when a replay is done, on the real state_gate and analysis_engine
  services: it reports a backlog while they work and zero only once every input record is reflected
  in their committed outputs; on the real orchestrator: zero once it has cut every boundary the raw
  log crosses, although its group never commits the log end (the last window stays open).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from consumers.state_gate.harness import expected_by_symbol, workload
from market_data.resume import partition_for
from xray_contracts import catalogue
from xray_contracts.codec import default_codecs
from xray_contracts.orchestrator_event import ENGINE_RUN_COMPLETED, OrchestratorEvent
from xray_contracts.plain import from_plain
from xray_contracts.raw_market_event import RawMarketEvent
from xray_ops import catalogue as services
from xray_ops.drain import DrainProbe
from xray_ops.outputs import decoded_values, topic_records
from xray_ops.report import comparable
from xray_runtime.topics import admin_client
from xray_simulator.api import simulate
from xray_simulator.config import WINDOW_MS, SimulatorConfig
from xray_testing.services import running_services, set_topic_config
from xray_testing.topics import create_topics

pytestmark = pytest.mark.kafka
XRAY = str(Path(sys.executable).with_name("xray"))
RECORDING_DIR = "binance_usdm_hftbacktest/2024-08-08_btc_eth"


def sample_recordings() -> list[Path]:
    root = os.environ.get("XRAY_SAMPLE_DATA")
    if not root:
        pytest.skip("XRAY_SAMPLE_DATA is not set (the real recordings)")
    folder = Path(root) / RECORDING_DIR
    return [folder / "btcusdt_20240808.gz", folder / "ethusdt_20240808.gz"]


def xray(bootstrap: str, *args: str, timeout_s: float = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XRAY_")}
    env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    return subprocess.run(
        [XRAY, *args], env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )


def replay(bootstrap: str, files: list[Path], replay_id: str, out: Path) -> dict[str, Any]:
    args = [a for f in files for a in ("--recording", str(f))]
    done = xray(bootstrap, "replay", *args, "--id", replay_id, "--out", str(out), "--json")
    logs = (
        "\n".join(f"== {p}\n{p.read_text()[-2000:]}" for p in (out / "logs").glob("*.log"))
        if out.exists()
        else ""
    )
    assert done.returncode == 0, f"{done.stderr[-3000:]}\n{logs}"
    report: dict[str, Any] = json.loads(done.stdout)
    assert report == json.loads((out / "report.json").read_text())
    assert (out / "report.md").read_text().startswith(f"# Replay {replay_id}")
    return report


def tail_round_trips(bootstrap: str, namespace: str) -> int:
    """`xray tail` every non-empty contract topic of a namespace; each line must give its value back."""
    codecs = default_codecs()
    procs = {}
    for spec in catalogue.TOPICS:
        env = {
            "PATH": "/usr/bin:/bin",
            "XRAY_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
            "XRAY_NAMESPACE": namespace,
        }
        procs[spec.name] = subprocess.Popen(
            [XRAY, "tail", spec.name, "--from-beginning", "--timeout", "5"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    checked = 0
    for spec in catalogue.TOPICS:
        out, err = procs[spec.name].communicate(timeout=300)
        assert procs[spec.name].returncode == 0, err
        contract = codecs.for_topic(spec).binding.contract
        for line in out.splitlines():
            record = json.loads(line)
            if record["value"] is not None:
                assert to_json(from_plain(contract, record["value"])) == to_json(record["value"]), spec.name
                checked += 1
    return checked


def to_json(value: Any) -> str:
    from xray_contracts.plain import to_plain

    plain = value if isinstance(value, dict) else to_plain(value)
    return json.dumps(plain, sort_keys=True)


@pytest.mark.slow
def test_replaying_the_recording_twice_gives_identical_reports_and_topics(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    files = sample_recordings()
    tag = uuid.uuid4().hex[:6]
    ids = [f"t-{tag}-a", f"t-{tag}-b"]
    try:
        first = replay(kafka_bootstrap, files, ids[0], tmp_path / "a")
        second = replay(kafka_bootstrap, files, ids[1], tmp_path / "b")
        assert comparable(first) == comparable(second)
        results = first["results"]
        assert set(results["symbols"]) == {"BTCUSDT", "ETHUSDT"}
        for symbol, row in results["symbols"].items():
            assert row["runs"] >= 1, symbol
            assert row["raw_events"] > 0, symbol
            assert abs(sum(row["regimes"]["time_share"].values()) - 1.0) < 1e-3, symbol
        assert results["raw_events"] == sum(results["raw_by_type"].values())
        assert first["timing"]["raw_events_per_s"] > 0

        ns_a, ns_b = first["namespace"], second["namespace"]
        # The reports hold a masked digest of every topic, so equal reports mean equal topics; the
        # decisive ones are also compared record by record, for a readable failure.
        for spec in (
            catalogue.ORCHESTRATOR_EVENT,
            catalogue.ORCHESTRATOR_RUN_LOG,
            catalogue.STATE_GATE_EVENT,
        ):
            a = list(topic_records(kafka_bootstrap, ns_a, spec))
            assert a == list(topic_records(kafka_bootstrap, ns_b, spec)), f"{spec.name} differs"
        assert results["topics"] == second["results"]["topics"]
        assert set(results["topics"]) == {s.name for s in catalogue.ALL_TOPICS}
        assert results["topics"]["orchestrator_event"]["records"] > 0
        assert results["topics"]["state_gate_event"]["records"] > 0
        assert tail_round_trips(kafka_bootstrap, ns_a) > 0

        compared = xray(kafka_bootstrap, "replay", "--compare", str(tmp_path / "a"), str(tmp_path / "b"))
        assert compared.returncode == 0, compared.stderr
        assert "output topics identical (masked digests): yes" in compared.stdout
    finally:
        for replay_id in ids:
            xray(kafka_bootstrap, "replay", "--clean", replay_id, timeout_s=120)
    left = [t for t in admin_client(kafka_bootstrap).list_topics(timeout=30).topics if tag in t]
    assert left == []


def test_replay_refuses_an_existing_namespace_and_a_missing_source(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    namespace = f"bt-t-{uuid.uuid4().hex[:6]}"
    create_topics(
        AdminClient({"bootstrap.servers": kafka_bootstrap}), namespace, [catalogue.RAW_MARKET_EVENT]
    )
    recording = tmp_path / "r.dat"
    recording.write_text("")
    try:
        done = xray(
            kafka_bootstrap, "replay", "--recording", str(recording), "--id", namespace, timeout_s=120
        )
        assert done.returncode != 0
        assert "already has 1 topics" in done.stderr
        assert xray(kafka_bootstrap, "replay", timeout_s=60).returncode == 2  # no source: usage error
        cleaned = xray(kafka_bootstrap, "replay", "--clean", namespace, timeout_s=120)
        assert cleaned.returncode == 0, cleaned.stderr
        assert "removed 1 topics" in cleaned.stdout
        # An id is always read inside the bt- prefix: `--clean xray` can never touch the live namespace.
        assert "of bt-xray" in xray(kafka_bootstrap, "replay", "--clean", "xray", timeout_s=60).stdout
    finally:
        xray(kafka_bootstrap, "replay", "--clean", namespace, timeout_s=120)


def test_drain_probe_reaches_zero_only_when_the_outputs_are_complete(
    kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path
) -> None:
    create_topics(AdminClient({"bootstrap.servers": kafka_bootstrap}), kafka_namespace, catalogue.ALL_TOPICS)
    events = workload(["BTCUSDT", "ETHUSDT", "SOLUSDT"], runs=40, seed=2)
    codec = default_codecs().for_topic(catalogue.ORCHESTRATOR_EVENT)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random"})
    for event in events:
        producer.produce(
            catalogue.ORCHESTRATOR_EVENT.topic(kafka_namespace),
            codec.encode(event),
            event.symbol.encode(),
            headers=list(codec.headers(event)),
        )
    assert producer.flush(30) == 0
    stages = (services.STATE_GATE, services.ANALYSIS_ENGINE)
    probe = DrainProbe(kafka_bootstrap, kafka_namespace)
    try:
        before = probe.stages(stages)
        assert before[0].backlog == len(events)  # nothing committed yet: every input record is a backlog
        assert before[0].total >= len(events)
        with running_services(kafka_bootstrap, kafka_namespace, tmp_path) as running:
            for entry in stages:
                running.start_module(entry.module)
            deadline = time.monotonic() + 180
            seen_backlog = False
            while True:
                running.check_running()
                now = probe.stages(stages)
                seen_backlog = seen_backlog or any(s.backlog > 0 for s in now)
                if all(s.backlog == 0 for s in now):
                    break
                assert time.monotonic() < deadline, now
                time.sleep(0.5)
            gate = decoded_values(kafka_bootstrap, kafka_namespace, catalogue.STATE_GATE_EVENT)
            analysis = decoded_values(kafka_bootstrap, kafka_namespace, catalogue.ANALYSIS_ENGINE_EVENT)
            codes = running.stop_all()
        assert seen_backlog
        assert all(code == 0 for code in codes.values()), codes
    finally:
        probe.close()
    expected = expected_by_symbol(events)
    assert len(gate) == sum(len(v) for v in expected.values())
    # Every gate event reached analysis_engine: each run it saw has a terminal analysis event.
    terminal = {
        e.run_id
        for e in analysis
        if e.event_type.startswith("AnalysisRun") and e.event_type != "AnalysisRunStarted"
    }
    assert {e.run_id for e in gate if e.event_type == "GateEvaluated"} <= terminal | {
        e.run_id for e in analysis if e.event_type == "AnalysisRunSkipped"
    }


def test_drain_probe_finds_the_orchestrator_drained_with_its_last_window_open(
    kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path
) -> None:
    config = SimulatorConfig(seed=3, symbols=("BTCUSDT", "ETHUSDT", "SOLUSDT"), windows=4, activity=0.05)
    events = simulate(config).events
    create_topics(AdminClient({"bootstrap.servers": kafka_bootstrap}), kafka_namespace, catalogue.ALL_TOPICS)
    raw = catalogue.RAW_MARKET_EVENT
    set_topic_config(kafka_bootstrap, raw.topic(kafka_namespace), "retention.ms", "-1")
    codec = default_codecs().for_type(RawMarketEvent)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random"})
    for event in events:
        producer.produce(
            raw.topic(kafka_namespace),
            codec.encode(event),
            event.symbol.encode(),
            headers=list(codec.headers(event)),
            timestamp=event.recv_ts_ms,
        )
    assert producer.flush(30) == 0
    probe = DrainProbe(kafka_bootstrap, kafka_namespace)
    try:
        assert probe.stage(services.ORCHESTRATOR).backlog > 0  # nothing cut yet
        env = {"XRAY_ORCHESTRATOR__SCHEDULER__LIVE_CLOSE": "false"}
        with running_services(kafka_bootstrap, kafka_namespace, tmp_path) as running:
            running.start_module(services.ORCHESTRATOR.module, env)
            deadline = time.monotonic() + 180
            while (stage := probe.stage(services.ORCHESTRATOR)).backlog:
                running.check_running()
                assert time.monotonic() < deadline, stage
                time.sleep(0.5)
            published: list[OrchestratorEvent] = decoded_values(
                kafka_bootstrap, kafka_namespace, catalogue.ORCHESTRATOR_EVENT
            )
            codes = running.stop_all()
        assert all(code == 0 for code in codes.values()), codes
    finally:
        probe.close()
    # Drained means every boundary the log crosses was cut: 4 windows, 3 closed boundaries per symbol ...
    boundaries = {config.start_ms + i * WINDOW_MS for i in (1, 2, 3)}
    completed = [e for e in published if e.event_type == ENGINE_RUN_COMPLETED]
    for symbol in config.symbols:
        assert {e.engine_timestamp_ms for e in completed if e.symbol == symbol} == boundaries, symbol
    # ... while the group's committed offsets stay at the open window's first record, short of the end.
    group = f"{kafka_namespace}.{services.ORCHESTRATOR.group}"
    partitions = [TopicPartition(raw.topic(kafka_namespace), p) for p in range(raw.partitions)]
    request = [ConsumerGroupTopicPartitions(group, partitions)]
    admin = admin_client(kafka_bootstrap)
    committed = {
        tp.partition: tp.offset
        for future in admin.list_consumer_group_offsets(request).values()
        for tp in future.result(timeout=30).topic_partitions or []
    }
    per_partition = Counter(partition_for(e.symbol.encode(), raw.partitions) for e in events)
    for partition, count in per_partition.items():
        assert 0 < committed[partition] < count, (partition, committed[partition], count)
