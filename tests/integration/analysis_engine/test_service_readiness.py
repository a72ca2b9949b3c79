"""/readyz of the analysis_engine service follows halted symbols (also after a restore); metrics count
each committed outcome once."""

from __future__ import annotations

import time
from pathlib import Path

from consumers.analysis_engine.harness import AnalysisHarness
from consumers.analysis_engine.testing import gate_event, regime_output
from xray_contracts import catalogue
from xray_contracts.state_gate import StateGateEvent
from xray_testing.services import ServiceProcess, ServiceRunner, running_services, set_topic_config

SYMBOL = "BTCUSDT"
HALTED_GAUGE = 'analysis_engine_halted{symbol="BTCUSDT"}'


def wait_readyz(service: ServiceProcess, status: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while service.get("/readyz")[0] != status:
        service.check_running()
        assert time.monotonic() < deadline, f"/readyz never {status}:\n{service.log_tail()}"
        time.sleep(0.1)


def opened(run_id: str, ts: int) -> StateGateEvent:
    """An OPEN gate decision carrying a regime output (so every built-in module runs)."""
    return gate_event(
        run_id,
        symbol=SYMBOL,
        timestamp=ts,
        regime=regime_output("TREND_BUILD_UP", symbol=SYMBOL, timestamp=ts),
    )


def start(services: ServiceRunner) -> ServiceProcess:
    service = services.start_module("consumers.analysis_engine")
    service.wait_for_event("partitions_assigned")
    return service


def test_readyz_follows_halts_across_restart(
    analysis_harness: AnalysisHarness, kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path
) -> None:
    h = analysis_harness
    with running_services(kafka_bootstrap, kafka_namespace, tmp_path) as services:
        service = start(services)
        wait_readyz(service, 200)
        h.produce(
            [
                opened("run-1", 180_000),
                gate_event("halt-1", symbol=SYMBOL, event_type="StateGateHalted", timestamp=360_000),
            ]
        )
        h.wait_events(10, service.proc)  # Started, 7 artifacts, Completed, Failed
        wait_readyz(service, 503)
        metrics = service.get("/metrics")[1]
        assert f"{HALTED_GAUGE} 1.0" in metrics
        assert 'analysis_engine_run_status_total{status="SUCCESS"} 1.0' in metrics
        assert 'analysis_engine_run_status_total{status="FAILED"} 1.0' in metrics
        assert service.stop() == 0

        # The halt is rebuilt from the restored ledger: still not ready, gauge still 1.
        service = start(services)
        wait_readyz(service, 503)
        assert f"{HALTED_GAUGE} 1.0" in service.get("/metrics")[1]

        # A newer gate decision (state_gate only sends one after an operator resume) lifts the halt.
        h.produce([opened("run-2", 540_000)])
        wait_readyz(service, 200)
        metrics = service.get("/metrics")[1]
        assert f"{HALTED_GAUGE} 0.0" in metrics
        assert 'analysis_engine_run_status_total{status="SUCCESS"} 1.0' in metrics  # counted once per process
        assert service.stop() == 0
    lifecycle = [e.event_type for e in h.events(h.output)[SYMBOL] if e.event_type.startswith("AnalysisRun")]
    assert lifecycle == [
        "AnalysisRunStarted",
        "AnalysisRunCompleted",
        "AnalysisRunFailed",
        "AnalysisRunStarted",
        "AnalysisRunCompleted",
    ]


def test_an_aborted_and_redone_batch_is_counted_once(
    analysis_harness: AnalysisHarness, kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path
) -> None:
    h = analysis_harness
    ledger_topic = catalogue.spec("analysis_engine.run_ledger").topic(kafka_namespace)
    # The broker refuses the ledger record until the limit is raised again: every attempt aborts.
    set_topic_config(kafka_bootstrap, ledger_topic, "max.message.bytes", "100")
    with running_services(kafka_bootstrap, kafka_namespace, tmp_path) as services:
        service = services.start_module(
            "consumers.analysis_engine", env={"XRAY_PROCESSING__MAX_CONSECUTIVE_ABORTS": "1000"}
        )
        service.wait_for_event("partitions_assigned")
        h.produce([opened("run-1", 180_000)])
        deadline = time.monotonic() + 60
        while len(service.events("transaction_aborting")) < 2:
            service.check_running()
            assert time.monotonic() < deadline, service.log_tail()
            time.sleep(0.1)
        set_topic_config(kafka_bootstrap, ledger_topic, "max.message.bytes", "1048588")
        h.wait_events(9, service.proc)
        metrics = service.get("/metrics")[1]
        assert service.stop() == 0
    assert 'analysis_engine_run_status_total{status="SUCCESS"} 1.0' in metrics
    assert 'analysis_engine_artifacts_total{artifact_kind="signal",module_id="signal.regime"} 3.0' in metrics
    assert 'xray_transactions_total{outcome="aborted"}' in metrics
