"""Belief-first hysteresis walkthroughs (fact sheet §6.3 A-G, §9 38-47) and the recommended fixes."""

from __future__ import annotations

from regime_engine.belief import project
from regime_engine.contracts.regimes import REGIMES, Regime
from regime_engine.contracts.snapshots import RegimeInputSnapshot
from regime_engine.contracts.state import RegimeState
from regime_engine.hysteresis import HysteresisConfig, HysteresisState, advance_hysteresis

CB, CS, SU = Regime.CHOP_BALANCED, Regime.CHOP_STOPHUNT, Regime.SQUEEZE_UP
TBU, TBD = Regime.TREND_BUILD_UP, Regime.TREND_BUILD_DOWN


def rs(belief: dict[Regime, float], ts: int = 180_000) -> RegimeState:
    full = {r: belief.get(r, 0.0) for r in REGIMES}
    return RegimeState(
        symbol="TEST",
        engine_timestamp_ms=ts,
        belief_by_regime=full,
        anchor_regime=REGIMES[project(list(full.values()))],
    )


def one_hot(regime: Regime, ts: int) -> RegimeState:
    return rs({regime: 1.0}, ts)


def prev(
    anchor: Regime, cand: Regime | None = None, progress: int = 0, ts: int = 0, required: int = 3
) -> HysteresisState:
    return HysteresisState(
        symbol="TEST",
        engine_timestamp_ms=ts,
        anchor_regime=anchor,
        candidate_regime=cand,
        progress_current=progress,
        progress_required=required,
        last_commit_timestamp_ms=None,
        reason_codes=(),
    )


def test_tie_goes_to_earlier_regime() -> None:
    out = advance_hysteresis(prev(CS), rs({CB: 0.5, CS: 0.5}), HysteresisConfig())
    assert out.reason_codes[0] == "CANDIDATE_SELECTED:CHOP_BALANCED"
    held = advance_hysteresis(prev(CS), rs({CB: 0.5, CS: 0.5}), HysteresisConfig(enter_threshold=0.5))
    assert held.candidate_regime is CB


def test_candidate_then_cleared() -> None:
    cfg = HysteresisConfig(window_updates=3, enter_threshold=0.6, commit_threshold=0.6)
    s1 = advance_hysteresis(prev(CB), rs({SU: 0.6, CB: 0.4}, 1), cfg)
    assert (s1.candidate_regime, s1.progress_current) == (SU, 1)
    s2 = advance_hysteresis(s1, rs({CB: 1.0}, 2), cfg)
    assert (s2.candidate_regime, s2.progress_current) == (None, 0)


def test_min_lead_gate() -> None:
    cfg = HysteresisConfig(enter_threshold=0.5, min_lead_over_anchor=0.2)
    out = advance_hysteresis(prev(CB), rs({SU: 0.55, CB: 0.45}), cfg)
    assert out.candidate_regime is None
    assert "GATE_FAIL_MIN_LEAD" in out.reason_codes


def test_commit_blocked_by_threshold() -> None:
    cfg = HysteresisConfig(window_updates=2, enter_threshold=0.5, commit_threshold=0.8)
    out = advance_hysteresis(prev(CB, SU, 1, required=2), rs({SU: 0.7, CB: 0.3}), cfg)
    assert (out.anchor_regime, out.candidate_regime, out.progress_current) == (CB, SU, 2)
    assert "COMMIT_BLOCKED_THRESHOLD" in out.reason_codes


def test_commit_records_engine_timestamp() -> None:
    cfg = HysteresisConfig(window_updates=2, commit_threshold=0.6)
    out = advance_hysteresis(prev(CB, SU, 1, ts=100, required=2), rs({SU: 0.6, CB: 0.4}, 200), cfg)
    assert (out.anchor_regime, out.candidate_regime, out.progress_current) == (SU, None, 0)
    assert out.last_commit_timestamp_ms == 200


