"""What the builder remembers per symbol, and how one symbol's DVM section is produced from it.

Every section carries the stamp `(engine_timestamp_ms, run_id)` it was applied at; an update is applied
only when its stamp is >= the stored one (a tie on both: the later arrival wins). Comparing run_id on
equal timestamps makes the result independent of arrival order, and no duplicate or late event can move
a section, a pointer or a timestamp backwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from consumers.dashboards import contracts as c
from xray_contracts.orchestrator_event import REGIME_VALUES, HysteresisState, RegimeOutput
from xray_contracts.state_gate import ENGINE_GAP_RESET_CODE

Stamp = tuple[int, str]

COMMIT_SWITCH_PREFIX: Final = "COMMIT_SWITCH:"
_FAILURE_PREFIXES: Final = ("module_failed:", "module_failure:")
_FAILED_HIGHLIGHTS: Final = frozenset({"run_failed", "run_completed:partial", "run_completed:failed"})


def newer_or_equal(new: Stamp, stored: Stamp | None) -> bool:
    """The last-write-wins guard: apply when nothing is stored or the new stamp is not older."""
    return stored is None or new >= stored


def truth_of(output: RegimeOutput) -> c.RegimeTruthSnapshot:
    """The regime output as the truth section (lists keep upstream order)."""
    return c.RegimeTruthSnapshot(
        regime_name=output.regime,
        confidence=float(output.confidence),
        drivers=tuple(output.drivers),
        invalidations=tuple(output.invalidations),
        permissions=tuple(output.permissions),
    )


def effective_of(output: RegimeOutput, source: str) -> c.RegimeEffectiveSnapshot:
    """The regime output state_gate passed on, with where it came from."""
    truth = truth_of(output)
    return c.RegimeEffectiveSnapshot(
        truth.regime_name, truth.confidence, truth.drivers, truth.invalidations, truth.permissions, source
    )


def belief_map(state: HysteresisState | None, output: RegimeOutput | None) -> dict[str, float] | None:
    """The belief by regime: the hysteresis debug map, else the regime output's own (canonical order)."""
    raw: Mapping[str, float] | None = None
    if state is not None and state.debug is not None:
        raw = state.debug.belief_by_regime
    if not raw and output is not None:
        raw = output.belief_by_regime
    if not raw:
        return None
    entries: dict[str, float] = {}
    for regime in REGIME_VALUES:  # unknown keys are dropped, zero masses kept
        value = raw.get(regime)
        if isinstance(value, int | float) and not isinstance(value, bool):
            entries[regime] = float(value)
    return entries or None


def anchor_of(belief: Mapping[str, float]) -> str:
    """Display-only argmax; ties go to the earlier regime in the canonical order."""
    best = max(belief.values())
    return next(r for r in REGIME_VALUES if belief.get(r) == best)


def belief_trend(current: Mapping[str, float], baseline: Mapping[str, float] | None) -> c.BeliefTrend:
    """The anchor's mass now against the same regime's mass in the previous run's belief."""
    anchor = anchor_of(current)
    if baseline is None or anchor not in baseline:
        return c.BeliefTrend(c.UNKNOWN, None)
    delta = current[anchor] - baseline[anchor]
    status = c.RISING if delta > 0 else c.FALLING if delta < 0 else c.FLAT
    return c.BeliefTrend(status, delta)


@dataclass(slots=True)
class HysteresisApplied:
    """The stored hysteresis state of a symbol."""

    stamp: Stamp
    state: HysteresisState
    effective_confidence: float


@dataclass(slots=True)
class AnalysisWindow:
    """The symbol's current analysis run: its highlights, artifacts and the few payload facts shown."""

    stamp: Stamp
    highlights: set[str] = field(default_factory=set)
    artifacts: dict[tuple[str, str], c.AnalysisArtifactSummary] = field(default_factory=dict)
    assessment: c.AnalysisAssessment | None = None
    numbers: dict[str, float] = field(default_factory=dict)

    def status(self) -> str:
        """PRESENT with artifacts; PARTIAL when modules or the run failed; EMPTY otherwise."""
        if self.artifacts:
            return c.ANALYSIS_PRESENT
        failed = any(h.startswith(_FAILURE_PREFIXES) or h in _FAILED_HIGHLIGHTS for h in self.highlights)
        return c.ANALYSIS_PARTIAL if failed else c.ANALYSIS_EMPTY


