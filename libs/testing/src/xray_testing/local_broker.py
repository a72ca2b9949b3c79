"""A real single-node Apache Kafka broker (KRaft) run from the Maven jars, for machines without Docker.

Library: `LocalBroker(run_dir)` with start/stop/kill/restart/destroy; `up()`/`down()` manage the one
broker behind `make kafka-up`/`make kafka-down` (run folder .cache/kafka/run/default).
CLI: `python -m xray_testing.local_broker up|down|status|env|logs|jars`.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from xray_testing.broker_config import free_ports, new_cluster_id, render_properties, server_properties
from xray_testing.broker_probe import BrokerNotReadyError, is_answering, wait_until_ready
from xray_testing.kafka_jars import BrokerSetupError, classpath, ensure_jars, java_executable
from xray_testing.paths import default_run_dir, log4j2_config_path, run_root

DEFAULT_HEAP = "768m"
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class BrokerState:
    """What the state file records about a started broker."""

    pid: int
    port: int
    controller_port: int
    cluster_id: str
    run_dir: str
    started_at: float

    @property
    def bootstrap(self) -> str:
        """host:port clients connect to."""
        return f"127.0.0.1:{self.port}"


class LocalBroker:
    """One broker bound to a run folder: config, data and logs live there, so a restart is the same broker."""

    def __init__(self, run_dir: Path, *, heap: str = DEFAULT_HEAP) -> None:
        self.run_dir = run_dir.resolve()
        self.heap = heap
        self._proc: subprocess.Popen[bytes] | None = None
        self._state: BrokerState | None = read_state(self.run_dir)

    # --- where things are -------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        """The JSON file holding pid, ports and cluster id."""
        return self.run_dir / "state.json"

    @property
    def config_file(self) -> Path:
        """The broker's server.properties."""
        return self.run_dir / "server.properties"

    @property
    def data_dir(self) -> Path:
        """KRaft metadata and topic logs."""
        return self.run_dir / "data"

    @property
    def logs_dir(self) -> Path:
        """server.log (log4j2) and the JVM's own stdout/stderr."""
        return self.run_dir / "logs"

    @property
    def bootstrap(self) -> str:
        """The broker's bootstrap servers; raises when it was never started."""
        if self._state is None:
            raise RuntimeError(f"broker in {self.run_dir} was never started")
        return self._state.bootstrap

    @property
    def pid(self) -> int | None:
        """The broker JVM's pid while it runs, else None."""
        return self._state.pid if self._state is not None and self.is_running() else None

    # --- lifecycle --------------------------------------------------------------------------------
    def start(self, timeout_s: float = START_TIMEOUT_S) -> str:
        """Start (or restart on the same ports and data) and return bootstrap once a round trip succeeds."""
        if self.is_running():
            return self.bootstrap
        jars = ensure_jars()
        java = java_executable()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        if self._state is None:
            port, controller_port = free_ports(2)
            cluster_id = new_cluster_id()
        else:  # a restart keeps identity: same ports, same cluster id, same data
            port, controller_port = self._state.port, self._state.controller_port
            cluster_id = self._state.cluster_id
        self.config_file.write_text(
            render_properties(server_properties(port, controller_port, self.data_dir))
        )
        if not (self.data_dir / "meta.properties").is_file():
            self._format(java, jars, cluster_id)
        cmd = [
            java,
            f"-Xmx{self.heap}",
            "-Xms128m",
            "-XX:+UseG1GC",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j2_config_path()}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            "-cp",
            classpath(jars),
            "kafka.Kafka",
            str(self.config_file),
        ]
        with (self.logs_dir / "jvm.out").open("ab") as out:
            # A session of its own: a Ctrl-C in the shell that ran `make kafka-up` must not reach it.
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.run_dir,
                start_new_session=True,
            )
        self._state = BrokerState(
            pid=self._proc.pid,
            port=port,
            controller_port=controller_port,
            cluster_id=cluster_id,
            run_dir=str(self.run_dir),
            started_at=time.time(),
        )
        self._write_state()
        try:
            wait_until_ready(self._state.bootstrap, timeout_s, still_alive=self.is_running)
        except BrokerNotReadyError as exc:
            self.kill()
            raise BrokerNotReadyError(
                f"{exc}\n--- last lines of {self.logs_dir} ---\n{self.log_tail(30)}"
            ) from exc
        except BaseException:  # Ctrl-C or SIGTERM mid-start: leave no half-started broker behind
            self.kill()
            raise
        return self._state.bootstrap

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Graceful stop (SIGTERM, then SIGKILL after timeout_s); data stays for a restart."""
        self._signal_and_wait(signal.SIGTERM, timeout_s)

    def kill(self) -> None:
        """SIGKILL, as a crash would; data stays for a restart."""
        self._signal_and_wait(signal.SIGKILL, STOP_TIMEOUT_S)

    def restart(self, timeout_s: float = START_TIMEOUT_S) -> str:
        """Stop gracefully if running, then start the same broker again."""
        self.stop()
        return self.start(timeout_s)

    def destroy(self) -> None:
        """Stop and remove the whole run folder (data, logs, state)."""
        self.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        self._state = None

    def is_running(self) -> bool:
        """True while the recorded pid is alive and is this run folder's kafka.Kafka process."""
        if self._state is None:
            return False
        if self._proc is not None and self._proc.pid == self._state.pid:
            return self._proc.poll() is None
        return _pid_is_broker(self._state.pid, self.config_file)

    def log_tail(self, lines: int = 50) -> str:
        """The last lines of server.log and the JVM output, for error messages and `make kafka-logs`."""
        chunks = []
        for name in ("server.log", "jvm.out"):
            path = self.logs_dir / name
            if path.is_file():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                chunks.append(f"==> {path} <==\n" + "\n".join(text))
        return "\n".join(chunks) or f"(no logs in {self.logs_dir})"

    # --- internals --------------------------------------------------------------------------------
    def _format(self, java: str, jars: Path, cluster_id: str) -> None:
        """Format KRaft storage (quorum voters are static in the config, so no --standalone)."""
        cmd = [
            java,
            "-Xmx256m",
            f"-Dlog4j2.configurationFile={log4j2_config_path()}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            "-cp",
            classpath(jars),
            "kafka.tools.StorageTool",
            "format",
            "--ignore-formatted",
            "-t",
            cluster_id,
            "-c",
            str(self.config_file),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
        if result.returncode != 0:
            raise BrokerNotReadyError(
                f"kafka storage format failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )

    def _signal_and_wait(self, sig: signal.Signals, timeout_s: float) -> None:
        """Send `sig` to exactly our broker, wait for it to exit, escalate to SIGKILL on timeout."""
        if self._state is None or not self.is_running():
            self._reap()
            return
        pid = self._state.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if not self._wait_exit(timeout_s) and sig != signal.SIGKILL:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self._wait_exit(STOP_TIMEOUT_S)
        self._reap()

    def _wait_exit(self, timeout_s: float) -> bool:
        """Wait until the process is gone; True when it exited within timeout_s."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=0.2)
            if not self.is_running():
                return True
            time.sleep(0.1)
        return not self.is_running()

    def _reap(self) -> None:
        """Collect our child's exit status so it does not linger as a zombie."""
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None

    def _write_state(self) -> None:
        """Persist the state atomically, so a reader never sees half a file."""
        assert self._state is not None
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self._state), indent=2) + "\n")
        os.replace(tmp, self.state_file)