def test_deterministic_and_capped() -> None:
    cfg = HysteresisConfig()
    p, s = prev(CB, SU, 5), rs({SU: 0.7, CB: 0.3})
    assert advance_hysteresis(p, s, cfg) == advance_hysteresis(p, s, cfg)
    assert advance_hysteresis(p, rs({CB: 1.0}), cfg).progress_current <= 3


def test_reason_codes() -> None:
    out = advance_hysteresis(prev(CB), rs({SU: 0.6, CB: 0.4}), HysteresisConfig(window_updates=2))
    assert out.reason_codes == ("CANDIDATE_SELECTED:SQUEEZE_UP", "PROGRESS_RESET")
    fast = advance_hysteresis(
        prev(CB),
        rs({SU: 0.6, CB: 0.4}),
        HysteresisConfig(window_updates=1, enter_threshold=0.5, commit_threshold=0.5),
    )
    assert any(c.startswith("COMMIT_SWITCH:") for c in fast.reason_codes)
    same = advance_hysteresis(prev(CB), rs({CB: 1.0}), HysteresisConfig())
    assert same.reason_codes == ("CANDIDATE_SAME_AS_ANCHOR", "PROGRESS_RESET")


def _walk(tops: list[Regime], cfg: HysteresisConfig) -> list[HysteresisState]:
    states: list[HysteresisState] = []
    state: HysteresisState | None = None
    for i, top in enumerate(tops):
        state = advance_hysteresis(state, one_hot(top, i * 180_000), cfg)
        states.append(state)
    return states


def test_walkthrough_a_decay_keeps_candidate() -> None:
    states = _walk([CB, SU, SU, CB, SU, SU], HysteresisConfig())
    assert [(s.anchor_regime, s.candidate_regime, s.progress_current) for s in states] == [
        (CB, None, 0),
        (CB, SU, 1),
        (CB, SU, 2),
        (CB, SU, 1),
        (CB, SU, 2),
        (SU, None, 0),
    ]
    assert states[3].reason_codes == ("CANDIDATE_SAME_AS_ANCHOR", "PROGRESS_DECAY")
    assert states[5].reason_codes == (
        "CANDIDATE_SELECTED:SQUEEZE_UP",
        "PROGRESS_INC",
        "COMMIT_SWITCH:CHOP_BALANCED->SQUEEZE_UP",
    )
    assert states[5].last_commit_timestamp_ms == 5 * 180_000


def test_walkthrough_b_and_c() -> None:
    b = _walk([CB, SU, SU, TBD, TBD], HysteresisConfig())
    assert (b[3].candidate_regime, b[3].progress_current, b[3].reason_codes[-1]) == (TBD, 1, "PROGRESS_RESET")
    assert (b[4].candidate_regime, b[4].progress_current, b[4].reason_codes[-1]) == (TBD, 2, "PROGRESS_INC")
    c = _walk([CB, SU, SU, CB, CB], HysteresisConfig())
    assert (c[3].candidate_regime, c[3].progress_current) == (SU, 1)
    assert (c[4].candidate_regime, c[4].progress_current) == (None, 0)
    assert c[4].reason_codes[-1] == "PROGRESS_DECAY"


def test_walkthrough_d_tie_resolves_to_anchor() -> None:
    out = advance_hysteresis(prev(CB, SU, 2), rs({SU: 0.5, CB: 0.5}), HysteresisConfig())
    assert (out.candidate_regime, out.progress_current) == (SU, 1)
    assert "PROGRESS_DECAY" in out.reason_codes


