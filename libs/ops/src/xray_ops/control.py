"""`xray down` and `xray status` over the state file a running `xray up` keeps."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

from xray_ops.procs import pids_with_marker, signal_marked, wait_gone
from xray_ops.state import StackState, read_state, remove_state
from xray_ops.status import ServiceStatus, probe


@dataclass(frozen=True, slots=True)
class DownResult:
    """What `xray down` did."""

    found: bool
    supervisor_stopped: bool
    leftovers_killed: list[int]


def stop_stack(folder: Path, timeout_s: float = 90.0) -> DownResult:
    """Stop the stack recorded in `folder`: SIGTERM its `xray up` (which stops what it started), then
    terminate any process still carrying the stack's marker (a supervisor that was SIGKILLed)."""
    state = read_state(folder)
    if state is None:
        return DownResult(False, False, [])
    stopped = False
    if state.supervisor_alive():
        os.kill(state.supervisor_pid, signal.SIGTERM)
        stopped = not wait_gone([state.supervisor_pid], timeout_s)
    ours = {os.getpid(), os.getppid()}
    leftovers = [p for p in pids_with_marker(state.marker) if p not in ours]
    for pid in leftovers:
        signal_marked(pid, state.marker, signal.SIGTERM)
    for pid in wait_gone(leftovers, 20.0):
        signal_marked(pid, state.marker, signal.SIGKILL)
    wait_gone(leftovers, 10.0)
    remove_state(folder)
    return DownResult(True, stopped, leftovers)


def stack_status(folder: Path) -> tuple[StackState | None, list[ServiceStatus]]:
    """The state file and a probe of every service it lists."""
    state = read_state(folder)
    if state is None:
        return None, []
    return state, [probe(entry) for entry in state.services]
