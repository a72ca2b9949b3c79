"""Chaos for whole-pipeline tests: a seeded schedule of SIGKILLs, scalings and a broker restart, a supervisor
that carries it out on real service processes, and a comparison of every output topic with an undisturbed
run's (published timestamps masked).

- `chaos_plan(seed, kills=..., scale=..., broker_restart=...)`: actions at random points of each service's
  own progress (a fraction 0..1 of its stage's expected output), reproducible from the seed;
- `Supervisor`: keeps each service's instances running (a killed one comes back under the same instance
  id, so its transactional id fences the dead incarnation), scales, counts exits nobody asked for, and,
  as a deployment's liveness probe would, replaces instances whose `/healthz` says their loop stalled;
- `run_plan(...)`: fires the plan's actions as progress passes their points;
- `compare_topics(...)` / `TopicDiff`: per key, lost / duplicated / reordered records between two runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import signal
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from xray_contracts.catalogue import TopicSpec
from xray_contracts.codec import default_codecs

from xray_testing.local_broker import LocalBroker
from xray_testing.records import Row, read_committed
from xray_testing.services import ServiceProcess, ServiceRunner

ActionKind = Literal["kill", "scale", "broker_restart"]
BROKER = "broker"


@dataclass(frozen=True, slots=True)
class Action:
    """Do `kind` to `service` once its progress reaches `at` (scale: to `instances` instances)."""

    at: float
    kind: ActionKind
    service: str
    instances: int = 0

    def describe(self) -> str:
        """A short human-readable form for logs and failure messages."""
        what = f"scale {self.service} to {self.instances}" if self.kind == "scale" else self.kind
        target = "" if self.kind != "kill" else f" {self.service}"
        return f"{what}{target} at {self.at:.1%}"


def chaos_plan(
    seed: int,
    *,
    kills: Mapping[str, int],
    scale: Sequence[str] = (),
    broker_restart: str | None = None,
    span: tuple[float, float] = (0.08, 0.85),
    spans: Mapping[str, tuple[float, float]] | None = None,
    broker_span: tuple[float, float] | None = None,
) -> list[Action]:
    """`kills[s]` SIGKILLs of each service s, a 1 → 2 → 1 scaling of each service in `scale` and (when
    `broker_restart` names the service whose progress times it) one broker kill + restart, at seeded
    random points within `span` of each service's progress (`spans[s]` for service s when given;
    `broker_span` for the broker restart, by default `span` narrowed by 0.1 on each side); sorted by
    point."""
    rng = random.Random(seed)
    actions: list[Action] = []

    def window(service: str) -> tuple[float, float]:
        return (spans or {}).get(service, span)

    for service, count in sorted(kills.items()):
        low, high = window(service)
        actions += [Action(rng.uniform(low, high), "kill", service) for _ in range(count)]
    for service in scale:
        low, high = window(service)
        up, down = sorted(rng.uniform(low, high) for _ in range(2))
        actions += [Action(up, "scale", service, 2), Action(down, "scale", service, 1)]
    if broker_restart is not None:
        low, high = broker_span or (span[0] + 0.1, span[1] - 0.1)
        actions.append(Action(rng.uniform(low, high), "broker_restart", broker_restart))
    return sorted(actions, key=lambda a: (a.at, a.kind, a.service))


@dataclass
class ServiceSpec:
    """How to run one service: argv after `python`, extra env, and argv for a restart (e.g. --resume).

    `finishes`: the process ends by itself when its work is done (a replay); exit 0 is then no crash.
    """

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    restart_argv: Sequence[str] | None = None
    finishes: bool = False


@dataclass
class Supervisor:
    """Runs service instances on a ServiceRunner and carries out kills and scalings; restarts crashes."""

    runner: ServiceRunner
    specs: Mapping[str, ServiceSpec]
    instances: dict[str, list[ServiceProcess | None]] = field(default_factory=dict)
    kills: Counter[str] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)
    done: set[str] = field(default_factory=set)
    log: list[str] = field(default_factory=list)
    # Probe every long-running instance's /healthz this often (None: never); a 503 (its processing loop
    # has not turned for XRAY_HTTP__STALL_AFTER_S) gets it SIGKILLed and replaced, recorded in `stalls`.
    liveness_every_s: float | None = None
    liveness_grace_s: float = 0.0  # run_plan: no probing until the broker has been back this long
    stalls: list[str] = field(default_factory=list)
    _ports: dict[int, int] = field(default_factory=dict)
    _last_probe: float = 0.0

    def _launch(self, name: str, index: int, restart: bool) -> ServiceProcess:
        spec = self.specs[name]
        argv = spec.restart_argv if restart and spec.restart_argv is not None else spec.argv
        proc = self.runner.start(name, argv, spec.env, instance_id=f"{name}-{index}")
        slots = self.instances.setdefault(name, [])
        while len(slots) <= index:
            slots.append(None)
        slots[index] = proc
        return proc

    def start(self, name: str) -> ServiceProcess:
        """Start instance 0 of a service."""
        return self._launch(name, 0, restart=False)

    def start_all(self, names: Sequence[str], joined_event: str = "partitions_assigned") -> None:
        """Start instance 0 of each service at once, then wait until each has logged `joined_event`."""
        started = [self.start(name) for name in names]
        for proc in started:
            proc.wait_for_event(joined_event, timeout_s=120)

    def running(self, name: str) -> list[ServiceProcess]:
        """The service's live instances."""
        return [p for p in self.instances.get(name, []) if p is not None and p.running()]

    def kill(self, name: str, rng: random.Random) -> bool:
        """SIGKILL one live instance (seeded choice), wait for it, start it again under the same id;
        False when none was running (a replay that had already finished)."""
        slots = self.instances.get(name, [])
        live = [i for i, p in enumerate(slots) if p is not None and p.running()]
        if not live:
            self.log.append(f"kill {name}: nothing running (finished)")
            return False
        index = rng.choice(live)
        proc = slots[index]
        assert proc is not None
        proc.proc.send_signal(signal.SIGKILL)
        proc.proc.wait(30)
        self.kills[name] += 1
        self._launch(name, index, restart=True)
        self.log.append(f"killed {name}-{index}")
        return True

    def scale(self, name: str, count: int, joined_event: str | None = "partitions_assigned") -> None:
        """Start instances up to `count` (waiting until each new one logs `joined_event`, so it really
        took part), or SIGTERM the highest-numbered ones (a clean scale-in)."""
        slots = self.instances.setdefault(name, [])
        for index in range(count):
            if index >= len(slots) or slots[index] is None:
                started = self._launch(name, index, restart=True)
                if joined_event is not None:
                    started.wait_for_event(joined_event, timeout_s=120)
        for index in range(count, len(slots)):
            proc = slots[index]
            if proc is not None:
                if proc.running() and not proc.events("started"):
                    # Just (re)started: a SIGTERM before its handler is installed would kill it outright.
                    with contextlib.suppress(AssertionError):  # it exited: stop() returns its code
                        proc.wait_for_event("started", timeout_s=60)
                code = proc.stop(signal.SIGTERM, timeout_s=60)
                if code != 0:
                    self.crashes.append(f"{name}-{index} exited {code} on SIGTERM:\n{proc.log_tail()}")
                slots[index] = None
        self.log.append(f"scaled {name} to {count}")

    def watch(self) -> None:
        """Restart instances that exited on their own (recorded as crashes); note finished replays."""
        for name, slots in self.instances.items():
            spec = self.specs[name]
            for index, proc in enumerate(slots):
                if proc is None or proc.running():
                    continue
                code = proc.proc.returncode
                if spec.finishes and code == 0:
                    self.done.add(name)
                    slots[index] = None
                    self.log.append(f"{name}-{index} finished")
                    continue
                self.crashes.append(f"{name}-{index} exited {code}:\n{proc.log_tail()}")
                self._launch(name, index, restart=True)
                self.log.append(f"restarted {name}-{index} (exited {code})")

    def probe_liveness(self) -> None:
        """Replace instances whose /healthz answers 503 (stalled), as a deployment's liveness probe would.

        Only instances that logged their status port are probed; one that does not answer (busy
        starting, or just exiting) is left to `watch`."""
        if self.liveness_every_s is None or time.monotonic() - self._last_probe < self.liveness_every_s:
            return
        self._last_probe = time.monotonic()
        for name, slots in self.instances.items():
            if self.specs[name].finishes:
                continue
            for index, proc in enumerate(slots):
                if proc is None or not proc.running():
                    continue
                port = self._ports.get(proc.proc.pid)
                if port is None:
                    started = proc.events("http_started")
                    if not started:
                        continue
                    port = self._ports[proc.proc.pid] = int(started[0]["port"])
                try:
                    url = f"http://127.0.0.1:{port}/healthz"
                    with urllib.request.urlopen(url, timeout=5) as response:
                        status = int(response.status)
                except urllib.error.HTTPError as error:
                    status = int(error.code)
                except OSError:
                    continue
                if status != 503:
                    continue
                proc.proc.send_signal(signal.SIGKILL)
                proc.proc.wait(30)
                self.stalls.append(f"{name}-{index} stalled (/healthz 503):\n{proc.log_tail()}")
                self._launch(name, index, restart=True)
                self.log.append(f"replaced stalled {name}-{index}")

    def stop_all(self) -> dict[str, int]:
        """SIGTERM everything still running; exit codes by `name-index`."""
        codes: dict[str, int] = {}
        for name, slots in self.instances.items():
            for index, proc in enumerate(slots):
                if proc is not None and proc.running():
                    codes[f"{name}-{index}"] = proc.stop(signal.SIGTERM, timeout_s=60)
        return codes