@dataclass(slots=True)
class SymbolState:
    """Mutable per-symbol memory of the builder (never handed out; snapshots are built from it)."""

    symbol: str
    run_stamp: Stamp | None = None
    last_update_ts_ms: int | None = None
    gate: c.GateSnapshot = field(default_factory=c.GateSnapshot)
    gate_stamp: Stamp | None = None
    truth: c.RegimeTruthSnapshot | None = None
    truth_stamp: Stamp | None = None
    effective: c.RegimeEffectiveSnapshot | None = None
    effective_stamp: Stamp | None = None
    hysteresis: HysteresisApplied | None = None
    reset_stamp: Stamp | None = None
    # Confidence trend: this stamp's effective confidence vs the previous stamp's.
    confidence_previous: float | None = None
    belief: dict[str, float] | None = None
    belief_stamp: Stamp | None = None
    belief_baseline: dict[str, float] | None = None
    belief_trend: c.BeliefTrend = field(default_factory=c.BeliefTrend)
    analysis: AnalysisWindow | None = None
    regimes: dict[int, c.RegimePoint] = field(default_factory=dict)

    def touch(self, stamp: Stamp, seen_ts_ms: int) -> None:
        """Advance the run pointer and the last-update time (neither ever moves back)."""
        if newer_or_equal(stamp, self.run_stamp):
            self.run_stamp = stamp
        if self.last_update_ts_ms is None or seen_ts_ms > self.last_update_ts_ms:
            self.last_update_ts_ms = seen_ts_ms

    def apply_gate(self, stamp: Stamp, status: str, reasons: tuple[str, ...]) -> None:
        """Gate status and reasons, last write wins."""
        if newer_or_equal(stamp, self.gate_stamp):
            self.gate = c.GateSnapshot(status, reasons)
            self.gate_stamp = stamp

    def apply_truth(self, stamp: Stamp, output: RegimeOutput) -> None:
        """The engine's truth output."""
        if newer_or_equal(stamp, self.truth_stamp):
            self.truth = truth_of(output)
            self.truth_stamp = stamp

    def apply_effective(self, stamp: Stamp, output: RegimeOutput, source: str) -> None:
        """The regime state_gate passed on."""
        if newer_or_equal(stamp, self.effective_stamp):
            self.effective = effective_of(output, source)
            self.effective_stamp = stamp

    def apply_hysteresis(self, stamp: Stamp, state: HysteresisState, output: RegimeOutput | None) -> None:
        """The hysteresis state; effective confidence from the same event's regime output when it has one."""
        stored = self.hysteresis
        if stored is not None and not newer_or_equal(stamp, stored.stamp):
            return
        if output is not None:
            confidence = float(output.confidence)
        elif stored is not None and stored.stamp[1] == stamp[1]:
            confidence = stored.effective_confidence  # same run: keep what its regime output said
        else:
            confidence = 0.0
        if stored is not None and stored.stamp != stamp:
            self.confidence_previous = stored.effective_confidence
        self.hysteresis = HysteresisApplied(stamp, state, confidence)

    def apply_belief(self, stamp: Stamp, belief: dict[str, float]) -> None:
        """A new belief; the trend baseline is the belief of the previous distinct stamp."""
        if not newer_or_equal(stamp, self.belief_stamp):
            return
        if self.belief_stamp is not None and self.belief_stamp != stamp:
            self.belief_baseline = self.belief
        self.belief = belief
        self.belief_stamp = stamp
        self.belief_trend = belief_trend(belief, self.belief_baseline)

    def apply_reset(self, stamp: Stamp) -> None:
        """state_gate reset the symbol (StateReset) at this stamp."""
        if newer_or_equal(stamp, self.reset_stamp):
            self.reset_stamp = stamp

    def record_regime(self, engine_ts_ms: int, regime: str, confidence: float | None, limit: int) -> None:
        """The committed regime of a run, for the history strip (newest `limit` runs kept)."""
        if engine_ts_ms not in self.regimes and len(self.regimes) >= limit:
            oldest = min(self.regimes)
            if engine_ts_ms < oldest:
                return
            del self.regimes[oldest]
        self.regimes[engine_ts_ms] = c.RegimePoint(engine_ts_ms, regime, confidence)

    def analysis_window(self, stamp: Stamp) -> AnalysisWindow | None:
        """The window an analysis event at `stamp` belongs to (a newer run replaces it; older is ignored)."""
        window = self.analysis
        if window is None or stamp > window.stamp:
            window = self.analysis = AnalysisWindow(stamp)
        return window if stamp == window.stamp else None

    # --- snapshot -------------------------------------------------------------------------------

    def _reset_due_to_gap(self, applied: HysteresisApplied) -> bool:
        if ENGINE_GAP_RESET_CODE in applied.state.reason_codes:
            return True
        return self.reset_stamp is not None and self.reset_stamp >= applied.stamp

    def hysteresis_section(self) -> c.HysteresisSnapshot | None:
        """The hysteresis section with its render-only summary."""
        applied = self.hysteresis
        if applied is None:
            return None
        state = applied.state
        flipped = any(code.startswith(COMMIT_SWITCH_PREFIX) for code in state.reason_codes)
        reset = self._reset_due_to_gap(applied)
        transition = c.HysteresisTransition(
            stable_regime=state.anchor_regime,
            candidate_regime=state.candidate_regime,
            candidate_count=state.progress_current,
            transition_active=state.progress_current > 0,
            flipped=flipped,
            reset_due_to_gap=reset,
        )
        phase = (
            c.RESET
            if reset
            else c.FLIPPED
            if flipped
            else c.TRANSITIONING
            if transition.transition_active
            else c.STABLE
        )
        previous = self.confidence_previous
        current = applied.effective_confidence
        trend = (
            c.FLAT
            if previous is None or current == previous
            else c.RISING
            if current > previous
            else c.FALLING
        )
        notes = [n for n, on in ((c.NOTE_FLIPPED, flipped), (c.NOTE_RESET_DUE_TO_GAP, reset)) if on]
        summary = c.HysteresisSummary(
            phase=phase,
            anchor_regime=state.anchor_regime,
            candidate_regime=state.candidate_regime,
            progress=c.HysteresisProgress(state.progress_current, state.progress_required),
            confidence_trend=trend,
            notes=tuple(notes),
        )
        return c.HysteresisSnapshot(current, transition, summary)

    def belief_section(self) -> c.BeliefSnapshot | None:
        """The belief distribution, its argmax and its trend."""
        if self.belief is None:
            return None
        entries = tuple(c.BeliefDistributionEntry(r, m) for r, m in self.belief.items())
        return c.BeliefSnapshot(anchor_of(self.belief), entries, self.belief_trend)

    def analysis_section(self) -> c.AnalysisSection:
        """The current analysis run; EMPTY when no analysis event was seen for the symbol."""
        window = self.analysis
        if window is None:
            return c.AnalysisSection(c.ANALYSIS_EMPTY)
        return c.AnalysisSection(
            window.status(),
            tuple(window.highlights),
            tuple(window.artifacts.values()),
            window.assessment,
            window.stamp[1],
        )
