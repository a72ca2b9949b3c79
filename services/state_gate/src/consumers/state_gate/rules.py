"""Gate evaluation v1: ordered rules, first match wins. A pure function of the assembled run + config."""

from __future__ import annotations

from dataclasses import dataclass

from consumers.state_gate.assembly import AssembledRun
from consumers.state_gate.config import StateGateConfig
from consumers.state_gate.contracts import (
    DENYLISTED_INVALIDATION_PREFIX,
    GATE_CLOSED,
    GATE_OPEN,
    REASON_RUN_FAILED,
    REASON_TRANSITION_ACTIVE,
    STATE_DEGRADED,
    STATE_HOLD,
    STATE_READY,
    GateEvaluatedPayload,
)


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The outcome of evaluating one run."""

    gate_status: str
    state_status: str
    reasons: tuple[str, ...]
    payload: GateEvaluatedPayload | None


def _payload(run: AssembledRun) -> GateEvaluatedPayload | None:
    if run.regime_output is None and run.hysteresis_state is None:
        return None
    return GateEvaluatedPayload(regime_output=run.regime_output, hysteresis_state=run.hysteresis_state)


def denylisted_reasons(run: AssembledRun, denylist: tuple[str, ...]) -> tuple[str, ...]:
    """One `denylisted_invalidation:<x>` per distinct denylisted invalidation, in codepoint order."""
    if run.regime_output is None or not denylist:
        return ()
    hits = set(run.regime_output.invalidations).intersection(denylist)
    return tuple(f"{DENYLISTED_INVALIDATION_PREFIX}{hit}" for hit in sorted(hits))


def evaluate_gate(run: AssembledRun, config: StateGateConfig) -> GateDecision:
    """Apply the rules: run failed → DEGRADED; denylist → HOLD; transition → HOLD; else READY/OPEN."""
    if run.failed:
        return GateDecision(GATE_CLOSED, STATE_DEGRADED, (REASON_RUN_FAILED,), None)
    payload = _payload(run)
    denied = denylisted_reasons(run, config.denylisted_invalidations)
    if denied:
        return GateDecision(GATE_CLOSED, STATE_HOLD, denied, payload)
    state = run.hysteresis_state
    if config.block_during_transition and state is not None and state.progress_current > 0:
        return GateDecision(GATE_CLOSED, STATE_HOLD, (REASON_TRANSITION_ACTIVE,), payload)
    return GateDecision(GATE_OPEN, STATE_READY, (), payload)
