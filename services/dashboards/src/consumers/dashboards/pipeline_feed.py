"""Feed a broker from a recording through the pipeline, for the tmux test and the docs screenshot.

recording → `python -m market_data --recording` → raw_market_event; orchestrator_event from
`ORCHESTRATOR` (today: the composer and regime engine in-process, published the way the orchestrator
does, since `python -m orchestrator` is not there yet); then the real `consumers.state_gate` and
`consumers.analysis_engine` services. Switching to the orchestrator service is one line:
`ORCHESTRATOR = orchestrator_service`.
"""

from __future__ import annotations

import heapq
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from xray_contracts import catalogue
from xray_contracts import orchestrator_event as oe
from xray_contracts.analysis_engine import AnalysisEngineEvent
from xray_contracts.codec import codec_for
from xray_contracts.raw_market_event import RawMarketEvent
from xray_contracts.state_gate import StateGateEvent
from xray_runtime.reader import PartitionReader
from xray_testing.services import ServiceRunner
from xray_testing.topics import create_topics

REAL_WINDOW: Final = (
    "binance_usdm_hftbacktest/2024-08-08_btc_eth/btcusdt_20240808.gz",
    "binance_usdm_hftbacktest/2024-08-08_btc_eth/ethusdt_20240808.gz",
)
REAL_SYMBOLS: Final = ("BTCUSDT", "ETHUSDT")
TERMINAL: Final = ("AnalysisRunCompleted", "AnalysisRunSkipped", "AnalysisRunFailed")


@dataclass(frozen=True, slots=True)
class Recording:
    """Recording files (each `<recv ts> <frame>` lines) and the symbols they hold."""

    paths: tuple[Path, ...]
    symbols: tuple[str, ...]
    real: bool


def real_recording() -> Recording | None:
    """The 2024-08-08 BTCUSDT + ETHUSDT window of the real recordings, when XRAY_SAMPLE_DATA is set."""
    root = os.environ.get("XRAY_SAMPLE_DATA")
    if not root:
        return None
    paths = tuple(Path(root) / p for p in REAL_WINDOW)
    return Recording(paths, REAL_SYMBOLS, True) if all(p.exists() for p in paths) else None


def simulated_recording(
    workdir: Path, symbols: tuple[str, ...] = REAL_SYMBOLS, windows: int = 8
) -> Recording:
    """A seeded simulator recording in the same line format (used when no real data is at hand)."""
    from xray_simulator.api import write_recording
    from xray_simulator.config import SimulatorConfig
    from xray_simulator.generator import iter_frames

    config = SimulatorConfig(
        seed=23, symbols=symbols, windows=windows, activity=0.3, book_interval_s=5, mark_interval_s=5
    )
    path = workdir / "simulated.dat"
    write_recording(iter_frames(config), path)
    return Recording((path,), symbols, False)


def _recorded_events(paths: Sequence[Path]) -> Iterator[RawMarketEvent]:
    """Every file's events merged in receive order (the files of one window interleave)."""
    from xray_evaluation.recording import recording_events

    streams = [recording_events([p]) for p in paths]
    return heapq.merge(*streams, key=lambda e: e.recv_ts_ms)


def engine_events(recording: Recording) -> list[oe.OrchestratorEvent]:
    """What the orchestrator publishes in hysteresis mode, computed in-process: per symbol and 180 s
    boundary an EngineRunStarted, then an EngineRunCompleted carrying regime output and hysteresis."""
    from orchestrator.run_id import derive_run_id
    from regime_engine.engine import step
    from xray_evaluation.series import steps_from_events
    from xray_evaluation.wire import wire_hysteresis, wire_output

    previous: dict[str, object] = dict.fromkeys(recording.symbols)
    out: list[oe.OrchestratorEvent] = []
    for steps in steps_from_events(_recorded_events(recording.paths), recording.symbols):
        for s in steps:
            decision = step(s.snapshot, previous[s.symbol])  # type: ignore[arg-type]
            previous[s.symbol] = decision.state
            run_id = derive_run_id(s.symbol, s.timestamp, s.timestamp, "hysteresis")
            common = {
                "schema": oe.SCHEMA,
                "schema_version": oe.SCHEMA_VERSION,
                "run_id": run_id,
                "symbol": s.symbol,
                "engine_timestamp_ms": s.timestamp,
                "cut_start_ingest_seq": 1,
                "cut_end_ingest_seq": s.timestamp,
                "cut_kind": "timer",
                "engine_mode": "hysteresis",
                "attempt": 1,
            }
            out.append(oe.OrchestratorEvent(event_type=oe.ENGINE_RUN_STARTED, **common))  # type: ignore[arg-type]
            payload = oe.OrchestratorPayload(
                regime_output=wire_output(decision.output), hysteresis_state=wire_hysteresis(decision.state)
            )
            out.append(
                oe.OrchestratorEvent(event_type=oe.ENGINE_RUN_COMPLETED, payload=payload, **common)  # type: ignore[arg-type]
            )
    return out