def restart_broker(broker: LocalBroker, rng: random.Random) -> float:
    """SIGKILL the broker, leave it down 1-3 s, start it again on the same address; seconds it was down."""
    began = time.monotonic()
    broker.kill()
    time.sleep(rng.uniform(1.0, 3.0))
    broker.start()
    return time.monotonic() - began


class BrokerRestart:
    """A broker kill + restart in a background thread, so the rest of the plan goes on meanwhile."""

    def __init__(self, broker: LocalBroker, rng: random.Random) -> None:
        self.down_s: float | None = None
        self.back_at: float | None = None  # monotonic time the broker was back
        self.announced = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(broker, rng), daemon=True)
        self._thread.start()

    def _run(self, broker: LocalBroker, rng: random.Random) -> None:
        try:
            self.down_s = restart_broker(broker, rng)
            self.back_at = time.monotonic()
        except BaseException as exc:  # reported by the plan runner
            self.error = exc

    def done(self) -> bool:
        """The broker is back (or failed to come back: see `error`)."""
        return not self._thread.is_alive()


def run_plan(
    plan: Sequence[Action],
    supervisor: Supervisor,
    progress: Callable[[str], float],
    *,
    broker: LocalBroker | None,
    seed: int,
    finished: Callable[[], bool],
    timeout_s: float,
    poll_s: float = 0.2,
    on_action: Callable[[str], None] | None = None,
) -> list[str]:
    """Fire each action when `progress(service)` passes its point, until every action ran and `finished()`;
    restarts crashed instances all along. Returns what was done, in order (each also passed to
    `on_action` as it happens, with the supervisor's own notes: restarts, replacements)."""
    rng = random.Random(seed)
    pending = list(plan)
    deadline = time.monotonic() + timeout_s
    done: list[str] = []
    began = time.monotonic()
    noted = len(supervisor.log)

    def note(what: str) -> None:
        if on_action is not None:
            on_action(f"{time.monotonic() - began:6.1f}s {what}")

    restarts: list[BrokerRestart] = []
    while True:
        for restart in restarts:
            if restart.error is not None:
                raise AssertionError(f"the broker did not come back: {restart.error}")
        supervisor.watch()
        # A loop blocked while the broker is down (or in a call that began then and has yet to time
        # out) is no stall: probe only once the broker has been back for `liveness_grace_s`.
        now = time.monotonic()
        if all(r.back_at is not None and now - r.back_at >= supervisor.liveness_grace_s for r in restarts):
            supervisor.probe_liveness()
        fired = True
        while pending and fired:
            fired = False
            reached = {s: progress(s) for s in {a.service for a in pending}}
            for action in list(pending):
                if reached[action.service] < action.at:
                    continue
                pending.remove(action)
                fired = True
                if action.kind == "kill":
                    landed = supervisor.kill(action.service, rng)
                    done.append(action.describe() + ("" if landed else " (nothing running)"))
                elif action.kind == "scale":
                    supervisor.scale(action.service, action.instances)
                    done.append(action.describe())
                else:
                    assert broker is not None, "a broker restart needs the test's own broker"
                    restarts.append(BrokerRestart(broker, rng))
                    done.append(action.describe())
                note(done[-1])
        for entry in supervisor.log[noted:]:
            note(f"supervisor: {entry}")
        noted = len(supervisor.log)
        for restart in restarts:
            if restart.back_at is not None and not restart.announced:
                restart.announced = True
                note(f"broker back after {restart.down_s:.1f}s")
        if not pending and all(r.done() for r in restarts) and finished():
            done += [f"broker was down {r.down_s:.1f}s" for r in restarts]
            return done
        if time.monotonic() > deadline:
            left = ", ".join(a.describe() for a in pending)
            raise AssertionError(
                f"chaos run did not finish in {timeout_s}s; pending: {left or 'none'}; done: {done}; "
                f"progress: { {s: round(progress(s), 3) for s in supervisor.specs} }"
            )
        time.sleep(poll_s)


