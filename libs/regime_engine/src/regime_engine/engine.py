"""Public engine API: truth mode `run`, hysteresis mode `run_with_hysteresis`, and the pure pieces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from regime_engine.belief import (
    UNIFORM,
    belief_confidence,
    blend_prior,
    evidence_logits,
    log_prior,
    posterior,
    project,
)
from regime_engine.contracts.outputs import RegimeOutput
from regime_engine.contracts.regimes import REGIMES
from regime_engine.contracts.snapshots import RegimeInputSnapshot
from regime_engine.contracts.state import RegimeState
from regime_engine.evidence_extract import DRIVER_NO_CANONICAL_EVIDENCE, read_embedded_evidence
from regime_engine.explain import centred_contributions, driver_labels, ranked
from regime_engine.hysteresis.advance import advance_hysteresis, gap_exceeded
from regime_engine.hysteresis.config import HysteresisConfig
from regime_engine.hysteresis.state import HysteresisDecision, HysteresisState, HysteresisStore
from regime_engine.invalidations import conditions_for
from regime_engine.permissions import permissions_for
from regime_engine.scoring import score_regimes
from regime_engine.signals import compute_signals, read_inputs
from regime_engine.vetoes import VETO_CONFLICT, apply_vetoes, eligible_mask, veto_invalidations

LOW_DATA_COVERAGE: Final = "LOW_DATA_COVERAGE"
LOW_COVERAGE_MAX: Final = 0.5
DUPLICATE_TIMESTAMP: Final = "DUPLICATE_TIMESTAMP"
STALE_TIMESTAMP: Final = "STALE_TIMESTAMP"
_DEFAULT_CONFIG: Final = HysteresisConfig()
REGIME_VALUES: Final = tuple(r.value for r in REGIMES)


def run_pipeline(
    snapshot: RegimeInputSnapshot, prior: Sequence[float] | None = None
) -> tuple[RegimeOutput, RegimeState]:
    """One pure engine pass: output and belief state. prior (enum-ordered masses) None = uniform."""
    x = read_inputs(snapshot)
    signals = compute_signals(x)
    scores, signal_contributions = score_regimes(signals)
    embedded = read_embedded_evidence(snapshot)
    veto_results = apply_vetoes(x)
    eligible, conflict = eligible_mask(veto_results)

    lp = log_prior(UNIFORM if prior is None else prior)
    logits = evidence_logits(scores, embedded.opinions)
    belief_list = posterior(lp, logits, eligible)
    winner = project(belief_list)
    regime = REGIMES[winner]
    coverage = x.coverage()
    confidence = belief_confidence(belief_list, coverage)

    contributions = ranked(centred_contributions(winner, signal_contributions, embedded.opinions, lp))
    drivers = driver_labels(contributions)
    if (embedded.present and not embedded.opinions) or not drivers:
        drivers.append(DRIVER_NO_CANONICAL_EVIDENCE)

    conditions = conditions_for(regime, x)
    invalidations = list(embedded.codes)
    invalidations.extend(veto_invalidations(veto_results))
    if conflict:
        invalidations.append(VETO_CONFLICT)
    if coverage < LOW_COVERAGE_MAX:
        invalidations.append(LOW_DATA_COVERAGE)
    invalidations.extend(c.description for c in conditions)

    symbol, timestamp = snapshot.symbol, snapshot.timestamp
    output = RegimeOutput(
        symbol=symbol,
        timestamp=timestamp,
        regime=regime,
        confidence=confidence,
        drivers=tuple(drivers),
        invalidations=tuple(dict.fromkeys(invalidations)),
        permissions=permissions_for(regime, belief_list, confidence),
        belief_by_regime=dict(zip(REGIME_VALUES, belief_list, strict=True)),
        driver_contributions=contributions,
        invalidation_conditions=conditions,
    )
    belief = dict(zip(REGIMES, belief_list, strict=True))
    state = RegimeState(
        symbol=symbol, engine_timestamp_ms=timestamp, belief_by_regime=belief, anchor_regime=regime
    )
    return output, state


def run(snapshot: RegimeInputSnapshot) -> RegimeOutput:
    """Truth mode: uniform prior, this snapshot's evidence only; pure and deterministic."""
    return run_pipeline(snapshot)[0]


def step(
    snapshot: RegimeInputSnapshot, prev: HysteresisState | None, config: HysteresisConfig | None = None
) -> HysteresisDecision:
    """Pure hysteresis step from an explicit previous state (no store).

    An equal or older timestamp than `prev` is a no-op: the decision carries `prev` unchanged,
    applied=False and the truth-mode output (prev already holds this run's evidence, so it is not
    counted twice). A time gap beyond config.reset_max_gap_ms restarts from a uniform prior.
    """
    cfg = _DEFAULT_CONFIG if config is None else config
    if prev is not None and snapshot.timestamp <= prev.engine_timestamp_ms:
        output, rs = run_pipeline(snapshot)
        reason = DUPLICATE_TIMESTAMP if snapshot.timestamp == prev.engine_timestamp_ms else STALE_TIMESTAMP
        return HysteresisDecision(
            output=output, state=prev, regime_state=rs, applied=False, skip_reason=reason
        )
    carried = None if prev is None or gap_exceeded(prev, snapshot.timestamp, cfg) else prev.belief()
    output, rs = run_pipeline(snapshot, None if carried is None else blend_prior(carried, cfg.prior_carry))
    return HysteresisDecision(output=output, state=advance_hysteresis(prev, rs, cfg), regime_state=rs)


def run_with_hysteresis(
    snapshot: RegimeInputSnapshot, store: HysteresisStore, config: HysteresisConfig | None = None
) -> HysteresisDecision:
    """Hysteresis mode: step from the stored state for the symbol and store the result."""
    decision = step(snapshot, store.state_for(snapshot.symbol), config)
    if decision.applied:
        store.update(snapshot.symbol, decision.state)
    return decision
