"""Score the built-in detectors' artifacts against labelled regimes (simulator labels), per symbol.

Used by the labelled-series tests (in-process and through the whole Kafka pipeline). Pure: it takes the
artifacts of each executed run and the label of each (symbol, engine timestamp).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from consumers.analysis_engine.contracts import AnalysisEngineEvent, ArtifactEmittedPayload

SIGNAL = "signal.regime:regime"
TRANSITION = "detector.regime_transition:transition"
CROWDING = "detector.crowding:crowding"
CASCADE = "detector.liquidation_cascade:cascade"
# A label change counts as found when a transition to that regime fires within this many later runs
# (the hysteresis needs a few windows of evidence before it commits).
FOUND_WITHIN = 3
# The first runs of a series carry too little history to be judged.
WARM_UP = 2


@dataclass(frozen=True, slots=True)
class RunArtifacts:
    """One executed analysis run: its symbol, engine timestamp and artifacts by `module_id:name`."""

    symbol: str
    engine_timestamp_ms: int
    artifacts: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class LabelScore:
    """How the detectors' artifacts line up with the labels."""

    runs: int
    transition_mismatches: tuple[str, ...]
    label_changes: int
    changes_found: int
    transitions_fired: int
    transitions_right: int
    crowding: tuple[float, float]
    cascade: tuple[float, float]

    def summary(self) -> str:
        """One line of figures for the test output."""
        return (
            f"{self.runs} runs; transitions: {self.changes_found}/{self.label_changes} label changes found, "
            f"{self.transitions_right}/{self.transitions_fired} right; "
            f"crowding P/R {self.crowding[0]:.2f}/{self.crowding[1]:.2f}; "
            f"cascade P/R {self.cascade[0]:.2f}/{self.cascade[1]:.2f}"
        )

    def problems(self, min_found: float = 0.6, min_right: float = 0.75, min_pr: float = 0.75) -> list[str]:
        """What falls short of the thresholds (empty when the detectors follow the labels)."""
        out = list(self.transition_mismatches[:5])
        if self.changes_found < min_found * self.label_changes:
            out.append(f"only {self.changes_found}/{self.label_changes} label changes found")
        if self.transitions_right < min_right * self.transitions_fired:
            out.append(f"only {self.transitions_right}/{self.transitions_fired} transitions name the label")
        if min(self.crowding) < min_pr:
            out.append(f"crowding P/R {self.crowding} below {min_pr}")
        if min(self.cascade) < min_pr:
            out.append(f"cascade P/R {self.cascade} below {min_pr}")
        return out


def runs_from_events(events: Sequence[AnalysisEngineEvent]) -> list[RunArtifacts]:
    """Group ArtifactEmitted events into runs (completed or partial), ordered by symbol and timestamp."""
    by_run: dict[tuple[str, int, str], dict[str, Mapping[str, Any]]] = {}
    for event in events:
        if isinstance(event.payload, ArtifactEmittedPayload):
            key = (event.symbol, event.engine_timestamp_ms, event.run_id)
            name = f"{event.payload.module_id}:{event.payload.artifact_name}"
            payload = event.payload.payload
            by_run.setdefault(key, {})[name] = payload if isinstance(payload, dict) else {"value": payload}
    return [RunArtifacts(s, ts, artifacts) for (s, ts, _), artifacts in sorted(by_run.items())]


def _precision_recall(predicted: list[bool], actual: list[bool]) -> tuple[float, float]:
    hits = sum(p and a for p, a in zip(predicted, actual, strict=True))
    return hits / max(1, sum(predicted)), hits / max(1, sum(actual))


def score_runs(runs: Sequence[RunArtifacts], labels: Mapping[tuple[str, int], str]) -> LabelScore:
    """Compare each symbol's run sequence with its labels (runs without a label are left out)."""
    by_symbol: dict[str, list[RunArtifacts]] = {}
    for run in sorted(runs, key=lambda r: (r.symbol, r.engine_timestamp_ms)):
        if (run.symbol, run.engine_timestamp_ms) in labels:
            by_symbol.setdefault(run.symbol, []).append(run)
    mismatches: list[str] = []
    changes = found = fired = right = 0
    crowd_pred: list[bool] = []
    crowd_true: list[bool] = []
    casc_pred: list[bool] = []
    casc_true: list[bool] = []
    for symbol, seq in by_symbol.items():
        names = [labels[(symbol, r.engine_timestamp_ms)] for r in seq]
        committed = [r.artifacts[SIGNAL]["committed_regime"] for r in seq]
        transitions = [r.artifacts[TRANSITION] for r in seq]
        for i, t in enumerate(transitions):
            # A transition artifact exactly at each committed (hysteresis anchor) regime change.
            expected = i > 0 and committed[i] != committed[i - 1]
            if bool(t["detected"]) != expected:
                mismatches.append(f"{symbol}@{seq[i].engine_timestamp_ms}: detected={t['detected']}")
            if t["detected"]:
                fired += 1
                right += t["to_regime"] == names[i]
        for i in range(WARM_UP, len(names)):
            if names[i] != names[i - 1]:
                changes += 1
                window = transitions[i : i + FOUND_WITHIN + 1]
                found += any(t["detected"] and t["to_regime"] == names[i] for t in window)
        crowd_pred += [bool(r.artifacts[CROWDING]["detected"]) for r in seq]
        crowd_true += [n.startswith("SQUEEZE_") for n in names]
        casc_pred += [bool(r.artifacts[CASCADE]["detected"]) for r in seq]
        casc_true += [n.startswith("LIQUIDATION_") for n in names]
    return LabelScore(
        runs=sum(len(v) for v in by_symbol.values()),
        transition_mismatches=tuple(mismatches),
        label_changes=changes,
        changes_found=found,
        transitions_fired=fired,
        transitions_right=right,
        crowding=_precision_recall(crowd_pred, crowd_true),
        cascade=_precision_recall(casc_pred, casc_true),
    )
