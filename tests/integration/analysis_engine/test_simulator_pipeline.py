"""Built-in detectors on a labelled simulator series: simulator -> composer -> regime engine (hysteresis) ->
analysis engine, checked against the simulator's labels.

`test_detectors_follow_the_simulator_labels` runs it all in-process (OPEN gate events built here).
`test_engine_output_through_gate_and_analysis_services` publishes the engine's results as the
orchestrator does (orchestrator_event records) and lets the state_gate and analysis_engine services do
the rest on a real broker; test_whole_pipeline.py adds market_data and the orchestrator service.
"""

from __future__ import annotations

from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from consumers.analysis_engine import AnalysisEngine, AnalysisEngineConfig, pipeline_check
from consumers.analysis_engine.discovery import discover_registry
from consumers.analysis_engine.label_check import RunArtifacts, runs_from_events, score_runs
from consumers.analysis_engine.testing import gate_event
from regime_engine.engine import step
from regime_engine.hysteresis import HysteresisState as EngineHysteresis
from xray_contracts import catalogue
from xray_contracts.codec import codec_for
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_evaluation.series import steps_from_events
from xray_evaluation.wire import orchestrator_events, wire_hysteresis, wire_output
from xray_simulator.api import simulate
from xray_simulator.config import SimulatorConfig
from xray_testing.services import running_services
from xray_testing.topics import create_topics

SEED = 23
WINDOWS = 90


def test_detectors_follow_the_simulator_labels() -> None:
    # 4-8-window regime segments (not the 10-40 default): many label changes in 90 windows.
    config = SimulatorConfig(
        seed=SEED, symbols=("BTCUSDT",), windows=WINDOWS, min_segment_windows=4, max_segment_windows=8
    )
    sim = simulate(config)
    engine = AnalysisEngine(
        registry=discover_registry(), config=AnalysisEngineConfig(enabled_modules=[], module_configs=[])
    )
    runs: list[RunArtifacts] = []
    labels = sim.label_map()
    previous: EngineHysteresis | None = None
    for steps in steps_from_events(sim.events, config.symbols, labels):
        for s in steps:
            decision = step(s.snapshot, previous)
            previous = decision.state
            event = gate_event(
                f"{s.symbol}-{s.timestamp}",
                symbol=s.symbol,
                timestamp=s.timestamp,
                regime=wire_output(decision.output),
                hysteresis=wire_hysteresis(decision.state),
                engine_mode="hysteresis",
                reasons=(),
            )
            events = engine.consume(event)
            assert events[-1].event_type == "AnalysisRunCompleted"
            runs.extend(runs_from_events(events))
    score = score_runs(runs, labels)
    print(score.summary())
    assert score.runs == WINDOWS
    assert not score.problems()


def test_engine_output_through_gate_and_analysis_services(
    kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path
) -> None:
    config = pipeline_check.sim_config()
    labels = simulate(config).label_map()
    inputs = orchestrator_events(config)
    create_topics(AdminClient({"bootstrap.servers": kafka_bootstrap}), kafka_namespace, catalogue.ALL_TOPICS)
    with running_services(kafka_bootstrap, kafka_namespace, tmp_path) as services:
        for module in ("consumers.analysis_engine", "consumers.state_gate"):
            services.start_module(module).wait_for_event("partitions_assigned")
        codec = codec_for(OrchestratorEvent)
        producer = Producer({"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random"})
        topic = catalogue.ORCHESTRATOR_EVENT.topic(kafka_namespace)
        for event in inputs:
            headers = list(codec.headers(event))
            producer.produce(topic, codec.encode(event), event.symbol.encode(), headers=headers)
        assert producer.flush(30) == 0
        events = pipeline_check.await_analysis(services, pipeline_check.WINDOWS, timeout_s=90)
        gates = pipeline_check.gate_events(kafka_bootstrap, kafka_namespace)
        codes = services.stop_all()
    assert all(code == 0 for code in codes.values()), codes
    score = pipeline_check.check_against_labels(
        events, gates, labels, min_runs=len(config.symbols) * pipeline_check.WINDOWS
    )
    print(score.summary())