# ------------------------------------------------------------------------------------------- comparison

Masks = Mapping[str, Sequence[str]]  # topic logical name -> top-level value fields to blank


def masked_value(spec: TopicSpec, value: bytes | None, fields: Sequence[str]) -> Any:
    """A comparable form of a record value: the decoded contract with `fields` blanked (None for a
    tombstone, raw bytes for topics without a contract)."""
    if value is None or spec.value_schema is None:
        return value
    decoded = default_codecs().for_schema(spec.value_schema).decode(value)
    if not fields:
        return decoded
    return dataclasses.replace(decoded, **dict.fromkeys(fields, None))


@dataclass(frozen=True, slots=True)
class TopicDiff:
    """How one topic of a run differs from the reference run's, per key."""

    topic: str
    records: int
    reference_records: int
    lost: dict[bytes | None, int]
    duplicated: dict[bytes | None, int]
    reordered: list[bytes | None]

    @property
    def equal(self) -> bool:
        """Same records per key in the same order."""
        return not (self.lost or self.duplicated or self.reordered) and self.records == self.reference_records

    def describe(self) -> str:
        """One line for a failure message or the test's printout."""
        if self.equal:
            return f"{self.topic}: {self.records} records, equal"
        return (
            f"{self.topic}: {self.records} records vs {self.reference_records}; lost per key "
            f"{dict(list(self.lost.items())[:5])}, duplicated {dict(list(self.duplicated.items())[:5])}, "
            f"reordered keys {self.reordered[:5]}"
        )