def orchestrator_in_process(services: ServiceRunner, recording: Recording) -> int:
    """Stand-in for the orchestrator service: publish the in-process engine's events; return runs."""
    events = engine_events(recording)
    codec = codec_for(oe.OrchestratorEvent)
    producer = Producer({"bootstrap.servers": services.bootstrap, "partitioner": "murmur2_random"})
    topic = catalogue.ORCHESTRATOR_EVENT.topic(services.namespace)
    for event in events:
        producer.produce(
            topic, codec.encode(event), event.symbol.encode(), headers=list(codec.headers(event))
        )
    if producer.flush(30) != 0:
        raise RuntimeError("orchestrator events not delivered")
    return sum(1 for e in events if e.event_type == oe.ENGINE_RUN_COMPLETED)


def orchestrator_service(services: ServiceRunner, recording: Recording) -> int:
    """The real orchestrator service over the raw topic (once `python -m orchestrator` exists)."""
    services.start_module("orchestrator").wait_for_event("partitions_assigned")
    return 0  # the run count is whatever the topics show


# The one line to change when the orchestrator service lands: ORCHESTRATOR = orchestrator_service
ORCHESTRATOR: Callable[[ServiceRunner, Recording], int] = orchestrator_in_process


def _read_all(bootstrap: str, spec: catalogue.TopicSpec, namespace: str) -> list[bytes]:
    reader = PartitionReader({"bootstrap.servers": bootstrap, "group.id": "unused"})
    try:
        return [m.value() or b"" for m in reader.read_to_end(spec.topic(namespace), range(spec.partitions))]
    finally:
        reader.close()


def committed_gate_events(bootstrap: str, namespace: str) -> list[StateGateEvent]:
    """Every committed state_gate_event."""
    codec = codec_for(StateGateEvent)
    return [codec.decode(v) for v in _read_all(bootstrap, catalogue.STATE_GATE_EVENT, namespace)]


def committed_orchestrator_events(bootstrap: str, namespace: str) -> list[oe.OrchestratorEvent]:
    """Every committed orchestrator_event."""
    codec = codec_for(oe.OrchestratorEvent)
    return [codec.decode(v) for v in _read_all(bootstrap, catalogue.ORCHESTRATOR_EVENT, namespace)]


def committed_analysis_events(bootstrap: str, namespace: str) -> list[AnalysisEngineEvent]:
    """Every committed analysis_engine_event."""
    codec = codec_for(AnalysisEngineEvent)
    return [codec.decode(v) for v in _read_all(bootstrap, catalogue.ANALYSIS_ENGINE_EVENT, namespace)]


def feed(services: ServiceRunner, recording: Recording, timeout_s: float = 120.0) -> None:
    """Topics, raw ingest, orchestrator events, gate and analysis services; returns once analysis settled."""
    create_topics(
        AdminClient({"bootstrap.servers": services.bootstrap}), services.namespace, catalogue.ALL_TOPICS
    )
    argv = [
        "-m",
        "market_data",
        *(a for p in recording.paths for a in ("--recording", str(p))),
        "--speed",
        "max",
    ]
    ingest = services.start("market_data", argv)
    consumers = [services.start_module(m) for m in ("consumers.analysis_engine", "consumers.state_gate")]
    for consumer in consumers:
        consumer.wait_for_event("partitions_assigned")
    if ingest.proc.wait(300) != 0:
        raise RuntimeError(f"market_data failed:\n{ingest.log_tail()}")
    ORCHESTRATOR(services, recording)
    deadline = time.monotonic() + timeout_s
    last = -1
    while True:
        for consumer in consumers:
            consumer.check_running()
        runs = [
            e
            for e in committed_orchestrator_events(services.bootstrap, services.namespace)
            if e.event_type in (oe.ENGINE_RUN_COMPLETED, oe.ENGINE_RUN_FAILED)
        ]
        done = Counter(
            e.symbol
            for e in committed_analysis_events(services.bootstrap, services.namespace)
            if e.event_type in TERMINAL
        )
        finished = sum(done.values())
        if runs and finished >= len(runs) and finished == last:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"analysis finished {finished} of {len(runs)} runs")
        last = finished
        time.sleep(2.0)
