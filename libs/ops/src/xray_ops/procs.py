"""Process facts from /proc: is a pid alive, does it carry our stack marker, which pids carry it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path

# Every process the stack or a replay starts carries this variable; its value identifies the run.
MARKER_ENV = "XRAY_STACK_ID"


def alive(pid: int) -> bool:
    """The pid exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return not Path("/proc/self").exists()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def start_ticks(pid: int) -> int | None:
    """When the process started (clock ticks since boot): with the pid, it names one process for good."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name (which may hold spaces) start at field 3; starttime is field 22.
    return int(stat.rsplit(")", 1)[1].split()[19])


def same_process(pid: int, ticks: int | None) -> bool:
    """`pid` is alive and is the process that started at `ticks` (not a recycled pid)."""
    return alive(pid) and ticks is not None and start_ticks(pid) == ticks


def environ_of(pid: int) -> dict[str, str]:
    """The environment a process was started with (empty when unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    out: dict[str, str] = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            out[key.decode(errors="replace")] = value.decode(errors="replace")
    return out


def carries_marker(pid: int, marker: str) -> bool:
    """The live process `pid` was started by the run `marker` (so signalling it is ours to do)."""
    return alive(pid) and environ_of(pid).get(MARKER_ENV) == marker


def pids_with_marker(marker: str) -> list[int]:
    """Every live process started by the run `marker` (children of children included)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and carries_marker(int(entry.name), marker):
            found.append(int(entry.name))
    return sorted(found)


def signal_marked(pid: int, marker: str, sig: signal.Signals) -> bool:
    """Send `sig` to `pid` only if it carries `marker`; True when sent."""
    if not carries_marker(pid, marker):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
        return True
    return False


def wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    """Wait until none of `pids` is alive; return those still alive at the deadline."""
    deadline = time.monotonic() + timeout_s
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in left if alive(p)]
    return left


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the service binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
