"""`xray up` on a real broker: services come up ready, a killed one is restarted, `xray down` ends all.

`xray up --recording FILE --no-dashboard` ingests a short simulated recording and supervises the
installed services; `xray status --json` must show each one running, healthy and ready; a SIGKILLed
state_gate must be restarted (supervisor.log says so, status counts it) and be ready again; `xray down`
must stop `xray up` cleanly and leave no process carrying the run's marker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from xray_ops import catalogue as services
from xray_ops.namespaces import remove_namespace
from xray_ops.procs import MARKER_ENV, pids_with_marker
from xray_simulator.api import write_recording
from xray_simulator.config import SimulatorConfig
from xray_simulator.generator import iter_frames

pytestmark = pytest.mark.kafka
XRAY = str(Path(sys.executable).with_name("xray"))


def wait_for(what: str, check: Callable[[], bool], timeout_s: float, context: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout_s}s\n{context()}")
        time.sleep(0.5)


def test_up_status_restart_down(kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path) -> None:
    recording = tmp_path / "sim.dat"
    config = SimulatorConfig(
        seed=5, symbols=("BTCUSDT", "ETHUSDT"), windows=4, activity=0.3, book_interval_s=5
    )
    write_recording(iter_frames(config), recording)
    marker = f"stack-test-{tmp_path.name}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("XRAY_")},
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "XRAY_STACK_DIR": str(tmp_path / "stack"),
        MARKER_ENV: marker,
        # Small librdkafka statistics interval so `xray status` has consumer lag to show.
        "XRAY_PROCESSING__STATISTICS_INTERVAL_MS": "1000",
    }
    out = (tmp_path / "up.out").open("wb")
    up = subprocess.Popen(
        [XRAY, "up", "--recording", str(recording), "--no-dashboard", "--namespace", kafka_namespace],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log_dir = tmp_path / "stack" / "logs"

    def context() -> str:
        text = (tmp_path / "up.out").read_text(errors="replace")[-3000:]
        return text + "\n" + "\n".join(f"== {p.name}\n{p.read_text()[-1500:]}" for p in log_dir.glob("*.log"))

    def status() -> tuple[int, dict[str, dict[str, Any]]]:
        done = subprocess.run(
            [XRAY, "status", "--json"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        return done.returncode, {r["name"]: r for r in rows}

    expected = {e.name for e in services.PROCESSORS if e.installed()} | {"market_data"}
    try:

        def all_ready() -> bool:
            code, rows = status()
            processors = [r for n, r in rows.items() if n != "market_data"]
            return (
                code == 0
                and set(rows) == expected
                and rows["market_data"]["state"] == "done"
                and all(r["state"] == "running" and r["ready"] and r["healthy"] for r in processors)
            )

        wait_for("every service ready", all_ready, 120, context)
        _, rows = status()
        assert rows["state_gate"]["restarts"] == 0
        plain = subprocess.run(
            [XRAY, "status"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert "state_gate" in plain.stdout
        assert f"namespace {kafka_namespace}" in plain.stdout

        victim = rows["state_gate"]["pid"]
        os.kill(victim, signal.SIGKILL)

        def restarted() -> bool:
            code, now = status()
            gate = now.get("state_gate", {})
            return bool(
                code == 0 and gate.get("restarts") == 1 and gate.get("ready") and gate.get("pid") != victim
            )

        wait_for("state_gate restarted and ready", restarted, 120, context)
        events = [json.loads(line) for line in (log_dir / "supervisor.log").read_text().splitlines()]
        died = [e for e in events if e["event"] == "service_died"]
        assert [(e["service"], e["exit"]) for e in died] == [("state_gate", -9)]
        assert any(e["event"] == "service_restarted" and e["service"] == "state_gate" for e in events)

        down = subprocess.run(
            [XRAY, "down"], env=env, capture_output=True, text=True, timeout=180, check=False
        )
        assert down.returncode == 0, down.stderr
        assert "stopped" in down.stdout
        assert up.wait(60) == 0, context()
        assert pids_with_marker(marker) == []
        assert not (tmp_path / "stack" / "state.json").exists()
        assert status()[0] == 3  # no stack
        stopped = [e for e in map(json.loads, (log_dir / "supervisor.log").read_text().splitlines())]
        assert {e["service"] for e in stopped if e["event"] == "service_stopped"} >= expected - {
            "market_data"
        }
        assert all(e["exit"] == 0 for e in stopped if e["event"] == "service_stopped"), stopped
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGTERM)
            up.wait(60)
        for pid in pids_with_marker(marker):
            os.kill(pid, signal.SIGKILL)
        out.close()
        remove_namespace(kafka_bootstrap, kafka_namespace)
