"""Process and machine measurements for benchmarks: CPU seconds and peak RSS from /proc, percentiles, and a
description of the machine (lscpu, RAM, load average) for docs/BENCHMARKS.md. Linux only."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True, slots=True)
class ProcSample:
    """CPU seconds used so far (user + system, all threads) and peak resident set (MB) of one process."""

    cpu_s: float
    peak_rss_mb: float


def proc_sample(pid: int) -> ProcSample | None:
    """Read /proc/<pid>/stat and status; None once the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    peak = 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return ProcSample(cpu, peak)


@dataclass
class ProcessMeter:
    """Samples named processes in a background thread; keeps each one's last CPU and highest peak RSS.

    A process that exits keeps the figures of its last sample (taken at most `interval_s` before)."""

    interval_s: float = 0.2
    pids: dict[str, list[int]] = field(default_factory=dict)
    last: dict[int, ProcSample] = field(default_factory=dict)
    base: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def track(self, name: str, pid: int, *, from_now: bool = False) -> None:
        """Measure `pid` under `name` (several pids may share a name: restarts, instances); `from_now`
        counts only CPU used from now on (a broker that was already running)."""
        sample = proc_sample(pid)
        with self._lock:
            self.pids.setdefault(name, []).append(pid)
            if sample is not None:
                self._record(pid, sample)
                if from_now:
                    self.base[pid] = sample.cpu_s

    def _poll(self) -> None:
        with self._lock:
            pids = [pid for group in self.pids.values() for pid in group]
        for pid in pids:
            sample = proc_sample(pid)
            if sample is not None:
                with self._lock:
                    self._record(pid, sample)

    def _record(self, pid: int, sample: ProcSample) -> None:
        """Keep the highest figures seen: an exiting (zombie) process has no VmHWM line any more, and its
        last sample must not erase the peak measured while it ran. Caller holds the lock."""
        before = self.last.get(pid)
        if before is not None:
            sample = ProcSample(max(before.cpu_s, sample.cpu_s), max(before.peak_rss_mb, sample.peak_rss_mb))
        self.last[pid] = sample

    def start(self) -> ProcessMeter:
        """Begin sampling in the background."""

        def loop() -> None:
            while not self._stop.wait(self.interval_s):
                self._poll()

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Take a last sample and stop."""
        self._poll()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def cpu_s(self, name: str) -> float:
        """CPU seconds of every process tracked under `name`."""
        with self._lock:
            return sum(
                self.last[p].cpu_s - self.base.get(p, 0.0) for p in self.pids.get(name, []) if p in self.last
            )

    def peak_rss_mb(self, name: str) -> float:
        """The highest peak RSS of any process tracked under `name`."""
        with self._lock:
            return max(
                (self.last[p].peak_rss_mb for p in self.pids.get(name, []) if p in self.last), default=0.0
            )

    def names(self) -> list[str]:
        """Every name tracked."""
        return list(self.pids)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def listener_pid(port: int) -> int | None:
    """The pid of the process listening on a local TCP port (e.g. the broker), from /proc."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                local, state, inode = parts[1], parts[3], parts[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(inode)
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(proc.name)
    return None


def machine_description() -> list[str]:
    """Lines describing this machine: CPU (lscpu), cores, RAM, load average, kernel, Python."""
    lines: list[str] = []
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10, check=False).stdout
        wanted = (
            "Architecture",
            "Model name",
            "CPU(s)",
            "Thread(s) per core",
            "Core(s) per socket",
            "CPU MHz",
        )
        for line in out.splitlines():
            key = line.split(":", 1)[0].strip()
            if key in wanted:
                lines.append(f"lscpu {key}: {line.split(':', 1)[1].strip()}")
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                lines.append(f"RAM: {int(line.split()[1]) / 1024 / 1024:.1f} GiB")
    load = os.getloadavg()
    lines.append(f"load average at the start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min)")
    when = time.strftime("%Y-%m-%d %H:%M %Z")
    lines.append(f"kernel: {platform.release()}; Python {platform.python_version()}; {when}")
    return lines
