"""Issue 5's quality bar on simulator seeds nobody tuned on (slow: each simulates 5 symbols for hours).

Seeds 1, 2, 4, 5 fit the model, seed 4 chose the evaluation operating point, seeds 2026-2034 were
looked at while choosing the simulator's default regime length; the seeds below were not used for
anything before these tests were written.
"""

from __future__ import annotations

import pytest
from regime_engine.contracts.regimes import REGIMES
from xray_evaluation.cli import EVALUATION_CONFIG, simulated_steps
from xray_evaluation.evaluate import evaluate_steps

UNSEEN_SEED = 4242
SHORT_SEGMENT_SEED = 4243


@pytest.mark.slow
def test_hysteresis_label_on_an_unseen_seed_with_simulator_defaults() -> None:
    steps = simulated_steps(UNSEEN_SEED, 10.0, 5, None, None)  # default regime segments (10-40 windows)
    evaluation = evaluate_steps(steps, EVALUATION_CONFIG)
    truth, hysteresis = evaluation.truth, evaluation.hysteresis
    assert truth is not None
    assert hysteresis is not None
    assert {c for c, s in hysteresis.per_class.items() if s.support} == {r.value for r in REGIMES}
    assert hysteresis.macro_f1 >= 0.6, hysteresis.macro_f1
    assert truth.macro_f1 - hysteresis.macro_f1 <= 0.05, (truth.macro_f1, hysteresis.macro_f1)
    assert hysteresis.flip_rate_per_hour <= 0.5 * truth.flip_rate_per_hour, (
        truth.flip_rate_per_hour,
        hysteresis.flip_rate_per_hour,
    )


@pytest.mark.slow
def test_short_regimes_change_more_often_than_half_the_truth_mode_flip_rate() -> None:
    # The premise of Planning/regime_engine/spec.md section 7.1: with 12-24-minute regimes the true
    # label alone changes more often than half of truth mode's flip rate, so no label that follows
    # the real switches can halve that flip rate.
    steps = simulated_steps(SHORT_SEGMENT_SEED, 6.0, 5, 4, 8)
    evaluation = evaluate_steps(steps, EVALUATION_CONFIG)
    assert evaluation.truth is not None
    assert evaluation.label_flip_rate_per_hour is not None
    assert evaluation.label_flip_rate_per_hour > 0.5 * evaluation.truth.flip_rate_per_hour
