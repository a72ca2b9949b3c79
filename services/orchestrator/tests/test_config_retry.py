"""Config validation (acceptance 15) and the retry schedule (§10.1)."""

from __future__ import annotations

import pytest
from orchestrator.config import OrchestratorConfig
from orchestrator.retry import RetryPolicy, retry
from pydantic import ValidationError


def minimal() -> dict[str, object]:
    policy = {"min_delay_ms": 1, "max_delay_ms": 2, "max_attempts": 1}
    return {
        "sources": [{"source_id": "source", "symbols": ["TEST"]}],
        "scheduler": {"mode": "timer", "timer_interval_ms": 1000},
        "engine": {"engine_mode": "truth"},
        "ingestion_retry": policy,
        "buffer_retry": policy,
        "engine_retry": policy,
        "publish_retry": policy,
        "buffer_retention": {"max_records": 10},
        "output_publish": {"max_pending": 10},
    }


def test_minimal_config_validates() -> None:
    config = OrchestratorConfig.model_validate(minimal())
    assert config.configured_symbols() == ("TEST",)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c.update(sources=[{"source_id": "", "symbols": ["X"]}]),
        lambda c: c.update(sources=[{"source_id": "s", "symbols": []}]),
        lambda c: c.update(
            sources=[{"source_id": "s", "symbols": ["X"]}, {"source_id": "s", "symbols": ["Y"]}]
        ),
        lambda c: c.update(scheduler={"mode": "timer"}),
        lambda c: c.update(scheduler={"mode": "sometimes"}),
        lambda c: c.update(scheduler={"mode": "boundary", "boundary_delay_ms": None}),
        lambda c: c.update(scheduler={"mode": "boundary", "boundary_interval_ms": 0}),
        lambda c: c.update(engine={"engine_mode": "dream"}),
        lambda c: c.update(engine_retry={"min_delay_ms": 5, "max_delay_ms": 2, "max_attempts": 1}),
        lambda c: c.update(engine_retry={"min_delay_ms": 1, "max_delay_ms": 2, "max_attempts": 0}),
        lambda c: c.update(buffer_retention={"max_records": 0}),
        lambda c: c.update(output_publish={"max_pending": 0}),
        lambda c: c.update(output_publish={"max_pending": 1, "max_block_ms": 0}),
    ],
)
def test_each_rule_rejects(mutate) -> None:  # type: ignore[no-untyped-def]
    config = minimal()
    mutate(config)
    with pytest.raises(ValidationError):
        OrchestratorConfig.model_validate(config)


@pytest.mark.parametrize(
    ("policy", "delays"),
    [
        ({"min_delay_ms": 100, "max_delay_ms": 1000, "max_attempts": 5}, (100, 200, 400, 800, 1000)),
        ({"min_delay_ms": 100, "max_delay_ms": 1000, "max_attempts": 5, "max_elapsed_ms": 500}, (100, 200)),
        ({"min_delay_ms": 100, "max_delay_ms": 1000, "max_attempts": 5, "max_elapsed_ms": 50}, ()),
    ],
)
def test_retry_delays(policy: dict[str, int], delays: tuple[int, ...]) -> None:
    assert RetryPolicy.model_validate(policy).delays() == delays


def test_retry_returns_first_success_and_sleeps_after_each_failure() -> None:
    calls: list[int] = []
    slept: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("boom")
        return "ok"

    outcome = retry(flaky, RetryPolicy(min_delay_ms=1, max_delay_ms=4, max_attempts=5), slept.append)
    assert (outcome.ok, outcome.value, outcome.attempts, slept) == (True, "ok", 3, [1, 2])


def test_retry_with_no_allowed_attempt_fails_without_running() -> None:
    calls: list[int] = []
    policy = RetryPolicy(min_delay_ms=100, max_delay_ms=100, max_attempts=1, max_elapsed_ms=10)
    outcome = retry(lambda: calls.append(1), policy, lambda _: None)
    assert (outcome.ok, outcome.attempts, calls) == (False, 0, [])
