"""`xray up`: the whole system on this machine, without Docker (ARCHITECTURE §3 and §9).

Broker (the one configured, else a local one started here), topics, every service as a supervised
subprocess with its log in one folder, the feed (live Binance, a simulated market or recordings), and
the dashboard in the foreground. Ctrl-C (or `xray down`) stops everything this command started, the
broker included when it started it. A service that dies is restarted with backoff; restarts are written
to `supervisor.log`, counted in the state file (`xray status`) and summed up on exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any, Literal

from xray_contracts import catalogue
from xray_runtime.topics import ensure_topics
from xray_testing.broker_probe import is_answering
from xray_testing.local_broker import LocalBroker, running_broker

from xray_ops import catalogue as services
from xray_ops.demo import DemoFeed, write_demo_feed
from xray_ops.namespaces import remove_namespace
from xray_ops.paths import stack_broker_dir
from xray_ops.procs import MARKER_ENV, free_port, start_ticks
from xray_ops.state import StackState, read_state, remove_state, write_state
from xray_ops.status import probe, render_plain
from xray_ops.supervisor import ManagedProcess, ProcessSpec, Supervisor

Mode = Literal["live", "demo", "recording"]
BOOTSTRAP_ENVS = ("XRAY_KAFKA__BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS")
# Seconds the demo's live part starts after the stack begins: the backfill and the services start first.
DEMO_LEAD_S = 20.0


class StackError(RuntimeError):
    """The stack cannot start (another one runs, the broker does not answer, a job failed)."""


class _StopRequested(BaseException):
    """SIGTERM / SIGHUP: stop like Ctrl-C does."""


@dataclass(frozen=True, slots=True)
class StackOptions:
    """Everything `xray up` was asked for."""

    mode: Mode
    folder: Path
    namespace: str = catalogue.DEFAULT_NAMESPACE
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
    bootstrap: str | None = None
    recordings: tuple[Path, ...] = ()
    dashboard: bool = True
    # Remove the namespace's topics and groups first (the demo does, so a second demo starts clean).
    reset_namespace: bool = False
    backfill_windows: int = 30
    live_windows: int = 40
    seed: int = 11
    stop_timeout_s: float = 20.0
    extra_env: Mapping[str, str] = field(default_factory=dict)


def configured_bootstrap(explicit: str | None = None) -> str | None:
    """--bootstrap, else $XRAY_KAFKA__BOOTSTRAP_SERVERS, else $KAFKA_BOOTSTRAP_SERVERS."""
    if explicit:
        return explicit
    for name in BOOTSTRAP_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def symbols_setting(symbols: tuple[str, ...]) -> str:
    """The market_data feed's symbol list as its env setting (JSON)."""
    return json.dumps([{"symbol": s} for s in symbols])


