"""The backtest report: pure functions from a replay's output events to numbers, Markdown and comparisons.

`results` depends only on the topics' contents, so two replays of the same input and config give equal
`results`; `timing` (wall time, throughput) is measured and differs from run to run. A run's regime is
its effective regime: the hysteresis anchor when the run carries a hysteresis state (hysteresis mode),
else the engine's truth regime. A run's time share weight is the event time until the symbol's next run
(the last run gets the symbol's median spacing, a lone run one boundary interval).
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from xray_contracts.analysis_engine import AnalysisEngineEvent, ArtifactEmittedPayload, RunStatusPayload
from xray_contracts.orchestrator_event import (
    ENGINE_RUN_COMPLETED,
    ENGINE_RUN_FAILED,
    OrchestratorEvent,
)
from xray_contracts.state_gate import EVENT_GATE_EVALUATED, GATE_OPEN, StateGateEvent

REPORT_SCHEMA: Final = "xray_replay_report"
REPORT_VERSION: Final = 1
DEFAULT_INTERVAL_MS: Final = 180_000


@dataclass(frozen=True, slots=True)
class RunView:
    """One engine run as the report sees it."""

    symbol: str
    run_id: str
    engine_timestamp_ms: int
    status: str  # completed | failed
    truth_regime: str | None
    effective_regime: str | None


def runs_from_events(events: Iterable[OrchestratorEvent]) -> list[RunView]:
    """One RunView per run_id that reached a terminal event, ordered by (symbol, engine time, run_id)."""
    truth: dict[str, str] = {}
    anchor: dict[str, str] = {}
    terminal: dict[str, OrchestratorEvent] = {}
    for event in events:
        payload = event.payload
        if payload is not None and payload.regime_output is not None:
            truth[event.run_id] = payload.regime_output.regime
        if payload is not None and payload.hysteresis_state is not None:
            anchor[event.run_id] = payload.hysteresis_state.anchor_regime
        if event.event_type in (ENGINE_RUN_COMPLETED, ENGINE_RUN_FAILED):
            terminal.setdefault(event.run_id, event)
    views = []
    for run_id, event in terminal.items():
        failed = event.event_type == ENGINE_RUN_FAILED
        t = None if failed else truth.get(run_id)
        views.append(
            RunView(
                symbol=event.symbol,
                run_id=run_id,
                engine_timestamp_ms=event.engine_timestamp_ms,
                status="failed" if failed else "completed",
                truth_regime=t,
                effective_regime=None if failed else anchor.get(run_id, t),
            )
        )
    views.sort(key=lambda r: (r.symbol, r.engine_timestamp_ms, r.run_id))
    return views


def _weights(times: Sequence[int]) -> list[int]:
    """Event time from each run to the next; the last run gets the median spacing."""
    gaps = [b - a for a, b in itertools.pairwise(times)]
    last = int(statistics.median(gaps)) if gaps else DEFAULT_INTERVAL_MS
    return [*gaps, last]


def regime_summary(runs: Sequence[RunView], attribute: str) -> dict[str, Any]:
    """Time share per regime and the transitions between consecutive runs, for one symbol."""
    rows = [r for r in runs if getattr(r, attribute) is not None]
    regimes = [str(getattr(r, attribute)) for r in rows]
    weights = _weights([r.engine_timestamp_ms for r in rows])
    total = sum(weights)
    share: dict[str, float] = defaultdict(float)
    for regime, weight in zip(regimes, weights, strict=True):
        share[regime] += weight
    transitions = Counter(f"{a}->{b}" for a, b in itertools.pairwise(regimes) if a != b)
    return {
        "time_share": {k: round(v / total, 6) for k, v in sorted(share.items())} if total else {},
        "transitions": sum(transitions.values()),
        "transition_counts": dict(sorted(transitions.items())),
        "last": regimes[-1] if regimes else None,
    }


def gate_summary(events: Iterable[StateGateEvent]) -> dict[str, dict[str, Any]]:
    """Per symbol: GateEvaluated count, how many were OPEN, the ratio, and resets/halts."""
    out: dict[str, dict[str, Any]] = {}
    for event in events:
        row = out.setdefault(event.symbol, {"evaluated": 0, "open": 0, "resets": 0, "halts": 0})
        if event.event_type == EVENT_GATE_EVALUATED:
            row["evaluated"] += 1
            row["open"] += event.gate_status == GATE_OPEN
        elif event.event_type == "StateReset":
            row["resets"] += 1
        elif event.event_type == "StateGateHalted":
            row["halts"] += 1
    for row in out.values():
        row["open_ratio"] = round(row["open"] / row["evaluated"], 6) if row["evaluated"] else None
    return dict(sorted(out.items()))


def analysis_summary(events: Iterable[AnalysisEngineEvent], alerts: int) -> dict[str, Any]:
    """Artifacts per module (and kind), analysis runs by status, module failures."""
    artifacts: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    types: Counter[str] = Counter()
    for event in events:
        types[event.event_type] += 1
        payload = event.payload
        if isinstance(payload, ArtifactEmittedPayload):
            artifacts[payload.module_id] += 1
            kinds[payload.artifact_kind] += 1
        elif isinstance(payload, RunStatusPayload):
            statuses[payload.status] += 1
    return {
        "artifacts_per_module": dict(sorted(artifacts.items())),
        "artifacts_per_kind": dict(sorted(kinds.items())),
        "runs_by_status": dict(sorted(statuses.items())),
        "events_by_type": dict(sorted(types.items())),
        "alerts": alerts,
    }


def build_results(
    *,
    raw_by_symbol: Mapping[str, int],
    raw_by_type: Mapping[str, int],
    orchestrator: Sequence[OrchestratorEvent],
    gate: Sequence[StateGateEvent],
    analysis: Sequence[AnalysisEngineEvent],
    alerts: int,
    digests: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """The reproducible part of the report."""
    runs = runs_from_events(orchestrator)
    by_symbol: dict[str, list[RunView]] = defaultdict(list)
    for run in runs:
        by_symbol[run.symbol].append(run)
    gates = gate_summary(gate)
    symbols = sorted(set(by_symbol) | set(gates) | set(raw_by_symbol))
    per_symbol: dict[str, Any] = {}
    for symbol in symbols:
        mine = by_symbol.get(symbol, [])
        per_symbol[symbol] = {
            "raw_events": raw_by_symbol.get(symbol, 0),
            "runs": len(mine),
            "runs_completed": sum(r.status == "completed" for r in mine),
            "runs_failed": sum(r.status == "failed" for r in mine),
            "first_engine_ts_ms": mine[0].engine_timestamp_ms if mine else None,
            "last_engine_ts_ms": mine[-1].engine_timestamp_ms if mine else None,
            "regimes": regime_summary(mine, "effective_regime"),
            "truth_regimes": regime_summary(mine, "truth_regime"),
            "gate": gates.get(
                symbol, {"evaluated": 0, "open": 0, "open_ratio": None, "resets": 0, "halts": 0}
            ),
        }
    evaluated = sum(g["evaluated"] for g in gates.values())
    opened = sum(g["open"] for g in gates.values())
    return {
        "raw_events": sum(raw_by_symbol.values()),
        "raw_by_type": dict(sorted(raw_by_type.items())),
        "runs": len(runs),
        "symbols": per_symbol,
        "gate_open_ratio": round(opened / evaluated, 6) if evaluated else None,
        "analysis": analysis_summary(analysis, alerts),
        "topics": {k: dict(v) for k, v in sorted(digests.items())},
    }


def comparable(report: Mapping[str, Any]) -> dict[str, Any]:
    """What two replays of the same input and config must agree on: source, config and results."""
    return {k: report[k] for k in ("schema", "version", "source", "config", "results") if k in report}


# --- Markdown --------------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _shares(summary: Mapping[str, Any], limit: int = 4) -> str:
    share = sorted(summary.get("time_share", {}).items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{k} {_pct(v)}" for k, v in share[:limit]) or "-"


def render_markdown(report: Mapping[str, Any]) -> str:
    """The report as Markdown (what `xray replay` prints and writes to report.md)."""
    results = report["results"]
    timing = report.get("timing", {})
    lines = [
        f"# Replay {report.get('id', '')}",
        "",
        f"- namespace `{report.get('namespace', '')}`, source: {describe_source(report.get('source', {}))}",
        f"- config: {report.get('config', {}).get('fingerprint', '-')}",
        f"- raw events {results['raw_events']:,}; engine runs {results['runs']:,}; "
        f"gate open {_pct(results['gate_open_ratio'])}",
        "",
        "## Per symbol",
        "",
        "| symbol | raw events | runs | failed | regime time share | transitions | gate open "
        "| resets/halts |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for symbol, row in results["symbols"].items():
        gate = row["gate"]
        lines.append(
            f"| {symbol} | {row['raw_events']:,} | {row['runs']} | {row['runs_failed']} | "
            f"{_shares(row['regimes'])} | {row['regimes']['transitions']} | {_pct(gate['open_ratio'])} | "
            f"{gate['resets']}/{gate['halts']} |"
        )
    transitions = [
        (symbol, kind, n)
        for symbol, row in results["symbols"].items()
        for kind, n in row["regimes"]["transition_counts"].items()
    ]
    if transitions:
        lines += ["", "## Regime transitions", "", "| symbol | transition | count |", "|---|---|---:|"]
        lines += [f"| {s} | {k} | {n} |" for s, k, n in transitions]
    analysis = results["analysis"]
    lines += ["", "## Analysis", "", "| module | artifacts |", "|---|---:|"]
    lines += [f"| {m} | {n:,} |" for m, n in analysis["artifacts_per_module"].items()] or ["| - | 0 |"]
    runs_by_status = ", ".join(f"{k} {v}" for k, v in analysis["runs_by_status"].items()) or "-"
    lines += ["", f"Analysis runs: {runs_by_status}; alerts: {analysis['alerts']}."]
    lines += ["", "## Output topics", "", "| topic | records | sha256 (masked) |", "|---|---:|---|"]
    lines += [f"| {t} | {d['records']:,} | `{d['sha256'][:16]}` |" for t, d in results["topics"].items()]
    if timing:
        lines += [
            "",
            "## Timing",
            "",
            f"- ingest {timing.get('ingest_s', 0):.1f} s, pipeline {timing.get('pipeline_s', 0):.1f} s, "
            f"total {timing.get('total_s', 0):.1f} s",
            f"- throughput {timing.get('raw_events_per_s', 0):,.0f} raw events/s through every service",
        ]
    return "\n".join(lines) + "\n"


def describe_source(source: Mapping[str, Any]) -> str:
    """One line naming what was replayed."""
    kind = source.get("kind")
    if kind == "recording":
        return "recordings " + ", ".join(f"`{f['name']}`" for f in source.get("files", []))
    if kind == "simulator":
        sim = source.get("simulator", {})
        symbols = len(sim.get("symbols", []))
        return f"simulator seed {sim.get('seed')} ({symbols} symbols, {sim.get('windows')} windows)"
    if kind == "topic":
        return f"topic `{source.get('topic')}` [{source.get('start_ms')}, {source.get('end_ms')})"
    return str(kind)


def render_compare(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """Two reports side by side: per-symbol runs, regime shares, transitions, gate ratio; artifacts."""
    ra, rb = a["results"], b["results"]
    name_a, name_b = str(a.get("id", "A")), str(b.get("id", "B"))
    same_outputs = ra["topics"] == rb["topics"]
    lines = [
        f"# Replay {name_a} vs {name_b}",
        "",
        f"- config: {_fingerprint(a)} vs {_fingerprint(b)}",
        f"- output topics identical (masked digests): {'yes' if same_outputs else 'no'}",
        f"- engine runs {ra['runs']} vs {rb['runs']}; gate open {_pct(ra['gate_open_ratio'])} vs "
        f"{_pct(rb['gate_open_ratio'])}",
        "",
        f"| symbol | runs | transitions | gate open | regime share ({name_a}) | regime share ({name_b}) |",
        "|---|---|---|---|---|---|",
    ]
    for symbol in sorted(set(ra["symbols"]) | set(rb["symbols"])):
        sa, sb = ra["symbols"].get(symbol), rb["symbols"].get(symbol)
        lines.append(
            f"| {symbol} | {_pair(sa, sb, lambda s: s['runs'])} | "
            f"{_pair(sa, sb, lambda s: s['regimes']['transitions'])} | "
            f"{_pair(sa, sb, lambda s: _pct(s['gate']['open_ratio']))} | "
            f"{_shares(sa['regimes']) if sa else '-'} | {_shares(sb['regimes']) if sb else '-'} |"
        )
    modules = sorted(
        set(ra["analysis"]["artifacts_per_module"]) | set(rb["analysis"]["artifacts_per_module"])
    )
    lines += ["", f"| module | artifacts ({name_a}) | artifacts ({name_b}) |", "|---|---:|---:|"]
    for module in modules:
        lines.append(
            f"| {module} | {ra['analysis']['artifacts_per_module'].get(module, 0)} | "
            f"{rb['analysis']['artifacts_per_module'].get(module, 0)} |"
        )
    ta, tb = a.get("timing", {}), b.get("timing", {})
    if ta and tb:
        lines += [
            "",
            f"Throughput: {ta.get('raw_events_per_s', 0):,.0f} vs {tb.get('raw_events_per_s', 0):,.0f} "
            "raw events/s.",
        ]
    return "\n".join(lines) + "\n"


def _fingerprint(report: Mapping[str, Any]) -> str:
    return str(report.get("config", {}).get("fingerprint", "-"))


def _pair(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None, get: Any) -> str:
    va = get(a) if a else "-"
    vb = get(b) if b else "-"
    return f"{va}" if va == vb else f"{va} → {vb}"
