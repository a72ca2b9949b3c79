"""Built-in detectors on a labelled simulator series: simulator -> composer -> regime engine (hysteresis) ->
analysis engine, checked against the simulator's labels.

`test_detectors_follow_the_simulator_labels` runs it all in-process (OPEN gate events built here).
`test_engine_output_through_gate_and_analysis_services` publishes the engine's results as the
orchestrator does (orchestrator_event records) and lets the state_gate and analysis_engine services do
the rest on a real broker; test_whole_pipeline.py adds market_data and the orchestrator service.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from consumers.analysis_engine import AnalysisEngine, AnalysisEngineConfig, pipeline_check
from consumers.analysis_engine.discovery import discover_registry
from consumers.analysis_engine.label_check import RunArtifacts, runs_from_events, score_runs
from consumers.analysis_engine.testing import gate_event
from regime_engine.contracts.outputs import RegimeOutput as EngineOutput
from regime_engine.engine import step
from regime_engine.hysteresis import HysteresisState as EngineHysteresis
from xray_contracts import catalogue
from xray_contracts import orchestrator_event as oe
from xray_contracts.codec import codec_for
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_evaluation.series import steps_from_events
from xray_simulator.api import simulate
from xray_simulator.config import SimulatorConfig
from xray_testing.services import running_services
from xray_testing.topics import create_topics

SEED = 23
WINDOWS = 90


def wire_output(o: EngineOutput) -> oe.RegimeOutput:
    """The engine's RegimeOutput as it travels on orchestrator/state_gate events."""
    return oe.RegimeOutput(
        symbol=o.symbol,
        timestamp=o.timestamp,
        regime=o.regime.value,
        confidence=o.confidence,
        drivers=o.drivers,
        invalidations=o.invalidations,
        permissions=o.permissions,
        belief_by_regime=o.belief_by_regime,
        driver_contributions=tuple(
            oe.DriverContribution(c.driver, c.contribution) for c in o.driver_contributions or ()
        ),
        invalidation_conditions=tuple(
            oe.InvalidationCondition(c.kind, c.field, c.op, c.threshold, c.description)
            for c in o.invalidation_conditions or ()
        ),
    )


def wire_hysteresis(h: EngineHysteresis) -> oe.HysteresisState:
    """The engine's HysteresisState as it travels on the wire."""
    belief = h.debug.get("belief_by_regime") if h.debug else None
    return oe.HysteresisState(
        schema=h.schema,
        schema_version=h.schema_version,
        symbol=h.symbol,
        engine_timestamp_ms=h.engine_timestamp_ms,
        anchor_regime=h.anchor_regime.value,
        candidate_regime=h.candidate_regime.value if h.candidate_regime is not None else None,
        progress_current=h.progress_current,
        progress_required=h.progress_required,
        last_commit_timestamp_ms=h.last_commit_timestamp_ms,
        reason_codes=tuple(h.reason_codes),
        debug=oe.HysteresisDebug(dict(belief)) if belief else None,
    )


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


def orchestrator_events(config: SimulatorConfig) -> list[OrchestratorEvent]:
    """What the orchestrator publishes in hysteresis mode (EngineRunCompleted carrying the regime output
    and the hysteresis state), computed in-process with the composer and the regime engine."""
    sim = simulate(config)
    previous: dict[str, EngineHysteresis | None] = dict.fromkeys(config.symbols)
    out: list[OrchestratorEvent] = []
    for steps in steps_from_events(sim.events, config.symbols):
        for s in steps:
            decision = step(s.snapshot, previous[s.symbol])
            previous[s.symbol] = decision.state
            run_id = hashlib.sha256(f"{s.symbol}|{s.timestamp}|{s.timestamp}|hysteresis".encode()).hexdigest()
            payload = oe.OrchestratorPayload(
                regime_output=wire_output(decision.output), hysteresis_state=wire_hysteresis(decision.state)
            )
            out.append(
                OrchestratorEvent(
                    schema="orchestrator_event",
                    schema_version="1",
                    event_type="EngineRunCompleted",
                    run_id=run_id,
                    symbol=s.symbol,
                    engine_timestamp_ms=s.timestamp,
                    cut_start_ingest_seq=1,
                    cut_end_ingest_seq=s.timestamp,
                    cut_kind="timer",
                    engine_mode="hysteresis",
                    attempt=1,
                    payload=payload,
                )
            )
    return out


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
