"""The supervisor: restarts with backoff, jobs run once, stop_all leaves nothing, every process marked."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from xray_ops.procs import MARKER_ENV, alive, environ_of, pids_with_marker
from xray_ops.restart import RestartPolicy
from xray_ops.supervisor import ProcessSpec, Supervisor

# Prints its pid, then either exits with the code given or runs until SIGTERM (exit 0).
SCRIPT = """
import os, signal, sys, time
print("pid", os.getpid(), flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
code = int(sys.argv[1])
if code >= 0:
    sys.exit(code)
while True:
    time.sleep(0.05)
"""
# Ignores SIGTERM: stop_all must fall back to SIGKILL.
STUBBORN = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""


def spec(name: str, code: int, job: bool = False, script: str = SCRIPT) -> ProcessSpec:
    return ProcessSpec(
        name, (sys.executable, "-c", script, str(code)), env={"PATH": "/usr/bin:/bin"}, job=job
    )


def wait_until(predicate, timeout_s: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def events(log_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (log_dir / "supervisor.log").read_text().splitlines()]


def test_a_dying_service_is_restarted_with_backoff(tmp_path: Path) -> None:
    sup = Supervisor(
        tmp_path, "m-restart", RestartPolicy(min_delay_s=0.2, max_delay_s=0.4, healthy_after_s=60)
    )
    crashing = sup.add(spec("crasher", 3))
    try:
        wait_until(lambda: (sup.poll(), crashing.restarts >= 3)[1])
        died = [e for e in events(tmp_path) if e["event"] == "service_died"]
        assert [e["exit"] for e in died[:3]] == [3, 3, 3]
        assert [e["restart_in_s"] for e in died[:3]] == [0.2, 0.4, 0.4]
        assert crashing.to_json()["restarts"] >= 3
        assert crashing.log_path.read_text().count("pid ") >= 3  # one log, appended across restarts
    finally:
        sup.stop_all(5)
        sup.close()


def test_jobs_run_once_and_report_failure(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path, "m-jobs", RestartPolicy(min_delay_s=0.1))
    ok, bad = sup.add(spec("ok", 0, job=True)), sup.add(spec("bad", 2, job=True))
    try:
        wait_until(lambda: (sup.poll(), ok.state != "running" and bad.state != "running")[1])
        time.sleep(0.3)
        sup.poll()
        assert (ok.state, bad.state, ok.restarts, bad.restarts) == ("done", "failed", 0, 0)
    finally:
        sup.stop_all(5)
        sup.close()


def test_stop_all_terminates_then_kills_and_marks_every_process(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path, "m-stop", RestartPolicy())
    polite = sup.add(spec("polite", -1))
    stubborn = sup.add(spec("stubborn", -1, script=STUBBORN))
    wait_until(lambda: "ready" in stubborn.log_path.read_text() and "pid" in polite.log_path.read_text())
    pids = [polite.pid, stubborn.pid]
    assert all(p is not None and environ_of(p)[MARKER_ENV] == "m-stop" for p in pids)
    assert sorted(pids_with_marker("m-stop")) == sorted(pids)  # type: ignore[type-var]
    codes = sup.stop_all(timeout_s=1.0, order=["stubborn"])
    sup.close()
    assert codes["polite"] == 0
    assert codes["stubborn"] == -9
    assert not any(alive(p) for p in pids if p is not None)
    assert pids_with_marker("m-stop") == []
    assert [e["service"] for e in events(tmp_path) if e["event"] == "service_killed"] == ["stubborn"]


@pytest.mark.parametrize("uptime", [0.5, 120.0])
def test_failure_count_resets_after_a_healthy_run(uptime: float) -> None:
    policy = RestartPolicy(min_delay_s=1, max_delay_s=30, healthy_after_s=60)
    failures = policy.failures_after(5, uptime)
    assert policy.delay(failures) == (30.0 if uptime < 60 else 1.0)