def read_state(run_dir: Path) -> BrokerState | None:
    """The state file of a run folder, or None when there is none (or it is unreadable)."""
    try:
        raw = json.loads((run_dir / "state.json").read_text())
        return BrokerState(**raw)
    except (OSError, ValueError, TypeError):
        return None


def _pid_is_broker(pid: int, config_file: Path) -> bool:
    """True when pid is a live (not zombie) kafka.Kafka started with this config file."""
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        if Path("/proc/self").exists():
            return False
        try:  # no procfs (macOS): liveness only
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    try:
        stat = (proc / "stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
        args = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"kafka.Kafka" in args and str(config_file).encode() in args


# --- the managed broker of `make kafka-up` -----------------------------------------------------------
@contextlib.contextmanager
def _run_lock() -> Iterator[None]:
    """Serialise up/down across processes (make, pytest sessions)."""
    run_root().mkdir(parents=True, exist_ok=True)
    with (run_root() / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def running_broker(run_dir: Path | None = None) -> LocalBroker | None:
    """The broker recorded in the run folder's state file, if it is alive and answering."""
    broker = LocalBroker(run_dir or default_run_dir())
    if broker.is_running() and is_answering(broker.bootstrap):
        return broker
    return None


def up(run_dir: Path | None = None) -> tuple[LocalBroker, bool]:
    """Ensure the managed broker runs; returns it and whether this call started it."""
    folder = run_dir or default_run_dir()
    with _run_lock():
        alive = running_broker(folder)
        if alive is not None:
            return alive, False
        stale = LocalBroker(folder)
        stale.destroy()  # a dead broker's leftovers: start clean on fresh ports
        broker = LocalBroker(folder)
        broker.start()
        return broker, True


def down(run_dir: Path | None = None) -> bool:
    """Stop the managed broker (only the pid its state file names) and remove its data."""
    folder = run_dir or default_run_dir()
    with _run_lock():
        if read_state(folder) is None:
            return False
        LocalBroker(folder).destroy()
        return True


def start_broker(run_dir: Path) -> LocalBroker:
    """Start (or restart, keeping ports and data) the broker of `run_dir`."""
    broker = LocalBroker(run_dir)
    broker.start()
    return broker


def stop_broker(run_dir: Path, *, hard: bool = False) -> None:
    """Stop the broker of `run_dir` (SIGKILL when hard), keeping its data for start_broker."""
    broker = LocalBroker(run_dir)
    if hard:
        broker.kill()
    else:
        broker.stop()


def main(argv: list[str] | None = None) -> int:
    """CLI: up | down | status | env | logs | jars for the managed broker."""
    parser = argparse.ArgumentParser(
        prog="python -m xray_testing.local_broker",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["up", "down", "status", "env", "logs", "jars"])
    parser.add_argument(
        "--run-dir", type=Path, default=None, help="run folder (default .cache/kafka/run/default)"
    )
    parser.add_argument("--lines", type=int, default=80, help="lines per log file for `logs`")
    args = parser.parse_args(argv)
    folder: Path = args.run_dir or default_run_dir()
    if args.command == "jars":
        try:
            print(f"kafka jars: {ensure_jars()}", file=sys.stderr)
        except BrokerSetupError as exc:
            print(f"kafka jars: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.command == "up":
        try:
            broker, started = up(folder)
        except (BrokerNotReadyError, BrokerSetupError, OSError) as exc:
            print(f"local broker: failed to start: {exc}", file=sys.stderr)
            return 1
        verb = "started" if started else "already running"
        print(
            f"local broker {verb}: {broker.bootstrap} (pid {broker.pid}, {broker.run_dir})", file=sys.stderr
        )
        return 0
    if args.command == "down":
        stopped = down(folder)
        print("local broker stopped" if stopped else "local broker: none recorded", file=sys.stderr)
        return 0
    broker = LocalBroker(folder)
    if args.command == "logs":
        print(broker.log_tail(args.lines))
        return 0
    alive = running_broker(folder)
    if args.command == "env":
        if alive is None:
            print("local broker: not running (make kafka-up)", file=sys.stderr)
            return 1
        print(f"KAFKA_BOOTSTRAP_SERVERS={alive.bootstrap}")
        return 0
    if alive is None:
        print(f"local broker: not running ({folder})")
        return 3
    print(f"local broker: running at {alive.bootstrap} (pid {alive.pid}, {alive.run_dir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
