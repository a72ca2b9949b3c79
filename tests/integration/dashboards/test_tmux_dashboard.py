"""The real dashboard service in tmux against a broker fed from a recording through the pipeline.

The real 2024-08-08 BTCUSDT/ETHUSDT recording (XRAY_SAMPLE_DATA) or, without it, a simulator recording
goes through `consumers.dashboards.pipeline_feed.feed` (the market_data, orchestrator, state_gate and
analysis_engine services). Then `python -m consumers.dashboards` runs in a detached tmux
session; `tmux capture-pane -p` must show every symbol with the regime and gate status the topics say,
the filter and pause keys must act on the screen, and `q` must end the service with exit code 0.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from consumers.dashboards import pipeline_feed
from xray_contracts.state_gate import EVENT_GATE_EVALUATED, GateEvaluatedPayload
from xray_testing.services import running_services, service_env

pytestmark = pytest.mark.kafka

WIDTH, HEIGHT = 220, 50


class Tmux:
    """One private tmux server (own socket) running one session."""

    def __init__(self, socket: str) -> None:
        self.base = ["tmux", "-L", socket]

    def run(self, *args: str) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=30, check=True)
        return done.stdout

    def pane(self) -> str:
        return self.run("capture-pane", "-p", "-t", "dash")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "dash", *keys)

    def kill(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True, timeout=30, check=False)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (make test's setup installs it)")
    server = Tmux(f"xray-dash-{tmp_path.name}")
    try:
        yield server
    finally:
        server.kill()


def wait_for(what: str, check: Callable[[], bool], pane: Callable[[], str], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not on screen within {timeout_s}s:\n{pane()}")
        time.sleep(0.5)


def expected_rows(bootstrap: str, namespace: str) -> dict[str, tuple[str, str]]:
    """Per symbol, from the topics: (committed regime, gate status) of the newest gate event."""
    rows: dict[str, tuple[tuple[int, str], str, str]] = {}
    for event in pipeline_feed.committed_gate_events(bootstrap, namespace):
        payload = event.payload
        if event.event_type != EVENT_GATE_EVALUATED or not isinstance(payload, GateEvaluatedPayload):
            continue
        state = payload.hysteresis_state
        output = payload.regime_output
        regime = state.anchor_regime if state is not None else output.regime if output is not None else "—"
        stamp = (event.engine_timestamp_ms, event.run_id)
        if event.symbol not in rows or stamp >= rows[event.symbol][0]:
            rows[event.symbol] = (stamp, regime, event.gate_status)
    return {symbol: (regime, status) for symbol, (_, regime, status) in rows.items()}


def row_of(screen: str, symbol: str) -> list[str] | None:
    for line in screen.splitlines():
        words = line.split()
        if words and words[0] == symbol:
            return words
    return None


def test_dashboard_in_tmux_shows_what_the_topics_say(
    kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path, tmux: Tmux
) -> None:
    recording = pipeline_feed.real_recording() or pipeline_feed.simulated_recording(tmp_path)
    with running_services(kafka_bootstrap, kafka_namespace, tmp_path) as services:
        pipeline_feed.feed(services, recording)
        codes = services.stop_all()
    assert all(code == 0 for code in codes.values()), codes
    expected = expected_rows(kafka_bootstrap, kafka_namespace)
    assert set(expected) == set(recording.symbols)

    env = service_env(
        kafka_bootstrap,
        kafka_namespace,
        "dashboards-tmux",
        {
            "XRAY_DASHBOARD__MODE": "live",
            "XRAY_DASHBOARD__LOG_FILE": str(tmp_path / "dashboard.log"),
            "TERM": "xterm-256color",
        },
    )
    exit_file = tmp_path / "exit_code"
    script = tmp_path / "dashboard.sh"
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    python = shlex.quote(sys.executable)
    script.write_text(f"{exports}{python} -m consumers.dashboards\necho $? > {exit_file}\n")
    tmux.run("new-session", "-d", "-s", "dash", "-x", str(WIDTH), "-y", str(HEIGHT), f"bash {script}")

    def rows_match() -> bool:
        screen = tmux.pane()
        for symbol, (regime, status) in expected.items():
            row = row_of(screen, symbol)
            if row is None or len(row) < 2 or row[1] != regime or status not in row:
                return False
        return True

    wait_for("every symbol with its regime and gate", rows_match, tmux.pane)
    screen = tmux.pane()
    for symbol, (regime, status) in expected.items():
        row = row_of(screen, symbol)
        assert row is not None, screen
        assert row[1] == regime, row
        assert status in row, row
    for stream in ("orchestrator_event", "state_gate_event", "analysis_engine_event"):
        assert stream in screen

    # Filter to one symbol, clear it, pause, and quit with q.
    first, *others = sorted(expected)
    tmux.keys("/", first, "Enter")
    wait_for("the filter", lambda: all(row_of(tmux.pane(), o) is None for o in others), tmux.pane)
    assert row_of(tmux.pane(), first) is not None
    tmux.keys("c")
    wait_for("the cleared filter", lambda: all(row_of(tmux.pane(), s) for s in expected), tmux.pane)
    tmux.keys("p")
    wait_for("the pause badge", lambda: "PAUSED" in tmux.pane(), tmux.pane)
    tmux.keys("q")
    deadline = time.monotonic() + 30
    while not exit_file.exists() or not exit_file.read_text().strip():
        assert time.monotonic() < deadline, tmux.pane()
        time.sleep(0.2)
    assert exit_file.read_text().strip() == "0", (tmp_path / "dashboard.log").read_text()[-2000:]