def test_walkthrough_f_commit_blocked_then_passes() -> None:
    cfg = HysteresisConfig(window_updates=2, enter_threshold=0.5, commit_threshold=0.9)
    s0 = advance_hysteresis(None, one_hot(CB, 0), cfg)
    s1 = advance_hysteresis(s0, rs({SU: 0.7, CB: 0.3}, 1), cfg)
    s2 = advance_hysteresis(s1, rs({SU: 0.7, CB: 0.3}, 2), cfg)
    assert s2.progress_current == 2
    assert "COMMIT_BLOCKED_THRESHOLD" in s2.reason_codes
    s3 = advance_hysteresis(s2, rs({SU: 0.95, CB: 0.05}, 3), cfg)
    assert s3.anchor_regime is SU
    assert "PROGRESS_INC" in s3.reason_codes


def test_walkthrough_g_allowed_regimes() -> None:
    only_cb = HysteresisConfig(allowed_regimes=(CB,))
    out = advance_hysteresis(prev(CB), rs({SU: 0.9, CB: 0.1}), only_cb)
    assert out.candidate_regime is None
    assert out.reason_codes[0] == "CANDIDATE_SAME_AS_ANCHOR"
    none = advance_hysteresis(prev(CB), rs({SU: 0.9, CB: 0.1}), HysteresisConfig(allowed_regimes=()))
    assert none.reason_codes == ("CANDIDATE_NONE", "PROGRESS_RESET")


def test_bootstrap_adopts_projection_and_debug_carries_belief() -> None:
    out = advance_hysteresis(None, rs({TBU: 0.7, CB: 0.3}), HysteresisConfig())
    assert out.anchor_regime is TBU
    assert out.debug is not None
    assert out.debug["belief_by_regime"]["TREND_BUILD_UP"] == 0.7
    assert list(out.debug["belief_by_regime"]) == [r.value for r in REGIMES]


def test_time_gap_reset_is_strict() -> None:
    cfg = HysteresisConfig(reset_max_gap_ms=360_000)
    held = prev(CB, SU, 2, ts=0)
    exact = advance_hysteresis(held, rs({TBU: 1.0}, 360_000), cfg)
    assert exact.anchor_regime is CB
    assert "RESET_TIME_GAP" not in exact.reason_codes
    gap = advance_hysteresis(held, rs({TBU: 1.0}, 360_001), cfg)
    assert gap.anchor_regime is TBU
    assert gap.progress_current == 0
    assert gap.reason_codes[0] == "RESET_TIME_GAP"


def test_walkthrough_e_full_engine_with_embedded_evidence() -> None:
    """Fact sheet §6.3 E, adjusted for graded belief: three full-strength sources make a clear vote."""
    from regime_engine.engine import run_with_hysteresis
    from regime_engine.hysteresis import HysteresisStore
    from regime_engine.samples import missing_snapshot, with_evidence

    def snap(i: int, regime: str | None) -> RegimeInputSnapshot:
        ts = i * 180_000
        ops = (
            []
            if regime is None
            else [{"regime": regime, "strength": 1.0, "confidence": 1.0, "source": f"s{k}"} for k in range(3)]
        )
        return with_evidence(
            missing_snapshot(timestamp=ts), {"symbol": "TEST", "engine_timestamp_ms": ts, "opinions": ops}
        )

    store = HysteresisStore()
    plan = ["TREND_BUILD_UP", "SQUEEZE_UP", "SQUEEZE_UP", "SQUEEZE_UP", None]
    states = [run_with_hysteresis(snap(i + 1, r), store).state for i, r in enumerate(plan)]
    assert (states[0].anchor_regime, states[0].progress_current) == (TBU, 0)
    assert [s.progress_current for s in states[1:3]] == [1, 2]
    assert states[3].anchor_regime is SU
    assert "COMMIT_SWITCH:TREND_BUILD_UP->SQUEEZE_UP" in states[3].reason_codes
    assert states[3].last_commit_timestamp_ms == 4 * 180_000
    # Zero opinions: the carried belief keeps SQUEEZE_UP on top (the original, with a uniform prior,
    # made CHOP_BALANCED a candidate here).
    assert states[4].anchor_regime is SU
    assert states[4].reason_codes[0] == "CANDIDATE_SAME_AS_ANCHOR"
