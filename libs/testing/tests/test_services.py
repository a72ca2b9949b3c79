"""xray_testing.services: environment, JSON-log reading and stopping of service subprocesses."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from xray_testing.services import ServiceRunner, service_env

# A stand-in "service": logs two JSON lines and a non-JSON one, then waits for SIGTERM and exits 0.
SCRIPT = """
import json, os, signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print(json.dumps({"event": "http_started", "port": 1}), flush=True)
print("not json", flush=True)
print(json.dumps({"event": "partitions_assigned", "ns": os.environ["XRAY_NAMESPACE"]}), flush=True)
while True:
    time.sleep(0.05)
"""


def test_service_env_drops_inherited_xray_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XRAY_GATE__MAX_GAP_MS", "1")
    env = service_env("b:1", "ns", "i-1", {"XRAY_LOG_LEVEL": "DEBUG"})
    assert "XRAY_GATE__MAX_GAP_MS" not in env
    assert (env["XRAY_KAFKA__BOOTSTRAP_SERVERS"], env["XRAY_NAMESPACE"], env["XRAY_INSTANCE_ID"]) == (
        "b:1",
        "ns",
        "i-1",
    )
    assert env["XRAY_HTTP__PORT"] == "0"
    assert env["XRAY_LOG_LEVEL"] == "DEBUG"


def test_runner_reads_json_events_and_stops_by_signal(tmp_path: Path) -> None:
    runner = ServiceRunner("b:1", "ns-test", tmp_path)
    service = runner.start("fake", ["-c", SCRIPT])
    try:
        assigned = service.wait_for_event("partitions_assigned", timeout_s=30)
        assert assigned["ns"] == "ns-test"
        assert [e["event"] for e in service.events()] == ["http_started", "partitions_assigned"]
        runner.check_running()
        assert service.stop(signal.SIGTERM) == 0
        with pytest.raises(AssertionError, match="exited 0"):
            runner.check_running()
    finally:
        assert runner.stop_all() == {"fake": 0}
