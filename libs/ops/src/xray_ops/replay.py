"""`xray replay`: a backtest is a replay of raw events into a fresh namespace `bt-<id>`.

1. Create the namespace's topics (it must not exist yet: a replay never mixes with another run).
2. Fill its raw topic from the source — recordings through `python -m market_data --recording ...
   --speed max`, a simulator run written as a recording first, or a time range of an existing raw topic
   copied record by record to the same partition — completely, before any downstream service starts, so
   every cut is data-driven and the outputs are a pure function of the input and the config.
3. Start the downstream services (orchestrator, state_gate, analysis_engine) on the namespace and wait
   until every group has committed past every record of its inputs (xray_ops.drain), with a progress bar.
4. Stop them, read the output topics back and write the report (report.json, report.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from confluent_kafka import Producer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from xray_contracts import catalogue
from xray_contracts.analysis_engine import AnalysisEngineEvent
from xray_contracts.codec import default_codecs
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_contracts.state_gate import StateGateEvent
from xray_runtime.topics import admin_client, ensure_topics
from xray_simulator.api import write_labels, write_recording
from xray_simulator.config import SimulatorConfig
from xray_simulator.generator import iter_frames
from xray_simulator.schedule import all_labels

from xray_ops import catalogue as services
from xray_ops.config_reference import load_settings_class
from xray_ops.drain import DEFAULT_BOUNDARY_INTERVAL_MS, DrainProbe, StageProgress
from xray_ops.namespaces import remove_namespace
from xray_ops.outputs import decoded_values, digest, raw_counts, read_messages
from xray_ops.procs import MARKER_ENV, free_port
from xray_ops.report import REPORT_SCHEMA, REPORT_VERSION, build_results, render_markdown
from xray_ops.restart import RestartPolicy
from xray_ops.supervisor import ProcessSpec, Supervisor

SourceKind = Literal["recording", "simulator", "topic"]
NAMESPACE_PREFIX = "bt-"
# Two probes this far apart must both find every group drained before the replay counts as done.
_SETTLE_S = 1.0


class ReplayError(RuntimeError):
    """The replay cannot start or did not finish (the message says why; logs are in the replay folder)."""


@dataclass(frozen=True, slots=True)
class ReplaySource:
    """What to replay."""

    kind: SourceKind
    files: tuple[Path, ...] = ()
    simulator: SimulatorConfig | None = None
    from_namespace: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """A replay run."""

    replay_id: str
    source: ReplaySource
    bootstrap: str
    out_dir: Path
    config_file: Path | None = None
    # XRAY_* settings for every downstream service (e.g. XRAY_GATE__MAX_GAP_MS=360000).
    settings: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = 1800.0
    clean_after: bool = False
    progress: bool = True

    @property
    def namespace(self) -> str:
        """The replay's own namespace."""
        return namespace_of(self.replay_id)


def replay_topics() -> list[catalogue.TopicSpec]:
    """The catalogue's topics, the raw one without time retention.

    Raw records carry their receive time as the Kafka timestamp, so a recording older than the raw
    topic's retention (30 days) would be deleted by the broker's next retention check, in the middle of
    the replay. A replay namespace is removed with `xray replay --clean` instead.
    """
    return [
        dataclasses.replace(spec, retention_ms=-1) if spec is catalogue.RAW_MARKET_EVENT else spec
        for spec in catalogue.ALL_TOPICS
    ]


def new_replay_id() -> str:
    """A fresh id: UTC time plus 4 random hex digits (lowercase, valid in topic names)."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:4]


def namespace_of(replay_id: str) -> str:
    """`bt-<id>` (an id that already starts with bt- is taken as the namespace)."""
    return replay_id if replay_id.startswith(NAMESPACE_PREFIX) else NAMESPACE_PREFIX + replay_id


def parse_time_ms(text: str) -> int:
    """Epoch milliseconds, or an ISO 8601 time (`2024-08-08T23:55:00Z`; naive times are UTC)."""
    if text.strip().lstrip("-").isdigit():
        return int(text)
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def describe_config(config_file: Path | None, settings: Mapping[str, str]) -> dict[str, Any]:
    """The report's config section; `fingerprint` names the config in comparisons."""
    sha = hashlib.sha256()
    entry: dict[str, Any] = {"settings": dict(sorted(settings.items()))}
    if config_file is not None:
        content = config_file.read_bytes()
        sha.update(content)
        entry["file"] = {"name": config_file.name, "sha256": hashlib.sha256(content).hexdigest()}
    sha.update(json.dumps(entry["settings"], sort_keys=True).encode())
    entry["fingerprint"] = "defaults" if config_file is None and not settings else sha.hexdigest()[:12]
    return entry


