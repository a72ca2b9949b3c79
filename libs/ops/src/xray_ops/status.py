"""Each service's health, lag and last error, from its /healthz, /readyz, /metrics and its log file."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
from prometheus_client.parser import text_string_to_metric_families

from xray_ops.procs import alive

# Bytes read from the end of a log when looking for its last error.
_LOG_TAIL_BYTES = 512 * 1024
_ERROR_LEVELS = frozenset({"ERROR", "CRITICAL"})

# Metric families (name without the _total suffix) summed into the status columns.
IN_FAMILIES = ("xray_records_in",)
OUT_FAMILIES = ("xray_records_out", "market_data_events_count")
QUEUE_FAMILIES = ("xray_producer_queue_messages", "market_data_producer_queue_depth")
LAG_FAMILY = "xray_consumer_lag"


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """One row of `xray status`."""

    name: str
    state: str
    pid: int | None
    port: int | None
    restarts: int
    healthy: bool | None
    ready: bool | None
    lag: int | None
    records_in: int | None
    records_out: int | None
    producer_queue: int | None
    last_error: str | None
    log: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def http_get(port: int, path: str, timeout_s: float = 2.0) -> tuple[int, str] | None:
    """(status, body) of GET http://127.0.0.1:port/path, or None when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout_s) as response:
            return int(response.status), response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode(errors="replace")
    except (OSError, ValueError):
        return None


def metric_sums(text: str) -> dict[str, float]:
    """Total of every metric family's samples (counters by family name, without `_total`)."""
    sums: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith(("_created", "_bucket")):
                continue
            value = float(sample.value)
            if family.name == LAG_FAMILY and value < 0:
                continue  # -1: librdkafka does not know the lag of that partition yet
            sums[family.name] = sums.get(family.name, 0.0) + value
    return sums


def _first(sums: Mapping[str, float], names: Iterable[str]) -> int | None:
    values = [sums[n] for n in names if n in sums]
    return int(sum(values)) if values else None


def last_error(log_path: Path) -> str | None:
    """The last ERROR line of a service log (`ts event: detail`), or the last line of a traceback."""
    try:
        with log_path.open("rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - _LOG_TAIL_BYTES))
            lines = fh.read().splitlines()
    except OSError:
        return None
    found: str | None = None
    in_traceback = False
    for raw in lines:
        line = raw.decode(errors="replace").rstrip()
        if line.startswith("{"):
            in_traceback = False
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict) and str(record.get("level", "")).upper() in _ERROR_LEVELS:
                found = _describe(record)
        elif line.startswith("Traceback"):
            in_traceback = True
        elif in_traceback and line and not line.startswith((" ", "\t")):
            found = line  # the exception line closes a traceback
            in_traceback = False
    return found


def _describe(record: Mapping[str, Any]) -> str:
    detail = record.get("error") or record.get("message") or record.get("error_detail") or ""
    text = f"{record.get('ts', '')} {record.get('event', 'error')}"
    return f"{text}: {detail}" if detail else text


def probe(entry: Mapping[str, Any], timeout_s: float = 2.0) -> ServiceStatus:
    """Ask one state-file entry's process how it is."""
    pid = entry.get("pid")
    port = entry.get("port")
    running = isinstance(pid, int) and alive(pid)
    healthy = ready = None
    sums: dict[str, float] = {}
    if running and isinstance(port, int):
        health = http_get(port, "/healthz", timeout_s)
        healthy = None if health is None else health[0] == 200
        readiness = http_get(port, "/readyz", timeout_s)
        ready = None if readiness is None else readiness[0] == 200
        metrics = http_get(port, "/metrics", timeout_s)
        if metrics is not None and metrics[0] == 200:
            sums = metric_sums(metrics[1])
    state = str(entry.get("state", "?"))
    if state == "running" and not running:
        state = "exited"
    log = str(entry.get("log", ""))
    return ServiceStatus(
        name=str(entry.get("name")),
        state=state,
        pid=pid if running else None,
        port=port if isinstance(port, int) else None,
        restarts=int(entry.get("restarts", 0)),
        healthy=healthy,
        ready=ready,
        lag=int(sums[LAG_FAMILY]) if LAG_FAMILY in sums else None,
        records_in=_first(sums, IN_FAMILIES),
        records_out=_first(sums, OUT_FAMILIES),
        producer_queue=_first(sums, QUEUE_FAMILIES),
        last_error=last_error(Path(log)) if log else None,
        log=log,
    )


def _flag(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def _num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def rows(statuses: Iterable[ServiceStatus]) -> list[list[str]]:
    """Table cells per service (header first), shared by the plain and the rich rendering."""
    out = [["service", "state", "pid", "healthy", "ready", "lag", "in", "out", "restarts", "last error"]]
    for s in statuses:
        out.append(
            [
                s.name,
                s.state,
                "-" if s.pid is None else str(s.pid),
                _flag(s.healthy),
                _flag(s.ready),
                _num(s.lag),
                _num(s.records_in),
                _num(s.records_out),
                str(s.restarts),
                (s.last_error or "")[:120],
            ]
        )
    return out


def render_plain(statuses: Iterable[ServiceStatus]) -> str:
    """A fixed-width text table."""
    table = rows(statuses)
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]) - 1)]
    lines = []
    for row in table:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def to_json_lines(statuses: Iterable[ServiceStatus]) -> str:
    """One JSON object per service."""
    return "\n".join(orjson.dumps(s.to_json()).decode() for s in statuses)
