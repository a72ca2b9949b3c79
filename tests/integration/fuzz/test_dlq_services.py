"""A sample of generated bad records through the real services on a real broker: every one is in the
service's DLQ (its bytes, key and provenance headers naming exactly where it came from) and the service
goes on: the good records produced around them give exactly the reference outputs.

state_gate reads two topics (orchestrator_event: a bad record halts its symbol and goes to the DLQ;
state_gate.control: the runtime's DLQ path); analysis_engine reads state_gate_event. CI form: 120 bad
records per input topic; `make fuzz` (XRAY_FUZZ=full): 1,500.
"""

from __future__ import annotations

import random
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from consumers.analysis_engine.harness import AnalysisHarness, labelled_gate_series
from consumers.state_gate.harness import GateHarness, expected_by_symbol, workload
from xray_contracts import catalogue
from xray_contracts.codec import ContractCodec, codec_for, default_codecs
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_contracts.state_gate import StateGateControl, StateGateEvent
from xray_runtime.dlq import (
    H_ERROR_CLASS,
    H_ERROR_MESSAGE,
    H_SERVICE,
    H_SOURCE_OFFSET,
    H_SOURCE_PARTITION,
    H_SOURCE_TOPIC,
)
from xray_testing.fuzz_avro import bad_inputs, fuzz_count, valid_records
from xray_testing.records import Row, produce_recorded, wait_committed

SEED = 1204
BAD_PER_TOPIC = fuzz_count(ci=120, full=1_500)
FUZZ_SYMBOLS = [f"FUZZ{i}" for i in range(7)]
GOOD_SYMBOLS = ["BTCUSDT", "ETHUSDT"]


def certain_bad(codec: ContractCodec[Any], good: list[bytes], count: int, seed: int) -> list[bytes | None]:
    """`count` records certain to be undecodable as the codec's contract (every kind represented)."""
    rng = random.Random(seed)
    codecs = default_codecs()
    others = [
        r for other in codecs.by_schema.values() if other is not codec for r in valid_records(other, rng, 3)
    ]
    found: list[bytes | None] = []
    for bad in bad_inputs(codec, good, others, rng, count * 3):
        if bad.certain:
            found.append(bad.data)
        if len(found) == count:
            return found
    raise AssertionError("too few certain inputs generated")


def keyed(values: list[bytes | None], seed: int) -> list[tuple[bytes | None, bytes | None]]:
    """Bad records keyed by throw-away symbols (a few with no key at all)."""
    rng = random.Random(seed)
    return [(None if rng.random() < 0.05 else rng.choice(FUZZ_SYMBOLS).encode(), v) for v in values]


def assert_dead_lettered(dlq: list[Row], sent: list[Row], service: str, source_topic: str) -> None:
    """Each sent record is in the DLQ exactly once, bytes and key intact, headers naming its origin."""
    by_origin: dict[tuple[int, int], Row] = {}
    for row in dlq:
        if row.header(H_SOURCE_TOPIC) != source_topic.encode():
            continue
        partition = row.header(H_SOURCE_PARTITION)
        offset = row.header(H_SOURCE_OFFSET)
        assert partition is not None
        assert offset is not None
        origin = (int(partition), int(offset))
        assert origin not in by_origin, f"dead-lettered twice: {origin}"
        by_origin[origin] = row
    assert set(by_origin) == {(r.partition, r.offset) for r in sent}
    for record in sent:
        row = by_origin[(record.partition, record.offset)]
        assert (row.key, row.value) == (record.key, record.value)
        assert row.header(H_SERVICE) == service.encode()
        assert row.header(H_ERROR_CLASS)
        assert row.header(H_ERROR_MESSAGE) is not None
    classes = Counter((r.header(H_ERROR_CLASS) or b"").decode() for r in by_origin.values())
    print(f"fuzz dlq {service}<-{source_topic}: {len(sent)} bad records dead-lettered, {dict(classes)}")


