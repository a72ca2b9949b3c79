"""Run service subprocesses, restart the ones that die (with backoff), stop them all on the way out.

Every process starts in a session of its own, so a Ctrl-C in the terminal reaches only the foreground
process (the dashboard) and `xray up` itself, which then stops the services in order: SIGTERM, a
grace period, SIGKILL. Each service writes stdout+stderr to `<log_dir>/<name>.log` (appended across
restarts); the supervisor's own events go to `<log_dir>/supervisor.log` as JSON lines.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson

from xray_ops.procs import MARKER_ENV
from xray_ops.restart import RestartPolicy

ProcessState = Literal["running", "backoff", "done", "failed", "stopped"]
EventSink = Callable[[str, Mapping[str, Any]], None]


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """What to run: argv (argv[0] is the program), environment, status port, restart behaviour."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    port: int | None = None
    # A job runs once: exit 0 means done, a failure is reported and not retried (a recording ingest
    # that ran again would publish its events twice).
    job: bool = False
    module: str = ""


@dataclass
class ManagedProcess:
    """One supervised process and its history."""

    spec: ProcessSpec
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    state: ProcessState = "stopped"
    started_at: float = 0.0
    restarts: int = 0
    failures: int = 0
    last_exit: int | None = None
    last_exit_at: float | None = None
    next_start_at: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pid(self) -> int | None:
        """The pid while it runs."""
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def to_json(self) -> dict[str, Any]:
        """The state-file entry `xray status` and `xray down` read."""
        return {
            "name": self.spec.name,
            "module": self.spec.module,
            "pid": self.pid,
            "port": self.spec.port,
            "log": str(self.log_path),
            "state": self.state,
            "job": self.spec.job,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "last_exit_at": _iso(self.last_exit_at),
            "started_at": _iso(self.started_at) if self.started_at else None,
        }


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


class Supervisor:
    """Starts processes, notices exits, restarts with backoff; `stop_all` ends everything it started."""

    def __init__(
        self,
        log_dir: Path,
        marker: str,
        policy: RestartPolicy | None = None,
        on_event: EventSink | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.log_dir = log_dir
        self.marker = marker
        self.policy = policy or RestartPolicy()
        self._on_event = on_event
        self._clock = clock
        self.processes: list[ManagedProcess] = []
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log = (log_dir / "supervisor.log").open("ab")

    # --- events -----------------------------------------------------------------------------------
    def event(self, name: str, **fields: Any) -> None:
        """Record a supervisor event (JSON line in supervisor.log) and pass it to the callback."""
        line = {"ts": _iso(self._clock()), "event": name, **fields}
        self._log.write(orjson.dumps(line, default=str) + b"\n")
        self._log.flush()
        if self._on_event is not None:
            self._on_event(name, fields)

    # --- lifecycle --------------------------------------------------------------------------------
    def add(self, spec: ProcessSpec) -> ManagedProcess:
        """Start a new process now."""
        managed = ManagedProcess(spec, self.log_dir / f"{spec.name}.log")
        self.processes.append(managed)
        self._spawn(managed)
        return managed

    def _spawn(self, managed: ManagedProcess) -> None:
        env = {**managed.spec.env, MARKER_ENV: self.marker}
        with managed.log_path.open("ab") as sink:
            managed.proc = subprocess.Popen(
                list(managed.spec.argv),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        managed.state = "running"
        managed.started_at = self._clock()
        managed.next_start_at = None
        self.event(
            "service_started",
            service=managed.spec.name,
            pid=managed.proc.pid,
            port=managed.spec.port,
            restarts=managed.restarts,
        )

    def poll(self) -> list[ManagedProcess]:
        """Handle exits and due restarts; return the processes whose state changed."""
        changed = []
        now = self._clock()
        for managed in self.processes:
            if managed.state == "running" and managed.proc is not None:
                code = managed.proc.poll()
                if code is None:
                    continue
                self._exited(managed, code, now)
                changed.append(managed)
            elif managed.state == "backoff" and now >= (managed.next_start_at or now):
                managed.restarts += 1
                self._spawn(managed)
                self.event("service_restarted", service=managed.spec.name, restarts=managed.restarts)
                changed.append(managed)
        return changed

    def _exited(self, managed: ManagedProcess, code: int, now: float) -> None:
        uptime = now - managed.started_at
        managed.last_exit = code
        managed.last_exit_at = now
        managed.history.append({"exit": code, "uptime_s": round(uptime, 1)})
        if managed.spec.job:
            managed.state = "done" if code == 0 else "failed"
            self.event("job_finished", service=managed.spec.name, exit=code, uptime_s=round(uptime, 1))
            return
        managed.failures = self.policy.failures_after(managed.failures, uptime)
        delay = self.policy.delay(managed.failures)
        managed.state = "backoff"
        managed.next_start_at = now + delay
        self.event(
            "service_died",
            service=managed.spec.name,
            exit=code,
            uptime_s=round(uptime, 1),
            restart_in_s=delay,
            consecutive_failures=managed.failures,
            log=str(managed.log_path),
        )

    def stop(self, managed: ManagedProcess, timeout_s: float) -> int | None:
        """SIGTERM one process, SIGKILL after timeout_s; returns its exit code (None if not running)."""
        self._terminate([managed], timeout_s)
        return managed.last_exit if managed.state == "stopped" else None

    def stop_all(self, timeout_s: float = 20.0, order: Sequence[str] | None = None) -> dict[str, int | None]:
        """Stop everything (in `order` of names first, then the rest, newest first); exit codes by name."""
        ranked = list(reversed(self.processes))
        if order is not None:
            first = [m for name in order for m in ranked if m.spec.name == name]
            ranked = first + [m for m in ranked if m not in first]
        codes: dict[str, int | None] = {}
        for managed in ranked:
            running = managed.proc is not None and managed.proc.poll() is None
            if managed.state == "backoff":
                managed.state = "stopped"
                managed.next_start_at = None
            if running:
                self._terminate([managed], timeout_s)
                codes[managed.spec.name] = managed.last_exit
        self._log.flush()
        return codes

    def _terminate(self, group: list[ManagedProcess], timeout_s: float) -> None:
        live = [m for m in group if m.proc is not None and m.proc.poll() is None]
        for managed in live:
            assert managed.proc is not None
            with contextlib.suppress(ProcessLookupError):
                managed.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for managed in live:
            assert managed.proc is not None
            try:
                code = managed.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.event("service_killed", service=managed.spec.name, after_s=timeout_s)
                _kill_session(managed.proc.pid)
                code = managed.proc.wait(10)
            managed.state = "stopped"
            managed.last_exit = code
            managed.last_exit_at = self._clock()
            self.event("service_stopped", service=managed.spec.name, exit=code)
        # A service may have started helpers of its own in its session: leave none behind.
        for managed in live:
            assert managed.proc is not None
            _kill_session(managed.proc.pid)

    def close(self) -> None:
        """Close the supervisor log."""
        self._log.close()

    def snapshot(self) -> list[dict[str, Any]]:
        """Every process as a state-file entry."""
        return [m.to_json() for m in self.processes]

    def get(self, name: str) -> ManagedProcess:
        """The managed process of a name."""
        for managed in self.processes:
            if managed.spec.name == name:
                return managed
        raise KeyError(name)


def _kill_session(pid: int) -> None:
    """SIGKILL the process group `pid` leads (its session), if any member is left."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
