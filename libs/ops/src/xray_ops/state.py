"""The running stack's state file: who supervises, which broker and namespace, every process."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from xray_ops.procs import same_process


@dataclass
class StackState:
    """What `xray up` writes (and rewrites on every change) for `xray status` and `xray down`."""

    marker: str
    supervisor_pid: int
    mode: str
    namespace: str
    bootstrap: str
    log_dir: str
    started_at: str
    broker_started: bool = False
    symbols: list[str] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    phase: str = "starting"
    supervisor_start_ticks: int | None = None

    def supervisor_alive(self) -> bool:
        """The `xray up` process that wrote this is still running."""
        return same_process(self.supervisor_pid, self.supervisor_start_ticks)


def state_file(folder: Path) -> Path:
    """The state file inside the stack folder."""
    return folder / "state.json"


def write_state(folder: Path, state: StackState) -> None:
    """Replace the state file atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    target = state_file(folder)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2) + "\n")
    os.replace(tmp, target)


def read_state(folder: Path) -> StackState | None:
    """The state file's content, or None when there is none (or it is unreadable)."""
    try:
        raw = json.loads(state_file(folder).read_text())
        return StackState(**raw)
    except (OSError, ValueError, TypeError):
        return None


def remove_state(folder: Path) -> None:
    """Delete the state file (the stack has stopped)."""
    state_file(folder).unlink(missing_ok=True)
