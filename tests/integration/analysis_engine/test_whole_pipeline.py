"""The labelled simulator series through every service on a real broker, checked against the labels.

simulator recording → `python -m market_data --recording` → raw_market_event → `python -m orchestrator`
→ orchestrator_event → `python -m consumers.state_gate` → state_gate_event → `python -m
consumers.analysis_engine` → analysis_engine_event. Each built-in detector must fire where the labels
say: a transition artifact exactly at each committed (hysteresis anchor) regime change, label changes
found, crowding on SQUEEZE labels, cascades on LIQUIDATION labels.
"""

from __future__ import annotations

from pathlib import Path

from confluent_kafka.admin import AdminClient
from consumers.analysis_engine.pipeline_check import (
    SYMBOLS,
    WINDOWS,
    await_analysis,
    check_against_labels,
    gate_events,
    sim_config,
)
from xray_contracts import catalogue
from xray_simulator.api import simulate, write_recording
from xray_simulator.generator import iter_frames
from xray_testing.services import running_services, set_topic_config
from xray_testing.topics import create_topics


def test_simulator_series_through_every_service(
    kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path
) -> None:
    config = sim_config()
    recording = tmp_path / "simulated.dat"
    write_recording(iter_frames(config), recording)
    labels = simulate(config).label_map()
    create_topics(AdminClient({"bootstrap.servers": kafka_bootstrap}), kafka_namespace, catalogue.ALL_TOPICS)
    # Raw records carry their (2023) receive time as the Kafka timestamp: under the raw topic's 30-day
    # retention the broker's next retention check would delete them, perhaps before the orchestrator
    # read them.
    raw_topic = catalogue.RAW_MARKET_EVENT.topic(kafka_namespace)
    set_topic_config(kafka_bootstrap, raw_topic, "retention.ms", "-1")
    with running_services(kafka_bootstrap, kafka_namespace, tmp_path) as services:
        # The whole recording is in the raw topic before the orchestrator starts: its live close (wall
        # clock past a boundary + grace while at the log end) would otherwise cut these old simulated
        # windows whenever it caught up with the feed, and the cuts would depend on timing.
        ingest = services.start(
            "market_data",
            ["-m", "market_data", "--recording", str(recording), "--speed", "max"],
            one_shot=True,
        )
        assert ingest.proc.wait(120) == 0, ingest.log_tail()
        for module in ("consumers.analysis_engine", "consumers.state_gate", "orchestrator"):
            services.start_module(module).wait_for_event("partitions_assigned")
        # The last window closes only on the orchestrator's live grace close; do not insist on it.
        events = await_analysis(services, WINDOWS - 1, timeout_s=100)
        gates = gate_events(kafka_bootstrap, kafka_namespace)
        codes = services.stop_all()
    assert all(code == 0 for code in codes.values()), codes
    score = check_against_labels(events, gates, labels, min_runs=len(SYMBOLS) * (WINDOWS - 2))
    print(score.summary())
