"""Feed a broker from a recording through the pipeline, for the tmux test and the docs screenshot.

recording → `python -m market_data --recording` → raw_market_event → `python -m orchestrator` →
orchestrator_event → `python -m consumers.state_gate` → state_gate_event → `python -m
consumers.analysis_engine` → analysis_engine_event: every stage the real service.

The whole recording is in the raw topic before the orchestrator starts, and the feed is done once every
service is drained (`xray_ops.drain`, as `xray replay` decides it): the orchestrator has cut every
boundary the recording crosses (its last window stays open: nothing closes it in a replay) and the
downstream groups have committed past all of their input.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from confluent_kafka.admin import AdminClient
from xray_contracts import catalogue
from xray_contracts import orchestrator_event as oe
from xray_contracts.analysis_engine import AnalysisEngineEvent
from xray_contracts.codec import codec_for
from xray_contracts.state_gate import StateGateEvent
from xray_runtime.reader import PartitionReader
from xray_testing.services import ServiceRunner, set_topic_config
from xray_testing.topics import create_topics

REAL_WINDOW: Final = (
    "binance_usdm_hftbacktest/2024-08-08_btc_eth/btcusdt_20240808.gz",
    "binance_usdm_hftbacktest/2024-08-08_btc_eth/ethusdt_20240808.gz",
)
REAL_SYMBOLS: Final = ("BTCUSDT", "ETHUSDT")


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


def feed(services: ServiceRunner, recording: Recording, timeout_s: float = 300.0) -> None:
    """Topics, the raw ingest, then the orchestrator, state_gate and analysis_engine services until each
    is drained (the services keep running; the caller stops them)."""
    from xray_ops import catalogue as stages
    from xray_ops.drain import DrainProbe

    bootstrap, namespace = services.bootstrap, services.namespace
    create_topics(AdminClient({"bootstrap.servers": bootstrap}), namespace, catalogue.ALL_TOPICS)
    # Raw records carry their receive time as the Kafka timestamp: a recording older than the raw
    # topic's 30-day retention would be deleted at the broker's next retention check.
    set_topic_config(bootstrap, catalogue.RAW_MARKET_EVENT.topic(namespace), "retention.ms", "-1")
    argv = [
        "-m",
        "market_data",
        *(a for p in recording.paths for a in ("--recording", str(p))),
        "--speed",
        "max",
    ]
    ingest = services.start("market_data", argv, one_shot=True)
    if ingest.proc.wait(300) != 0:
        raise RuntimeError(f"market_data failed:\n{ingest.log_tail()}")
    for stage in reversed(stages.PROCESSORS):  # downstream first
        services.start_module(stage.module).wait_for_event("partitions_assigned")
    probe = DrainProbe(bootstrap, namespace)
    deadline = time.monotonic() + timeout_s
    settled = 0
    try:
        while settled < 2:  # drained twice in a row
            services.check_running()
            progress = probe.stages(stages.PROCESSORS)
            settled = settled + 1 if all(s.backlog == 0 for s in progress) else 0
            if time.monotonic() > deadline:
                raise AssertionError(f"the pipeline did not drain within {timeout_s:.0f}s: {progress}")
            time.sleep(1.0)
    finally:
        probe.close()
    if not committed_orchestrator_events(bootstrap, namespace):
        raise AssertionError("the orchestrator published nothing (does the recording cross a boundary?)")
