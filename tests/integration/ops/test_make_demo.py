"""`make demo` in tmux, as a user runs it: the dashboard shows regimes, Ctrl-C leaves nothing running.

The command line is `make demo` in a fresh tmux pane (the session's broker through
KAFKA_BOOTSTRAP_SERVERS, its own namespace, stack folder and marker). Within 60 s of typing it, every
simulated symbol's dashboard row must name a regime; then Ctrl-C must end the pane's command and no
process started by it (every one carries the run's XRAY_STACK_ID) may be left.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from xray_contracts.orchestrator_event import REGIME_VALUES
from xray_ops.demo import DEFAULT_SYMBOLS
from xray_ops.namespaces import remove_namespace
from xray_ops.procs import MARKER_ENV, pids_with_marker
from xray_testing.paths import repo_root

pytestmark = pytest.mark.kafka

WIDTH, HEIGHT = 220, 50


class Tmux:
    """A private tmux server (own socket) with one session whose pane stays after its command ends."""

    def __init__(self, socket: str) -> None:
        self.base = ["tmux", "-L", socket]

    def run(self, *args: str) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=30, check=True)
        return done.stdout

    def pane(self) -> str:
        return self.run("capture-pane", "-p", "-t", "demo")

    def dead(self) -> bool:
        return self.run("display-message", "-p", "-t", "demo", "#{pane_dead}").strip() == "1"

    def kill(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True, timeout=30, check=False)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (make test's setup installs it)")
    server = Tmux(f"xray-demo-{tmp_path.name}")
    try:
        yield server
    finally:
        server.kill()


def wait_for(what: str, check: Callable[[], bool], pane: Callable[[], str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout_s:.0f}s:\n{pane()}")
        time.sleep(0.5)


def regime_of(screen: str, symbol: str) -> str | None:
    """The regime column of a symbol's dashboard row."""
    for line in screen.splitlines():
        words = line.split()
        if len(words) > 1 and words[0] == symbol:
            return words[1]
    return None


def start_demo(tmux: Tmux, tmp_path: Path, bootstrap: str, namespace: str, marker: str) -> float:
    """Type `make demo` into a new pane; returns the monotonic time it started."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "XRAY_STACK_DIR": str(tmp_path / "stack"),
        MARKER_ENV: marker,
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = (
        f"cd {shlex.quote(str(repo_root()))} && env {exports} make demo DEMO_ARGS='--namespace {namespace}'"
    )
    began = time.monotonic()
    tmux.run("new-session", "-d", "-s", "demo", "-x", str(WIDTH), "-y", str(HEIGHT), command)
    tmux.run("set-option", "-t", "demo", "remain-on-exit", "on")
    return began


def ctrl_c_leaves_nothing(tmux: Tmux, tmp_path: Path, marker: str) -> None:
    tmux.run("send-keys", "-t", "demo", "C-c")
    wait_for("the end of `make demo`", tmux.dead, tmux.pane, 90)
    left = pids_with_marker(marker)
    assert left == [], f"still running after Ctrl-C: {left}"
    assert not (tmp_path / "stack" / "state.json").exists()
    supervisor_log = (tmp_path / "stack" / "logs" / "supervisor.log").read_text()
    assert '"service_stopped"' in supervisor_log


def test_make_demo_shows_regimes_within_60s_and_ctrl_c_stops_everything(
    kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path, tmux: Tmux
) -> None:
    marker = f"demo-{tmp_path.name}"
    began = start_demo(tmux, tmp_path, kafka_bootstrap, kafka_namespace, marker)
    try:

        def regimes_shown() -> bool:
            screen = tmux.pane()
            return all(regime_of(screen, s) in REGIME_VALUES for s in DEFAULT_SYMBOLS)

        wait_for(
            "a regime for every simulated symbol", regimes_shown, tmux.pane, 60 - (time.monotonic() - began)
        )
        ctrl_c_leaves_nothing(tmux, tmp_path, marker)
    finally:
        remove_namespace(kafka_bootstrap, kafka_namespace)