def test_state_gate_dead_letters_each_bad_record_and_goes_on(
    kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path
) -> None:
    h = GateHarness(kafka_bootstrap, kafka_namespace, tmp_path)
    try:
        good = workload(GOOD_SYMBOLS, runs=20, seed=SEED)
        expected = expected_by_symbol(good)
        event_codec = codec_for(OrchestratorEvent)
        control_codec = codec_for(StateGateControl)
        samples = [event_codec.encode(e) for e in good[:40]]
        bad_events = keyed(certain_bad(event_codec, samples, BAD_PER_TOPIC, SEED), SEED)
        controls = valid_records(control_codec, random.Random(SEED), 20)
        bad_controls = keyed(certain_bad(control_codec, controls, BAD_PER_TOPIC, SEED + 1), SEED + 1)
        control_topic = catalogue.STATE_GATE_CONTROL.topic(kafka_namespace)

        proc = h.start("fuzz")
        h.wait_for_event(proc, "partitions_assigned")
        half = len(good) // 2
        h.produce(good[:half])
        sent_events = produce_recorded(kafka_bootstrap, h.input, bad_events)
        sent_controls = produce_recorded(kafka_bootstrap, control_topic, bad_controls)
        h.produce(good[half:])

        want = sum(len(v) for v in expected.values())
        outputs = h.wait_outputs(want, [proc], timeout_s=120)
        assert {s: outputs[s] for s in GOOD_SYMBOLS} == expected
        total_bad = len(sent_events) + len(sent_controls)
        partitions = catalogue.dlq_spec("state_gate").partitions
        dlq = wait_committed(kafka_bootstrap, h.dlq, partitions, total_bad, check=alive(proc, h.log_tail))
        assert_dead_lettered(dlq, sent_events, "state_gate", h.input)
        assert_dead_lettered(dlq, sent_controls, "state_gate", control_topic)
        assert len(dlq) == total_bad
        # A bad orchestrator_event halts the symbol it is keyed to (fail closed), never a good one.
        halted = {
            s for s, events in outputs.items() if any(e.event_type == "StateGateHalted" for e in events)
        }
        assert halted <= set(FUZZ_SYMBOLS)
        assert h.stop(proc) == 0, h.log_tail(proc)
    finally:
        h.cleanup()


def alive(
    proc: subprocess.Popen[bytes], tail: Callable[[subprocess.Popen[bytes]], str]
) -> Callable[[], None]:
    """A check that fails with the log tail once the service has exited."""

    def check() -> None:
        if proc.poll() is not None:
            raise AssertionError(f"service exited {proc.returncode}: {tail(proc)}")

    return check


def test_analysis_engine_dead_letters_each_bad_record_and_goes_on(
    kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path
) -> None:
    h = AnalysisHarness(kafka_bootstrap, kafka_namespace, tmp_path)
    try:
        from consumers.analysis_engine import AnalysisEngine, AnalysisEngineConfig
        from consumers.analysis_engine.discovery import discover_registry

        good = labelled_gate_series(GOOD_SYMBOLS, runs_per_symbol=30, seed=SEED)
        engine = AnalysisEngine(
            registry=discover_registry(), config=AnalysisEngineConfig(enabled_modules=[], module_configs=[])
        )
        expected: dict[str, list[object]] = {}
        for event in good:
            expected.setdefault(event.symbol, []).extend(engine.consume(event))
        codec = codec_for(StateGateEvent)
        bad = keyed(
            certain_bad(codec, [codec.encode(e) for e in good[:40]], BAD_PER_TOPIC, SEED + 2), SEED + 2
        )

        proc = h.start("fuzz")
        half = len(good) // 2
        h.produce(good[:half])
        sent = produce_recorded(kafka_bootstrap, h.input, bad)
        h.produce(good[half:])
        total = sum(len(v) for v in expected.values())
        h.wait_events(total, proc)
        assert h.events(h.output) == expected
        dlq = wait_committed(kafka_bootstrap, h.dlq, h.partitions, len(sent), check=alive(proc, h.log_tail))
        assert len(dlq) == len(sent)
        assert_dead_lettered(dlq, sent, "analysis_engine", h.input)
        assert proc.poll() is None, h.log_tail(proc)
    finally:
        h.cleanup()
