"""Run assembly: merge the inputs of one run_id into a PendingRun and decide when it is ready.

Readiness (hysteresis wins): a failed run is ready at once; otherwise a run needs its regime_output, and
in hysteresis mode (or whenever a hysteresis_state is expected) also its hysteresis_state, so the
denylist sees the regime output in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from consumers.state_gate.contracts import (
    ENGINE_MODE_HYSTERESIS,
    ERROR_INCONSISTENT_INPUT,
    INPUT_ENGINE_RUN_COMPLETED,
    INPUT_ENGINE_RUN_FAILED,
    INPUT_HYSTERESIS_STATE_PUBLISHED,
    PendingRun,
)
from consumers.state_gate.inputs import InputError, RunInput
from xray_contracts.orchestrator_event import HysteresisState, RegimeOutput


@dataclass(frozen=True, slots=True)
class AssembledRun:
    """One authoritative run, ready to gate."""

    run_id: str
    symbol: str
    engine_timestamp_ms: int
    engine_mode: str | None
    input_event_type: str
    failed: bool
    regime_output: RegimeOutput | None
    hysteresis_state: HysteresisState | None


def merge_input(pending: PendingRun | None, run_input: RunInput) -> PendingRun:
    """Fold one input into its run's pending assembly; raise InputError on a conflicting envelope."""
    if pending is None:
        pending = PendingRun(
            run_id=run_input.run_id,
            engine_timestamp_ms=run_input.engine_timestamp_ms,
            engine_mode=run_input.engine_mode,
        )
    if pending.engine_timestamp_ms != run_input.engine_timestamp_ms:
        raise InputError(ERROR_INCONSISTENT_INPUT, "inconsistent engine_timestamp_ms for run_id")
    mode = pending.engine_mode
    if run_input.engine_mode is not None:
        if mode is not None and mode != run_input.engine_mode:
            raise InputError(ERROR_INCONSISTENT_INPUT, "inconsistent engine_mode for run_id")
        mode = run_input.engine_mode
    seen = pending.seen_input_types
    if run_input.event_type not in seen:
        seen = (*seen, run_input.event_type)
    return replace(
        pending,
        engine_mode=mode,
        regime_output=pending.regime_output or run_input.regime_output,
        hysteresis_state=pending.hysteresis_state or run_input.hysteresis_state,
        failed=pending.failed or run_input.event_type == INPUT_ENGINE_RUN_FAILED,
        seen_input_types=seen,
    )


def ready_run(pending: PendingRun, symbol: str) -> AssembledRun | None:
    """The assembled run when `pending` is ready to gate, else None (keep waiting)."""
    if pending.failed:
        return AssembledRun(
            run_id=pending.run_id,
            symbol=symbol,
            engine_timestamp_ms=pending.engine_timestamp_ms,
            engine_mode=pending.engine_mode,
            input_event_type=INPUT_ENGINE_RUN_FAILED,
            failed=True,
            regime_output=None,
            hysteresis_state=None,
        )
    if pending.regime_output is None:
        return None
    wants_hysteresis = pending.engine_mode == ENGINE_MODE_HYSTERESIS
    if wants_hysteresis and pending.hysteresis_state is None:
        return None
    has_hysteresis = pending.hysteresis_state is not None
    return AssembledRun(
        run_id=pending.run_id,
        symbol=symbol,
        engine_timestamp_ms=pending.engine_timestamp_ms,
        engine_mode=pending.engine_mode,
        input_event_type=INPUT_HYSTERESIS_STATE_PUBLISHED if has_hysteresis else INPUT_ENGINE_RUN_COMPLETED,
        failed=False,
        regime_output=pending.regime_output,
        hysteresis_state=pending.hysteresis_state,
    )
