"""`xray tail` on every catalogue topic prints JSON lines that round-trip back to the contract types.

One or more records of every topic's contract (RawMarketEvents of every type the simulator makes, each
orchestrator event type with its payloads, the orchestrator's state records, every state_gate and
analysis_engine record, raw bytes on a DLQ) are produced with the topic's codec, headers and key (the
symbol; the partition number on `orchestrator.cursor`); `xray tail TOPIC --from-beginning` runs as the
user would run it, and every printed line must parse, carry the record's key, headers, partition and
offset, and give back, through `from_plain`, exactly the value that was written. `--symbol` and
`--event-type` must filter. The replay test tails a real replay's topics the same way.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from consumers.analysis_engine.testing import gate_event
from consumers.state_gate import samples
from xray_contracts import catalogue
from xray_contracts import state_gate as sg
from xray_contracts.analysis_engine import (
    AnalysisEngineEvent,
    AnalysisModuleStateRecord,
    AnalysisRunLedger,
    ArtifactEmittedPayload,
    ModuleFailedPayload,
    RunStatusPayload,
)
from xray_contracts.codec import default_codecs
from xray_contracts.hysteresis_record import HysteresisStoreRecord
from xray_contracts.orchestrator_cursor import OrchestratorCursor, SymbolOffset, WindowStart
from xray_contracts.orchestrator_event import HysteresisDebug, OrchestratorPayload
from xray_contracts.plain import from_plain
from xray_contracts.run_log import EngineRunRecord
from xray_simulator.api import simulate
from xray_simulator.config import SimulatorConfig
from xray_testing.topics import create_topics

pytestmark = pytest.mark.kafka

# The `xray` command of this environment, as the user runs it.
XRAY = str(Path(sys.executable).with_name("xray"))


def raw_events() -> list[Any]:
    """One simulated event of every event type the simulator emits."""
    sim = simulate(SimulatorConfig(seed=3, symbols=("BTCUSDT", "ETHUSDT"), windows=1))
    first: dict[str, Any] = {}
    for event in sim.events:
        first.setdefault(event.event_type, event)
    return list(first.values())


def orchestrator_events() -> list[Any]:
    hyst = samples.hysteresis("r2", 360_000, symbol="ETHUSDT", progress=1, invalidations=("x",))
    assert hyst.payload is not None
    assert hyst.payload.hysteresis_state is not None
    state = replace(hyst.payload.hysteresis_state, debug=HysteresisDebug({"CHOP_BALANCED": 0.75}))
    return [
        samples.started("r1", 180_000, symbol="BTCUSDT"),
        samples.completed("r1", 180_000, symbol="BTCUSDT", invalidations=("vol_spike",)),
        replace(
            hyst,
            payload=OrchestratorPayload(regime_output=hyst.payload.regime_output, hysteresis_state=state),
        ),
        samples.failed("r3", 540_000, symbol="BTCUSDT"),
    ]


def contract_samples() -> dict[str, list[Any]]:
    """Values for every catalogue topic that carries a contract."""
    record = sg.StateGateStateRecord(
        symbol="BTCUSDT",
        engine_timestamp_ms=180_000,
        run_id="r1",
        state_status="READY",
        gate_status="OPEN",
        reasons=(),
        engine_mode="truth",
        source_event_type="EngineRunCompleted",
        regime_output=samples.regime_output("BTCUSDT", 180_000),
        event_type="GateEvaluated",
    )
    analysis = [
        AnalysisEngineEvent(
            event_type="ArtifactEmitted",
            symbol="BTCUSDT",
            run_id="r1",
            engine_timestamp_ms=180_000,
            payload=ArtifactEmittedPayload(
                artifact_kind="signal",
                module_id="signal.regime",
                artifact_name="regime",
                artifact_schema="s",
                artifact_schema_version="1",
                payload_json='{"a":[1,2.5,null]}',
            ),
            engine_mode="truth",
            source_gate_reasons=("ok",),
        ),
        AnalysisEngineEvent(
            event_type="ModuleFailed",
            symbol="BTCUSDT",
            run_id="r1",
            engine_timestamp_ms=180_000,
            payload=ModuleFailedPayload(
                module_id="detector.crowding",
                module_kind="detector",
                error_kind="exception",
                error_detail="x",
            ),
        ),
        AnalysisEngineEvent(
            event_type="AnalysisRunCompleted",
            symbol="ETHUSDT",
            run_id="r2",
            engine_timestamp_ms=360_000,
            payload=RunStatusPayload(status="PARTIAL", module_failures=("detector.crowding",)),
        ),
    ]
    return {
        "raw_market_event": raw_events(),
        "orchestrator_event": orchestrator_events(),
        "orchestrator.run_log": [
            EngineRunRecord(
                "r1", "BTCUSDT", 180_000, "truth", "boundary", 0, 41, 182_000, 182_001, None, "started", 1
            ),
            EngineRunRecord(
                "r3", "BTCUSDT", 540_000, "truth", "boundary", 42, 90, 1, 2, 3, "failed", 2, "engine", "boom"
            ),
        ],
        "orchestrator.hysteresis_state": [
            HysteresisStoreRecord(
                "hysteresis_store_record", "1", "BTCUSDT", 180_000, "CHOP_BALANCED", None, 0, None
            ),
            HysteresisStoreRecord(
                "hysteresis_store_record",
                "1",
                "ETHUSDT",
                360_000,
                "SQUEEZE_UP",
                "TREND_BUILD_UP",
                2,
                7,
                {"SQUEEZE_UP": 0.5, "TREND_BUILD_UP": 0.375, "CHOP_BALANCED": 0.125},
            ),
        ],
        "orchestrator.cursor": [
            OrchestratorCursor(
                schema="orchestrator_cursor",
                schema_version="1",
                partition=0,
                open_boundary_ms=None,
                last_offset=None,
                last_cut_end=(),
                known_symbols=(),
                window_starts=(),
            ),
            OrchestratorCursor(
                schema="orchestrator_cursor",
                schema_version="1",
                partition=3,
                open_boundary_ms=540_000,
                last_offset=90,
                last_cut_end=(SymbolOffset("BTCUSDT", 90), SymbolOffset("ETHUSDT", 88)),
                known_symbols=("BTCUSDT", "ETHUSDT"),
                window_starts=(WindowStart(180_000, 0), WindowStart(360_000, 42)),
            ),
        ],
        "state_gate_event": [
            gate_event("r1", symbol="BTCUSDT", regime=samples.regime_output("BTCUSDT", 100)),
            gate_event(
                "r2",
                symbol="ETHUSDT",
                event_type="StateReset",
                payload=sg.StateResetPayload("reset_timestamp_gap"),
            ),
            gate_event(
                "r3",
                symbol="BTCUSDT",
                event_type="StateGateHalted",
                payload=sg.StateGateHaltedPayload("malformed_input", "bad bytes"),
            ),
        ],
        "state_gate.state": [
            sg.StateGateSnapshot(
                symbol="BTCUSDT",
                last_run_id="r1",
                last_engine_timestamp_ms=180_000,
                processed_keys=("r1:EngineRunCompleted",),
                pending=(
                    sg.PendingRun("r4", 720_000, "hysteresis", seen_input_types=("EngineRunCompleted",)),
                ),
                last_record=record,
            )
        ],
        "state_gate.state_log": [record],
        "state_gate.control": [
            sg.StateGateControl("state_gate_control", "1", "resume", "BTCUSDT", "ops", "note")
        ],
        "analysis_engine_event": analysis,
        "analysis_engine.module_state": [
            AnalysisModuleStateRecord(
                symbol="BTCUSDT",
                module_id="detector.crowding",
                run_id="r1",
                engine_timestamp_ms=180_000,
                state_schema_id="crowding",
                state_schema_version="1",
                state_payload_json='{"n":3}',
            )
        ],
        "analysis_engine.run_ledger": [
            AnalysisRunLedger(symbol="BTCUSDT", last_run_id="r1", recent_run_ids=("r1",))
        ],
        "alerts": analysis[:1],
    }


def record_key(spec: catalogue.TopicSpec, value: Any) -> str:
    """The record key a service writes for a value: its symbol, or its partition on `orchestrator.cursor`."""
    return str(value.partition) if spec.key == "partition" else str(value.symbol)


def start_tail(bootstrap: str, namespace: str, topic: str, *extra: str) -> subprocess.Popen[str]:
    """`xray tail TOPIC --from-beginning ...` as a user runs it (stops after 3 s without a record)."""
    return subprocess.Popen(
        [XRAY, "tail", topic, "--from-beginning", "--timeout", "3", *extra],
        env={
            "PATH": "/usr/bin:/bin",
            "XRAY_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
            "XRAY_NAMESPACE": namespace,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def lines_of(proc: subprocess.Popen[str]) -> list[dict[str, Any]]:
    """The JSON lines a tail printed (after it ended by itself)."""
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()]


def tail(bootstrap: str, namespace: str, topic: str, *extra: str) -> list[dict[str, Any]]:
    return lines_of(start_tail(bootstrap, namespace, topic, *extra))


def test_tail_round_trips_every_topic(kafka_bootstrap: str, kafka_namespace: str) -> None:
    from confluent_kafka.admin import AdminClient

    create_topics(AdminClient({"bootstrap.servers": kafka_bootstrap}), kafka_namespace, catalogue.ALL_TOPICS)
    codecs = default_codecs()
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "partitioner": "murmur2_random"})
    written: dict[str, list[Any]] = contract_samples()
    assert set(written) | {s.name for s in catalogue.DLQ_TOPICS} == {s.name for s in catalogue.ALL_TOPICS}
    for name, values in written.items():
        spec = catalogue.spec(name)
        codec = codecs.for_topic(spec)
        for value in values:
            producer.produce(
                spec.topic(kafka_namespace),
                codec.encode(value),
                record_key(spec, value).encode(),
                headers=list(codec.headers(value)),
            )
    garbage = b"\x00\x01 not avro"
    for spec in catalogue.DLQ_TOPICS:
        producer.produce(
            spec.topic(kafka_namespace), garbage, b"BTCUSDT", headers=[("error", b"undecodable")]
        )
    assert producer.flush(30) == 0

    # All tails at once (each waits 3 s after its last record before it ends).
    tails = {name: start_tail(kafka_bootstrap, kafka_namespace, name) for name in written}
    dlq_tails = {s.name: start_tail(kafka_bootstrap, kafka_namespace, s.name) for s in catalogue.DLQ_TOPICS}
    for name, values in written.items():
        spec = catalogue.spec(name)
        contract = type(values[0])
        lines = lines_of(tails[name])
        assert len(lines) == len(values), name
        got = sorted((from_plain(contract, line["value"]) for line in lines), key=repr)
        assert got == sorted(values, key=repr), name
        for line in lines:
            assert line["topic"] == spec.topic(kafka_namespace)
            key_field = "partition" if spec.key == "partition" else "symbol"
            assert line["key"] == str(line["value"][key_field])
            assert line["headers"]["schema"]
            assert {"partition", "offset", "timestamp"} <= set(line)
    for spec in catalogue.DLQ_TOPICS:
        (line,) = lines_of(dlq_tails[spec.name])
        assert line["value"] is None
        assert base64.b64decode(line["value_base64"]) == garbage
        assert line["headers"] == {"error": "undecodable"}

    by_symbol = tail(kafka_bootstrap, kafka_namespace, "orchestrator_event", "--symbol", "ETHUSDT")
    assert [line["value"]["run_id"] for line in by_symbol] == ["r2"]
    by_type = tail(kafka_bootstrap, kafka_namespace, "orchestrator_event", "--event-type", "EngineRunFailed")
    assert [line["value"]["event_type"] for line in by_type] == ["EngineRunFailed"]
    physical = tail(kafka_bootstrap, "other", catalogue.STATE_GATE_EVENT.topic(kafka_namespace), "--max", "1")
    assert len(physical) == 1