class Stack:
    """One `xray up` run; `run()` blocks until Ctrl-C, `xray down` or the foreground exits."""

    def __init__(self, options: StackOptions, out: IO[str] | None = None) -> None:
        self.options = options
        self.out = out or sys.stderr
        self.folder = options.folder
        self.log_dir = options.folder / "logs"
        self.marker = os.environ.get(MARKER_ENV) or uuid.uuid4().hex[:16]
        self.supervisor: Supervisor | None = None
        self.broker: LocalBroker | None = None
        self.bootstrap = ""
        self.state: StackState | None = None
        self.foreground: subprocess.Popen[bytes] | None = None
        self._quiet = False  # True while the dashboard owns the terminal
        self._pending: list[tuple[float, ProcessSpec]] = []
        self._foreground_entry: dict[str, Any] | None = None

    # --- output -----------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        """A line for the operator (kept off the terminal while the dashboard draws on it)."""
        if not self._quiet:
            print(f"xray up: {text}", file=self.out, flush=True)

    def _on_event(self, name: str, fields: Mapping[str, Any]) -> None:
        if name == "service_died":
            self.say(
                f"{fields['service']} exited {fields['exit']} after {fields['uptime_s']}s; "
                f"restarting in {fields['restart_in_s']:.0f}s (log: {fields['log']})"
            )
        elif name == "job_finished" and fields.get("exit") != 0:
            self.say(f"{fields['service']} failed with exit {fields['exit']}")
        if self.state is not None and self.supervisor is not None:
            self._write_state()

    # --- lifecycle --------------------------------------------------------------------------------
    def run(self) -> int:
        """Bring the stack up, hold it, bring it down; the exit code."""
        existing = read_state(self.folder)
        if existing is not None and existing.supervisor_alive():
            raise StackError(
                f"a stack already runs (pid {existing.supervisor_pid}, namespace {existing.namespace}); "
                "stop it with `xray down`"
            )
        os.environ[MARKER_ENV] = self.marker  # the broker and every service inherit it
        previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGTERM, signal.SIGHUP)}
        code = 0
        try:
            self._start()
            code = self._hold()
        except (KeyboardInterrupt, _StopRequested):
            self._quiet = False
            print(file=self.out)
            self.say("stopping")
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
            try:
                self._stop_everything()
            finally:
                signal.signal(signal.SIGINT, signal.default_int_handler)
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
        return code

    def _start(self) -> None:
        opts = self.options
        self.bootstrap = self._broker()
        if opts.reset_namespace:
            removed = remove_namespace(self.bootstrap, opts.namespace)
            if removed.topics:
                self.say(f"removed {len(removed.topics)} topics of namespace {opts.namespace}")
        created = ensure_topics(self.bootstrap, opts.namespace)
        self.say(
            f"namespace {opts.namespace}: {len(created)} topics created, "
            f"{len(catalogue.ALL_TOPICS) - len(created)} already there"
        )
        self.supervisor = Supervisor(self.log_dir, self.marker, on_event=self._on_event)
        self.state = StackState(
            marker=self.marker,
            supervisor_pid=os.getpid(),
            mode=opts.mode,
            namespace=opts.namespace,
            bootstrap=self.bootstrap,
            log_dir=str(self.log_dir),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            broker_started=self.broker is not None,
            symbols=list(opts.symbols),
            supervisor_start_ticks=start_ticks(os.getpid()),
        )
        self._write_state()
        self.say(f"logs in {self.log_dir}")
        for entry in services.missing((services.MARKET_DATA, *services.PROCESSORS)):
            self.say(
                f"{entry.name} is not installed (`python -m {entry.module}`, issue {entry.issue}): skipped"
            )
        if opts.mode == "demo":
            feed = self._demo_feed()
            self._run_job(self._feed_spec("market_data-backfill", (feed.backfill,), "max"))
            self._start_processors()
            self._pending.append(
                (feed.live_from_ms / 1000 - 1.5, self._feed_spec("market_data-live", (feed.live,), "1"))
            )
        elif opts.mode == "recording":
            self._run_job(self._feed_spec("market_data", opts.recordings, "max"))
            self._start_processors()
        else:
            self._start_processors()
            self._add(self._live_feed_spec())
        self._set_phase("running")

    def _broker(self) -> str:
        bootstrap = configured_bootstrap(self.options.bootstrap)
        if bootstrap is not None:
            if not is_answering(bootstrap, timeout_s=10.0):
                raise StackError(f"no Kafka broker answers at {bootstrap}")
            self.say(f"using the broker at {bootstrap}")
            return bootstrap
        managed = running_broker()  # the one of `make kafka-up`, if it runs
        if managed is not None:
            self.say(f"using the local broker of `make kafka-up` at {managed.bootstrap}")
            return managed.bootstrap
        broker = LocalBroker(stack_broker_dir())
        if broker.is_running() and is_answering(broker.bootstrap):
            self.say(f"using the local broker at {broker.bootstrap} (started earlier, left running)")
            return broker.bootstrap
        self.say(f"starting a local Kafka broker ({broker.run_dir})")
        address = broker.start()
        self.broker = broker
        self.say(f"local broker at {address}")
        return address

    def _demo_feed(self) -> DemoFeed:
        opts = self.options
        now_ms = int(time.time() * 1000)
        live_from_ms = now_ms + int(DEMO_LEAD_S * 1000)
        feed = write_demo_feed(
            self.folder / "demo",
            symbols=opts.symbols,
            now_ms=now_ms,
            live_from_ms=live_from_ms,
            backfill_windows=opts.backfill_windows,
            live_windows=opts.live_windows,
            seed=opts.seed,
        )
        self.say(
            f"simulated {', '.join(feed.symbols)}: {feed.backfill_frames:,} frames of backfill, "
            f"{feed.live_frames:,} live frames from {_clock(live_from_ms)} (labels: {feed.labels})"
        )
        return feed

    # --- process specs ----------------------------------------------------------------------------
    def _env(self, name: str, port: int | None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.options.extra_env)
        env.update(
            {
                "XRAY_KAFKA__BOOTSTRAP_SERVERS": self.bootstrap,
                "XRAY_NAMESPACE": self.options.namespace,
                # Stable per service, so a restarted instance fences its own unfinished transaction.
                "XRAY_INSTANCE_ID": f"local-{name}",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if port is not None:
            env.update({"XRAY_HTTP__HOST": "127.0.0.1", "XRAY_HTTP__PORT": str(port)})
        return env

    def _spec(
        self, entry: services.ServiceEntry, name: str, args: tuple[str, ...] = (), job: bool = False
    ) -> ProcessSpec:
        port = free_port()
        return ProcessSpec(
            name=name,
            argv=(sys.executable, "-m", entry.module, *args),
            env=self._env(name, port),
            port=port,
            job=job,
            module=entry.module,
        )

    def _feed_spec(self, name: str, files: tuple[Path, ...], speed: str) -> ProcessSpec:
        args: list[str] = []
        for path in files:
            args += ["--recording", str(path)]
        return self._spec(services.MARKET_DATA, name, (*args, "--speed", speed), job=True)

    def _live_feed_spec(self) -> ProcessSpec:
        spec = self._spec(services.MARKET_DATA, "market_data")
        env = dict(spec.env)
        env["XRAY_MARKET_DATA__FEED__SYMBOLS"] = symbols_setting(self.options.symbols)
        return ProcessSpec(spec.name, spec.argv, env, spec.port, spec.job, spec.module)

    # --- running ----------------------------------------------------------------------------------
    def _add(self, spec: ProcessSpec) -> ManagedProcess:
        assert self.supervisor is not None
        managed = self.supervisor.add(spec)
        self._write_state()
        return managed

    def _run_job(self, spec: ProcessSpec) -> None:
        """Run a job to completion while supervising; raise StackError when it fails."""
        if not services.MARKET_DATA.installed():
            raise StackError("market_data is not installed")
        assert self.supervisor is not None
        self.say(f"{spec.name}: ingesting into {catalogue.RAW_MARKET_EVENT.topic(self.options.namespace)}")
        managed = self._add(spec)
        while managed.state == "running":
            self.supervisor.poll()
            time.sleep(0.2)
        if managed.state != "done":
            raise StackError(f"{spec.name} failed (exit {managed.last_exit}); see {managed.log_path}")
        self.say(f"{spec.name}: done")

    def _start_processors(self) -> None:
        for entry in reversed(services.PROCESSORS):  # downstream first: nothing waits on a missing reader
            if entry.installed():
                self._add(self._spec(entry, entry.name))

    def _hold(self) -> int:
        """Supervise until the foreground ends (or a signal arrives)."""
        assert self.supervisor is not None
        show_dashboard = self.options.dashboard and services.DASHBOARDS.installed()
        if self.options.dashboard and not show_dashboard:
            self.say(
                "the dashboard (`python -m consumers.dashboards`, issue 9) is not installed: showing status"
            )
        if show_dashboard:
            port = free_port()
            log = self.log_dir / "dashboards.log"
            env = {**self._env("dashboards", port), MARKER_ENV: self.marker}
            env["XRAY_DASHBOARD__LOG_FILE"] = str(log)  # the terminal is the dashboard's
            self.foreground = subprocess.Popen([sys.executable, "-m", services.DASHBOARDS.module], env=env)
            self._foreground_entry = {
                "name": "dashboards",
                "module": services.DASHBOARDS.module,
                "pid": self.foreground.pid,
                "port": port,
                "log": str(log),
                "state": "running",
                "job": False,
                "restarts": 0,
            }
            self._write_state()
            self._quiet = True
        self.say("up; Ctrl-C stops everything")
        last_probe = last_view = 0.0
        last_key = ""
        while True:
            self._start_due()
            self.supervisor.poll()
            if self.foreground is not None:
                code = self.foreground.poll()
                if code is not None:
                    self._quiet = False
                    self.say(f"the dashboard exited ({code}); stopping")
                    return 0 if code in (0, -signal.SIGINT, 130) else code
            elif self.state is not None and time.monotonic() - last_probe > 2.0:
                last_probe = time.monotonic()
                # Headless: print the status table when a service's state changes, else every 30 s.
                statuses = [probe(e, 1.0) for e in self.state.services]
                key = repr([(s.name, s.state, s.ready, s.restarts) for s in statuses])
                if key != last_key or time.monotonic() - last_view > 30.0:
                    print(render_plain(statuses) + "\n", file=self.out, flush=True)
                    last_view, last_key = time.monotonic(), key
            time.sleep(0.25)

    def _start_due(self) -> None:
        now = time.time()
        due = [p for p in self._pending if p[0] <= now]
        for item in due:
            self._pending.remove(item)
            self._add(item[1])

    def _stop_everything(self) -> None:
        if self.foreground is not None and self.foreground.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.foreground.wait(5)
            if self.foreground.poll() is None:
                self.foreground.terminate()
                try:
                    self.foreground.wait(5)
                except subprocess.TimeoutExpired:
                    self.foreground.kill()
                    self.foreground.wait(5)
        self._quiet = False
        if self.supervisor is not None:
            self._set_phase("stopping")
            feeds = [
                m.spec.name for m in self.supervisor.processes if m.spec.module == services.MARKET_DATA.module
            ]
            order = feeds + [e.name for e in services.PROCESSORS]
            self.supervisor.stop_all(self.options.stop_timeout_s, order=order)
            for managed in self.supervisor.processes:
                if managed.restarts:
                    self.say(f"{managed.spec.name} restarted {managed.restarts}x; see {managed.log_path}")
            self.supervisor.close()
        if self.broker is not None:
            self.say("stopping the local broker (its data stays for the next `xray up`)")
            self.broker.stop()
        remove_state(self.folder)
        self.say("stopped")

    def _set_phase(self, phase: str) -> None:
        if self.state is not None:
            self.state.phase = phase
            self._write_state()

    def _write_state(self) -> None:
        assert self.state is not None
        if self.supervisor is not None:
            self.state.services = self.supervisor.snapshot()
        if self._foreground_entry is not None:
            self.state.services.append(self._foreground_entry)
        write_state(self.folder, self.state)


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise _StopRequested(signum)


def _clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S UTC")
