"""Pure belief-first hysteresis step: (previous state, this run's belief, config) -> next state."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from regime_engine.contracts.regimes import REGIMES, Regime
from regime_engine.contracts.state import RegimeState
from regime_engine.hysteresis.config import HysteresisConfig
from regime_engine.hysteresis.state import HysteresisState

CANDIDATE_NONE = "CANDIDATE_NONE"
CANDIDATE_SAME_AS_ANCHOR = "CANDIDATE_SAME_AS_ANCHOR"
CANDIDATE_SELECTED = "CANDIDATE_SELECTED:"
GATE_FAIL_ENTER_THRESHOLD = "GATE_FAIL_ENTER_THRESHOLD"
GATE_FAIL_MIN_LEAD = "GATE_FAIL_MIN_LEAD"
PROGRESS_INC = "PROGRESS_INC"
PROGRESS_RESET = "PROGRESS_RESET"
PROGRESS_DECAY = "PROGRESS_DECAY"
COMMIT_SWITCH = "COMMIT_SWITCH:"
COMMIT_BLOCKED_THRESHOLD = "COMMIT_BLOCKED_THRESHOLD"
RESET_TIME_GAP = "RESET_TIME_GAP"
_VALUES = tuple(regime.value for regime in REGIMES)


def select_top(belief: Mapping[Regime, float], allowed: Iterable[Regime] | None) -> Regime | None:
    """Highest-mass regime among `allowed` (enum order when None); ties go to the earlier one."""
    top: Regime | None = None
    best = 0.0
    for regime in REGIMES if allowed is None else allowed:
        value = belief.get(regime)
        if value is None:
            continue
        if top is None or value > best:
            top, best = regime, value
    return top


def gap_exceeded(prev: HysteresisState | None, timestamp_ms: int, cfg: HysteresisConfig) -> bool:
    """True when a previous state exists and the time gap is strictly larger than the reset gap."""
    return (
        prev is not None
        and cfg.reset_max_gap_ms is not None
        and timestamp_ms - prev.engine_timestamp_ms > cfg.reset_max_gap_ms
    )


def advance_hysteresis(
    prev: HysteresisState | None, rs: RegimeState, cfg: HysteresisConfig
) -> HysteresisState:
    """Advance the per-symbol hysteresis by one run (pure; last commit time = the run's timestamp)."""
    codes: list[str] = []
    if gap_exceeded(prev, rs.engine_timestamp_ms, cfg):
        codes.append(RESET_TIME_GAP)
        prev = None
    belief = rs.belief_by_regime
    anchor = prev.anchor_regime if prev is not None else rs.anchor_regime
    required = cfg.window_updates
    prev_cand = prev.candidate_regime if prev is not None else None
    prev_progress = prev.progress_current if prev is not None else 0
    last_commit = prev.last_commit_timestamp_ms if prev is not None else None

    top = select_top(belief, cfg.allowed_regimes)
    candidate: Regime | None
    if top is None:
        candidate = None
        codes.append(CANDIDATE_NONE)
    elif top == anchor:
        candidate = None
        codes.append(CANDIDATE_SAME_AS_ANCHOR)
    else:
        candidate = top
        codes.append(CANDIDATE_SELECTED + top.value)

    eligible = False
    if candidate is not None:
        eligible = True
        b_c = belief.get(candidate, 0.0)
        lead = b_c - belief.get(anchor, 0.0)
        if b_c < cfg.enter_threshold:
            eligible = False
            codes.append(GATE_FAIL_ENTER_THRESHOLD)
        if cfg.min_lead_over_anchor is not None and lead < cfg.min_lead_over_anchor:
            eligible = False
            codes.append(GATE_FAIL_MIN_LEAD)

    progress, cand = prev_progress, prev_cand
    if eligible and candidate is not None:
        if cand == candidate:
            progress = min(prev_progress + 1, required)
            codes.append(PROGRESS_INC)
        else:
            cand, progress = candidate, 1
            codes.append(PROGRESS_RESET)
    else:
        if prev_progress > 0:
            progress = max(0, prev_progress - cfg.decay_step)
            codes.append(PROGRESS_DECAY)
        else:
            progress = 0
            codes.append(PROGRESS_RESET)
        if progress == 0:
            cand = None

    if cand is not None and progress >= required:
        if belief.get(cand, 0.0) >= cfg.commit_threshold:
            codes.append(f"{COMMIT_SWITCH}{anchor.value}->{cand.value}")
            anchor, cand, progress = cand, None, 0
            last_commit = rs.engine_timestamp_ms
        else:
            codes.append(COMMIT_BLOCKED_THRESHOLD)

    progress = max(0, min(progress, required))
    return HysteresisState(
        symbol=rs.symbol,
        engine_timestamp_ms=rs.engine_timestamp_ms,
        anchor_regime=anchor,
        candidate_regime=cand,
        progress_current=progress,
        progress_required=required,
        last_commit_timestamp_ms=last_commit,
        reason_codes=tuple(codes),
        # RegimeState guarantees every regime in enum order, so values pair up with _VALUES.
        debug={"belief_by_regime": dict(zip(_VALUES, belief.values(), strict=True))},
    )


def committed(prev: HysteresisState | None, nxt: HysteresisState) -> bool:
    """True when a previous state existed and the anchor changed."""
    return prev is not None and prev.anchor_regime != nxt.anchor_regime


def decision_reason_code(codes: Iterable[str]) -> str:
    """Pick the one code for a decision log line (switch > blocked > gate failure > first > NONE)."""
    seq = tuple(codes)
    for code in seq:
        if code.startswith(COMMIT_SWITCH):
            return code
    if COMMIT_BLOCKED_THRESHOLD in seq:
        return COMMIT_BLOCKED_THRESHOLD
    for code in seq:
        if code.startswith("GATE_FAIL_"):
            return code
    return seq[0] if seq else "NONE"