class Replay:
    """One replay; `run()` returns the report (also written to out_dir)."""

    def __init__(self, options: ReplayOptions, out: IO[str] | None = None) -> None:
        self.options = options
        self.out = out or sys.stderr
        self.namespace = options.namespace
        self.marker = os.environ.get(MARKER_ENV) or f"replay-{uuid.uuid4().hex[:12]}"
        self.log_dir = options.out_dir / "logs"
        self.supervisor: Supervisor | None = None
        self.timing: dict[str, Any] = {}
        self.boundary_interval_ms = DEFAULT_BOUNDARY_INTERVAL_MS

    def say(self, text: str) -> None:
        """A progress line on stderr."""
        print(f"xray replay: {text}", file=self.out, flush=True)

    # --- phases -----------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Every phase; services are always stopped, the namespace removed when asked."""
        opts = self.options
        missing = services.missing((services.MARKET_DATA, *services.PROCESSORS))
        if missing:
            names = ", ".join(f"{e.name} (`python -m {e.module}`, issue {e.issue})" for e in missing)
            raise ReplayError(f"not installed: {names}")
        self._check_fresh()
        # Before any thread runs: reading it swaps the process environment for a moment.
        self.boundary_interval_ms = self._boundary_interval_ms()
        opts.out_dir.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        ensure_topics(opts.bootstrap, self.namespace, replay_topics())
        self.say(f"namespace {self.namespace}; logs and report in {opts.out_dir}")
        self.supervisor = Supervisor(self.log_dir, self.marker, policy=RestartPolicy(1.0, 10.0, 30.0))
        try:
            source = self._ingest()
            self.timing["ingest_s"] = round(time.monotonic() - began, 2)
            pipeline_began = time.monotonic()
            self._start_processors()
            self._drain()
            self.timing["pipeline_s"] = round(time.monotonic() - pipeline_began, 2)
            self._stop_processors()
            report = self._report(source)
        finally:
            self.supervisor.stop_all(20.0)
            self.supervisor.close()
        self.timing["total_s"] = round(time.monotonic() - began, 2)
        report["timing"] = self.timing
        report["timing"]["raw_events_per_s"] = round(
            report["results"]["raw_events"] / max(self.timing["pipeline_s"], 1e-9), 1
        )
        self._write(report)
        if opts.clean_after:
            removed = remove_namespace(opts.bootstrap, self.namespace)
            self.say(
                f"removed {len(removed.topics)} topics and {len(removed.groups)} groups of {self.namespace}"
            )
        return report

    def _check_fresh(self) -> None:
        prefix = f"{self.namespace}."
        taken = [
            t
            for t in admin_client(self.options.bootstrap).list_topics(timeout=30).topics
            if t.startswith(prefix)
        ]
        if taken:
            raise ReplayError(
                f"namespace {self.namespace} already has {len(taken)} topics; pick another --id or "
                f"remove it with `xray replay --clean {self.namespace}`"
            )

    def _env(self, name: str, port: int | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("XRAY_")}
        env.update(
            {
                "XRAY_KAFKA__BOOTSTRAP_SERVERS": self.options.bootstrap,
                "XRAY_NAMESPACE": self.namespace,
                "XRAY_INSTANCE_ID": f"replay-{name}",
                "PYTHONUNBUFFERED": "1",
                MARKER_ENV: self.marker,
            }
        )
        if port is not None:
            env.update({"XRAY_HTTP__HOST": "127.0.0.1", "XRAY_HTTP__PORT": str(port)})
        if self.options.config_file is not None:
            env["XRAY_CONFIG_FILE"] = str(self.options.config_file.resolve())
        env.update(self.options.settings)
        return env

    def _boundary_interval_ms(self) -> int:
        """The orchestrator's boundary interval under this replay's settings (env and config file)."""
        settings_class = load_settings_class("orchestrator.settings:OrchestratorSettings")
        if settings_class is None:
            return DEFAULT_BOUNDARY_INTERVAL_MS
        saved = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(self._env("orchestrator", None))
            settings: Any = settings_class()
        except ValueError:  # invalid settings: the orchestrator itself will exit naming the key
            return DEFAULT_BOUNDARY_INTERVAL_MS
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return int(settings.orchestrator.scheduler.boundary_interval_ms)

    def _ingest(self) -> dict[str, Any]:
        source = self.options.source
        if source.kind == "topic":
            return self._copy_range(source)
        files = source.files
        described: dict[str, Any]
        if source.kind == "simulator":
            assert source.simulator is not None
            recording = self.options.out_dir / "simulated.dat"
            write_recording(iter_frames(source.simulator), recording)
            write_labels(all_labels(source.simulator), self.options.out_dir / "labels.jsonl")
            files = (recording,)
            described = {"kind": "simulator", "simulator": source.simulator.model_dump(mode="json")}
        else:
            described = {
                "kind": "recording",
                "files": [{"name": p.name, "bytes": p.stat().st_size, "sha256": _sha256(p)} for p in files],
            }
        self._run_ingest(files)
        return described

    def _run_ingest(self, files: Sequence[Path]) -> None:
        assert self.supervisor is not None
        args: list[str] = []
        for path in files:
            args += ["--recording", str(Path(path).resolve())]
        spec = ProcessSpec(
            name="market_data",
            argv=(
                sys.executable,
                "-m",
                services.MARKET_DATA.module,
                *args,
                "--speed",
                "max",
                "--no-status-server",
            ),
            env=self._env("market_data", None),
            job=True,
            module=services.MARKET_DATA.module,
        )
        self.say(
            f"ingesting {len(files)} recording(s) into {catalogue.RAW_MARKET_EVENT.topic(self.namespace)}"
        )
        managed = self.supervisor.add(spec)
        deadline = time.monotonic() + self.options.timeout_s
        while managed.state == "running":
            self.supervisor.poll()
            if time.monotonic() > deadline:
                raise ReplayError(f"ingest did not finish within {self.options.timeout_s:.0f}s")
            time.sleep(0.2)
        if managed.state != "done":
            raise ReplayError(f"ingest failed (exit {managed.last_exit}); see {managed.log_path}")

    def _copy_range(self, source: ReplaySource) -> dict[str, Any]:
        """Copy raw records with start <= recv_ts_ms < end to the same partition of the replay's raw topic."""
        assert source.from_namespace is not None
        spec = catalogue.RAW_MARKET_EVENT
        src, dst = spec.topic(source.from_namespace), spec.topic(self.namespace)
        start = source.start_ms if source.start_ms is not None else -(2**63)
        end = source.end_ms if source.end_ms is not None else 2**63 - 1
        codec = default_codecs().for_topic(spec)
        producer = Producer(
            {
                "bootstrap.servers": self.options.bootstrap,
                "enable.idempotence": "true",
                "acks": "all",
                "linger.ms": "20",
                "compression.type": "lz4",
            }
        )
        self.say(f"copying {src} [{start}, {end}) into {dst}")
        copied = scanned = 0
        for msg in read_messages(self.options.bootstrap, src, spec.partitions):
            scanned += 1
            value = msg.value()
            if value is None or not start <= codec.decode(value).recv_ts_ms < end:
                continue
            while True:
                try:
                    producer.produce(
                        dst,
                        value,
                        msg.key(),
                        partition=msg.partition(),
                        headers=msg.headers() or [],
                        timestamp=msg.timestamp()[1],
                    )
                    break
                except BufferError:
                    producer.poll(0.1)
            copied += 1
            if copied % 10_000 == 0:
                producer.poll(0)
        if producer.flush(60) != 0:
            raise ReplayError("raw records not delivered within 60 s")
        self.say(f"copied {copied:,} of {scanned:,} raw records")
        return {
            "kind": "topic",
            "topic": src,
            "start_ms": source.start_ms,
            "end_ms": source.end_ms,
            "records": copied,
        }

    def _start_processors(self) -> None:
        assert self.supervisor is not None
        for entry in reversed(services.PROCESSORS):
            port = free_port()
            self.supervisor.add(
                ProcessSpec(
                    name=entry.name,
                    argv=(sys.executable, "-m", entry.module),
                    env=self._env(entry.name, port),
                    port=port,
                    module=entry.module,
                )
            )

    def _drain(self) -> None:
        """Supervise until every group is drained twice in a row; raise on timeout or a crash loop."""
        assert self.supervisor is not None
        probe = DrainProbe(self.options.bootstrap, self.namespace, self.boundary_interval_ms)
        deadline = time.monotonic() + self.options.timeout_s
        view = _ProgressView(self.out, self.options.progress)
        settled = 0
        try:
            with view:
                while True:
                    self.supervisor.poll()
                    crashing = [m for m in self.supervisor.processes if m.restarts > 3]
                    if crashing:
                        names = ", ".join(f"{m.spec.name} ({m.log_path})" for m in crashing)
                        raise ReplayError(f"services keep crashing: {names}")
                    stages = probe.stages(services.PROCESSORS)
                    view.update(stages)
                    settled = settled + 1 if all(s.backlog == 0 for s in stages) else 0
                    if settled >= 2:
                        break
                    if time.monotonic() > deadline:
                        left = ", ".join(f"{s.service} {s.backlog:,}" for s in stages)
                        raise ReplayError(
                            f"not drained within {self.options.timeout_s:.0f}s (backlog: {left})"
                        )
                    time.sleep(_SETTLE_S)
        finally:
            probe.close()
        self.timing["restarts"] = {m.spec.name: m.restarts for m in self.supervisor.processes if m.restarts}

    def _stop_processors(self) -> None:
        assert self.supervisor is not None
        codes = self.supervisor.stop_all(30.0, order=[e.name for e in services.PROCESSORS])
        bad = {name: code for name, code in codes.items() if code not in (0, None)}
        if bad:
            raise ReplayError(f"services did not stop cleanly: {bad} (logs in {self.log_dir})")

    def _report(self, source: dict[str, Any]) -> dict[str, Any]:
        bootstrap, ns = self.options.bootstrap, self.namespace
        self.say("reading the output topics")
        by_symbol, by_type = raw_counts(bootstrap, ns)
        orchestrator: list[OrchestratorEvent] = decoded_values(bootstrap, ns, catalogue.ORCHESTRATOR_EVENT)
        gate: list[StateGateEvent] = decoded_values(bootstrap, ns, catalogue.STATE_GATE_EVENT)
        analysis: list[AnalysisEngineEvent] = decoded_values(bootstrap, ns, catalogue.ANALYSIS_ENGINE_EVENT)
        alerts = len(decoded_values(bootstrap, ns, catalogue.ALERTS))
        digests = {}
        for spec in catalogue.ALL_TOPICS:
            d = digest(bootstrap, ns, spec)
            digests[d.topic] = {"records": d.records, "sha256": d.sha256}
        results = build_results(
            raw_by_symbol=by_symbol,
            raw_by_type=by_type,
            orchestrator=orchestrator,
            gate=gate,
            analysis=analysis,
            alerts=alerts,
            digests=digests,
        )
        return {
            "schema": REPORT_SCHEMA,
            "version": REPORT_VERSION,
            "id": self.options.replay_id,
            "namespace": ns,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": source,
            "config": describe_config(self.options.config_file, self.options.settings),
            "results": results,
        }

    def _write(self, report: dict[str, Any]) -> None:
        out = self.options.out_dir
        (out / "report.json").write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
        (out / "report.md").write_text(render_markdown(report))
        self.say(f"report: {out / 'report.json'} and {out / 'report.md'}")


