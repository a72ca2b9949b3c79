"""The local broker only ever signals the process it started, and the jar cache is reused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from xray_testing.kafka_jars import MARKER_NAME, BrokerSetupError, ensure_jars, jars_version
from xray_testing.local_broker import LocalBroker, main, read_state


def _write_state(run_dir: Path, pid: int) -> None:
    run_dir.mkdir(parents=True)
    state = {
        "pid": pid,
        "port": 1,
        "controller_port": 2,
        "cluster_id": "x",
        "run_dir": str(run_dir),
        "started_at": 0.0,
    }
    (run_dir / "state.json").write_text(json.dumps(state))


def test_a_foreign_pid_in_the_state_file_is_never_signalled(tmp_path: Path) -> None:
    # a live process that is not this run folder's kafka.Kafka (a recycled pid, say)
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _write_state(tmp_path / "run", stranger.pid)
        broker = LocalBroker(tmp_path / "run")
        assert read_state(tmp_path / "run") is not None
        assert not broker.is_running()
        assert broker.pid is None
        broker.stop()
        broker.kill()
        assert stranger.poll() is None  # still alive: neither SIGTERM nor SIGKILL reached it
    finally:
        stranger.kill()
        stranger.wait()


def test_cli_env_fails_when_no_broker_runs(tmp_path: Path) -> None:
    assert main(["env", "--run-dir", str(tmp_path / "none")]) == 1
    assert main(["status", "--run-dir", str(tmp_path / "none")]) == 3
    assert main(["down", "--run-dir", str(tmp_path / "none")]) == 0


def _fake_repo(root: Path) -> Path:
    (root / "deploy" / "kafka").mkdir(parents=True)
    (root / "deploy" / "kafka" / "pom.xml").write_text("<project/>")
    return root


def test_current_jars_are_reused_without_mvn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _fake_repo(tmp_path)
    monkeypatch.setenv("XRAY_REPO_ROOT", str(repo))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no mvn anywhere
    libs = repo / ".cache" / "kafka" / "libs"
    libs.mkdir(parents=True)
    (libs / MARKER_NAME).write_text(jars_version() + "\n")
    assert ensure_jars() == libs


def test_a_changed_pom_means_resolving_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _fake_repo(tmp_path)
    monkeypatch.setenv("XRAY_REPO_ROOT", str(repo))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    libs = repo / ".cache" / "kafka" / "libs"
    libs.mkdir(parents=True)
    (libs / MARKER_NAME).write_text("stale\n")
    with pytest.raises(BrokerSetupError, match="mvn not found"):
        ensure_jars()
