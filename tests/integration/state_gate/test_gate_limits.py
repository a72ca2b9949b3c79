"""Operation limits and readiness of the state_gate service on a real broker.

A publish or persistence failure that keeps coming back halts its symbol (never an OPEN gate); a halt
makes /readyz answer 503, also after a restart; input errors beyond input_limits.max_failures do too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from consumers.state_gate.cli import gate
from consumers.state_gate.contracts import StateGateEvent, StateGateHaltedPayload
from consumers.state_gate.harness import TOPICS, GateHarness, run_id_for
from consumers.state_gate.samples import completed
from xray_contracts import catalogue
from xray_contracts.orchestrator_event import OrchestratorEvent

SYMBOL = "BTCUSDT"
# Big enough that a GateEvaluated (and its log record, which carries the regime output) exceeds the
# topic's max.message.bytes below, while a StateGateHalted and its record stay well under it.
# Hashes, so the producer's lz4 cannot shrink them below the limit.
BIG_INVALIDATIONS = tuple(hashlib.sha256(str(i).encode()).hexdigest() for i in range(100))
SMALL_MESSAGE_BYTES = "2000"


def big_run(ts: int, symbol: str = SYMBOL) -> OrchestratorEvent:
    """A completed truth-mode run whose regime output is a few kilobytes."""
    return completed(run_id_for(symbol, ts, "truth"), ts, symbol=symbol, invalidations=BIG_INVALIDATIONS)


def small_run(ts: int, symbol: str = SYMBOL) -> OrchestratorEvent:
    """A completed truth-mode run that gates OPEN."""
    return completed(run_id_for(symbol, ts, "truth"), ts, symbol=symbol)


MakeHarness = Callable[..., GateHarness]


@pytest.fixture
def make_harness(kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path) -> Iterator[MakeHarness]:
    """Build one harness per test with custom topics/env; processes are cleaned up afterwards."""
    made: list[GateHarness] = []

    def build(**kwargs: Any) -> GateHarness:
        harness = GateHarness(kafka_bootstrap, kafka_namespace, tmp_path, **kwargs)
        made.append(harness)
        return harness

    try:
        yield build
    finally:
        for harness in made:
            harness.cleanup()


def _wait_for_gate(h: GateHarness, symbol: str, count: int) -> list[StateGateEvent]:
    return h.wait_outputs(count, h.procs, timeout_s=90).get(symbol, [])


@pytest.mark.parametrize(
    ("failing_topic", "limits_block", "error_kind"),
    [
        (catalogue.STATE_GATE_EVENT, "PUBLISH_LIMITS", "publish_blocked"),
        (catalogue.STATE_GATE_STATE_LOG, "PERSISTENCE_LIMITS", "persistence_failure"),
    ],
)
def test_repeated_write_failure_halts_the_symbol_never_open(
    make_harness: MakeHarness,
    failing_topic: catalogue.TopicSpec,
    limits_block: str,
    error_kind: str,
) -> None:
    h = make_harness(extra_env={f"XRAY_GATE__{limits_block}__MAX_FAILURES": "2"})
    h.set_topic_config(failing_topic.topic(h.namespace), "max.message.bytes", SMALL_MESSAGE_BYTES)
    proc = h.start("gate-0")
    h.wait_for_event(proc, "partitions_assigned")
    h.wait_readyz(proc, 200)
    h.produce([big_run(180_000)])
    gates = _wait_for_gate(h, SYMBOL, 1)
    assert [(e.event_type, e.gate_status, e.state_status) for e in gates] == [
        ("StateGateHalted", "CLOSED", "HALTED")
    ]
    halt = gates[0]
    assert isinstance(halt.payload, StateGateHaltedPayload)
    assert halt.payload.error_kind == error_kind
    assert halt.payload.error_detail.startswith("2 consecutive failed transactions")
    assert halt.run_id == run_id_for(SYMBOL, 180_000, "truth")
    failures = h.events(proc, "transaction_failed")
    # Two failures of that kind decide the halt. (librdkafka may abort once more while it recovers
    # the idempotent sequence after a rejected record; that attempt already writes the halt.)
    assert [f["error_kind"] for f in failures[:2]] == [error_kind, error_kind]
    assert [f["halting"] for f in failures[:2]] == [[], [SYMBOL]]
    h.wait_readyz(proc, 503)
    assert "state_gate_halted 1.0" in h.metrics_text(proc)
    # Later runs of the halted symbol stay closed (ignored), even small ones that would open.
    h.produce([small_run(360_000)])
    h.produce([small_run(180_000, symbol="ETHUSDT")])
    out = h.wait_outputs(2, [proc])
    assert [e.event_type for e in out[SYMBOL]] == ["StateGateHalted"]
    assert [e.gate_status for e in out["ETHUSDT"]] == ["OPEN"]
    assert h.stop(proc) == 0, h.log_tail(proc)


def test_readyz_follows_halts_across_restart_and_resume(make_harness: MakeHarness) -> None:
    h = make_harness()
    proc = h.start("gate-0")
    h.wait_for_event(proc, "partitions_assigned")
    h.wait_readyz(proc, 200)
    h.produce([small_run(180_000)])
    h.produce_raw(SYMBOL.encode(), b"\x00 not an orchestrator event")
    h.wait_outputs(2, [proc])
    h.wait_readyz(proc, 503)

    # After a restart the halted set is rebuilt from the restored snapshots: still not ready, gauge 1.
    assert h.stop(proc) == 0, h.log_tail(proc)
    proc = h.start("gate-0")
    h.wait_for_event(proc, "partitions_assigned")
    h.wait_readyz(proc, 503)
    assert "state_gate_halted 1.0" in h.metrics_text(proc)
    (recomputed,) = h.events(proc, "state_gate.halted_symbols")
    assert recomputed["symbols"] == [SYMBOL]

    where = ["--bootstrap", h.bootstrap, "--namespace", h.namespace]
    result = CliRunner().invoke(gate, ["resume", SYMBOL, *where])
    assert result.exit_code == 0, result.output
    h.wait_readyz(proc, 200)
    assert "state_gate_halted 0.0" in h.metrics_text(proc)
    assert h.stop(proc) == 0, h.log_tail(proc)


def test_input_errors_beyond_the_limit_make_the_service_not_ready(make_harness: MakeHarness) -> None:
    # Without its control topic the consumer reports "subscribed topic not available" (an input error).
    topics = [t for t in TOPICS if t != catalogue.STATE_GATE_CONTROL]
    h = make_harness(topics=topics, extra_env={"XRAY_GATE__INPUT_LIMITS__MAX_FAILURES": "1"})
    proc = h.start("gate-0")
    h.wait_for_event(proc, "partitions_assigned")
    h.wait_readyz(proc, 503)
    assert h.events(proc, "consume_error")
    # A record consumed again ends the error streak: the input is healthy and the service ready.
    h.produce([small_run(180_000)])
    h.wait_outputs(1, [proc])
    h.wait_readyz(proc, 200)
    assert h.stop(proc) == 0, h.log_tail(proc)