def by_key(rows: Iterable[Row], spec: TopicSpec, fields: Sequence[str]) -> dict[bytes | None, list[Any]]:
    """Each key's (masked value, headers) in log order (a key lives on one partition)."""
    out: dict[bytes | None, list[Any]] = {}
    for row in sorted(rows, key=lambda r: (r.partition, r.offset)):
        headers = tuple(row.headers)
        out.setdefault(row.key, []).append((masked_value(spec, row.value, fields), headers))
    return out


def diff_topic(
    spec: TopicSpec, reference: Iterable[Row], run: Iterable[Row], fields: Sequence[str] = ()
) -> TopicDiff:
    """Lost, duplicated and reordered records of `run` against `reference`, per key."""
    want = by_key(reference, spec, fields)
    got = by_key(run, spec, fields)
    lost: dict[bytes | None, int] = {}
    duplicated: dict[bytes | None, int] = {}
    reordered: list[bytes | None] = []
    for key in sorted(set(want) | set(got), key=lambda k: k or b""):
        a, b = want.get(key, []), got.get(key, [])
        if a == b:
            continue
        count_a, count_b = Counter(map(repr, a)), Counter(map(repr, b))
        missing = sum((count_a - count_b).values())
        extra = sum((count_b - count_a).values())
        if missing:
            lost[key] = missing
        if extra:
            duplicated[key] = extra
        if not missing and not extra:
            reordered.append(key)
    return TopicDiff(
        spec.name,
        sum(len(v) for v in got.values()),
        sum(len(v) for v in want.values()),
        lost,
        duplicated,
        reordered,
    )


def compare_topics(
    bootstrap: str, reference_ns: str, run_ns: str, specs: Iterable[TopicSpec], masks: Masks | None = None
) -> list[TopicDiff]:
    """Every topic of `specs` in `run_ns` against `reference_ns`, read_committed, masked as `masks` says.

    The topics are read concurrently (each read waits out its partitions' ends, mostly idle)."""
    spec_list = list(specs)
    with ThreadPoolExecutor(max_workers=8) as pool:
        reads = {
            (spec.name, ns): pool.submit(read_committed, bootstrap, spec.topic(ns), spec.partitions)
            for spec in spec_list
            for ns in (reference_ns, run_ns)
        }
        rows = {key: future.result() for key, future in reads.items()}
    return [
        diff_topic(
            spec, rows[(spec.name, reference_ns)], rows[(spec.name, run_ns)], (masks or {}).get(spec.name, ())
        )
        for spec in spec_list
    ]


def committed_count(bootstrap: str, spec: TopicSpec, namespace: str) -> int:
    """Records a read_committed reader sees in a topic now."""
    return len(read_committed(bootstrap, spec.topic(namespace), spec.partitions))