class _ProgressView:
    """A rich progress bar per stage on a terminal, else a line every 10 s."""

    def __init__(self, out: IO[str], enabled: bool) -> None:
        self._out = out
        self._tty = enabled and out.isatty()
        self._progress: Progress | None = None
        self._tasks: dict[str, Any] = {}
        self._last_line = 0.0
        self._enabled = enabled

    def __enter__(self) -> _ProgressView:
        if self._tty:
            self._progress = Progress(
                TextColumn("{task.description:<16}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self._out),
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, stages: Sequence[StageProgress]) -> None:
        """Show the stages' positions."""
        if self._progress is not None:
            for stage in stages:
                if stage.service not in self._tasks:
                    self._tasks[stage.service] = self._progress.add_task(stage.service, total=stage.total)
                self._progress.update(self._tasks[stage.service], total=stage.total, completed=stage.done)
            return
        if self._enabled and time.monotonic() - self._last_line > 10.0:
            self._last_line = time.monotonic()
            parts = ", ".join(f"{s.service} {s.done:,}/{s.total:,}" for s in stages)
            print(f"xray replay: {parts}", file=self._out, flush=True)


def load_report(target: str, root: Path) -> dict[str, Any]:
    """A report from a report.json path, a replay folder, or a replay id under `root`."""
    path = Path(target)
    candidates = [path, path / "report.json", root / target / "report.json"]
    for candidate in candidates:
        if candidate.is_file():
            loaded: dict[str, Any] = json.loads(candidate.read_text())
            return loaded
    raise ReplayError(f"no report at {target} (tried {', '.join(str(c) for c in candidates)})")
