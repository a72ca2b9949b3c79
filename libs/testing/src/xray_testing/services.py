"""Run xray services as real subprocesses in tests: environment, JSON-log reading, status endpoints.

Each service is started as `python -m <module>` with the runtime's `XRAY_*` settings (bootstrap,
namespace, instance id, a free HTTP port on loopback) and writes its JSON log lines to a file in the
test's work directory; helpers read those lines back (`events`), wait for one (`wait_for_event`), ask
`/readyz` or `/metrics` on the port the service logged in `http_started`, and stop it by signal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource

# Small batches and quick failover suit tests; a test may override any of them.
TEST_DEFAULTS: Mapping[str, str] = {
    "XRAY_HTTP__PORT": "0",
    "XRAY_HTTP__HOST": "127.0.0.1",
    "XRAY_PROCESSING__STATISTICS_INTERVAL_MS": "0",
    "XRAY_KAFKA__CONSUMER__SESSION_TIMEOUT_MS": "6000",
    "XRAY_KAFKA__CONSUMER__HEARTBEAT_INTERVAL_MS": "500",
    "XRAY_KAFKA__LOG_LEVEL": "3",
}


def service_env(
    bootstrap: str, namespace: str, instance_id: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The process environment: ours without any inherited XRAY_*, plus the test's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XRAY_")}
    env.update(TEST_DEFAULTS)
    env.update(
        {
            "XRAY_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
            "XRAY_NAMESPACE": namespace,
            "XRAY_INSTANCE_ID": instance_id,
        }
    )
    env.update(extra or {})
    return env


def set_topic_config(bootstrap: str, topic: str, key: str, value: str) -> None:
    """Change one broker-side topic config, e.g. a tiny `max.message.bytes` so writes to it fail."""
    resource = ConfigResource(
        ConfigResource.Type.TOPIC,
        topic,
        incremental_configs=[ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)],
    )
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(timeout=30)


@dataclass
class ServiceProcess:
    """One running (or finished) service subprocess and its log file."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    # A job that ends by itself (a recording replay): exiting 0 is its success, not a crash.
    one_shot: bool = False

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        """The JSON log lines written so far (only those whose `event` is `event`, when given)."""
        found: list[dict[str, Any]] = []
        for line in self.log_path.read_bytes().splitlines():
            if not line.startswith(b"{"):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line still being written
            if event is None or record.get("event") == event:
                found.append(record)
        return found

    def log_tail(self, lines: int = 25) -> str:
        """The last lines of the log, for failure messages."""
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def running(self) -> bool:
        """The process has not exited."""
        return self.proc.poll() is None

    def check_running(self) -> None:
        """Raise AssertionError (with the log tail) if the process has exited."""
        if not self.running() and not (self.one_shot and self.proc.returncode == 0):
            raise AssertionError(f"{self.name} exited {self.proc.returncode}:\n{self.log_tail()}")

    def wait_for_event(self, event: str, timeout_s: float = 60.0) -> dict[str, Any]:
        """Block until the service logs `event`; return the first such line."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = self.events(event)
            if found:
                return found[0]
            self.check_running()
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no {event} within {timeout_s}s:\n{self.log_tail()}")
            time.sleep(0.1)

    def http_port(self) -> int:
        """The status server's port (from the `http_started` log line)."""
        return int(self.wait_for_event("http_started")["port"])

    def get(self, path: str, timeout_s: float = 10.0) -> tuple[int, str]:
        """GET a status endpoint (`/readyz`, `/healthz`, `/metrics`): (HTTP status, body)."""
        url = f"http://127.0.0.1:{self.http_port()}{path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode()

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> int:
        """Signal the process (if running) and return its exit code."""
        if self.running():
            self.proc.send_signal(sig)
        return self.proc.wait(timeout_s)


@dataclass
class ServiceRunner:
    """Starts services for one test on one broker and namespace; `stop_all` kills what is left."""

    bootstrap: str
    namespace: str
    workdir: Path
    processes: list[ServiceProcess] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        instance_id: str | None = None,
        one_shot: bool = False,
    ) -> ServiceProcess:
        """Start `python <argv...>` (e.g. ["-m", "orchestrator"]); stdout+stderr go to `<name>-<n>.log`.

        `one_shot`: the process ends by itself (a replay); a clean exit is then not reported as a crash.
        """
        log = self.workdir / f"{name}-{len(self.processes)}.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [sys.executable, *argv],
                env=service_env(self.bootstrap, self.namespace, instance_id or name, env),
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        started = ServiceProcess(name, proc, log, one_shot)
        self.processes.append(started)
        return started

    def start_module(
        self, module: str, env: Mapping[str, str] | None = None, name: str | None = None
    ) -> ServiceProcess:
        """Start `python -m <module>` (a service's entry point)."""
        return self.start(name or module.rsplit(".", 1)[-1], ["-m", module], env)

    def check_running(self) -> None:
        """Raise if any started service has exited unexpectedly (with its log tail)."""
        for service in self.processes:
            service.check_running()

    def stop_all(self, timeout_s: float = 30.0) -> dict[str, int]:
        """SIGTERM every running service, then SIGKILL what does not exit; returns exit codes by name."""
        codes: dict[str, int] = {}
        for service in self.processes:
            if service.running():
                service.proc.send_signal(signal.SIGTERM)
        for service in self.processes:
            try:
                codes[service.name] = service.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                service.proc.kill()
                codes[service.name] = service.proc.wait(10)
        return codes


@contextmanager
def running_services(bootstrap: str, namespace: str, workdir: Path) -> Iterator[ServiceRunner]:
    """A ServiceRunner whose processes are always stopped when the block ends."""
    runner = ServiceRunner(bootstrap, namespace, workdir)
    try:
        yield runner
    finally:
        runner.stop_all()
