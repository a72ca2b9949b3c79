"""Hysteresis state, the per-symbol store, and the decision returned by run_with_hysteresis."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from regime_engine.contracts.outputs import RegimeOutput
from regime_engine.contracts.regimes import REGIMES, Regime
from regime_engine.contracts.state import RegimeState

HYSTERESIS_STATE_SCHEMA: Final = "hysteresis_state"
HYSTERESIS_STATE_SCHEMA_VERSION: Final = "1"
# (regime, value) in enum order: Enum iteration and `.value` are slow on the per-run path.
_REGIME_VALUES: Final = tuple((regime, regime.value) for regime in REGIMES)


@dataclass(frozen=True, slots=True)
class HysteresisState:
    """Stabilised regime (anchor), the candidate in progress, and the trace of the last update."""

    schema: str = field(default=HYSTERESIS_STATE_SCHEMA, kw_only=True)
    schema_version: str = field(default=HYSTERESIS_STATE_SCHEMA_VERSION, kw_only=True)
    symbol: str
    engine_timestamp_ms: int
    anchor_regime: Regime
    candidate_regime: Regime | None
    progress_current: int
    progress_required: int
    last_commit_timestamp_ms: int | None
    reason_codes: tuple[str, ...]
    # {"belief_by_regime": {regime value: mass}}; None after a restore from a store record.
    debug: Mapping[str, Any] | None = None

    def belief(self) -> dict[Regime, float] | None:
        """The belief carried in debug, as a regime-keyed dict, or None when absent or malformed."""
        return belief_from_debug(self.debug)


def belief_from_debug(debug: Mapping[str, Any] | None) -> dict[Regime, float] | None:
    """Decode debug["belief_by_regime"] (value-keyed) into a full regime-keyed dict, or None."""
    if not isinstance(debug, Mapping):
        return None
    raw = debug.get("belief_by_regime")
    if not isinstance(raw, Mapping):
        return None
    out: dict[Regime, float] = {}
    for regime, key in _REGIME_VALUES:
        value = raw.get(key)
        if type(value) is not float and (isinstance(value, bool) or not isinstance(value, int | float)):
            return None
        out[regime] = float(value)
    return out


@dataclass(slots=True)
class HysteresisStore:
    """Mutable per-symbol map of the latest hysteresis state (owned by the caller)."""

    states: dict[str, HysteresisState] = field(default_factory=dict)

    def state_for(self, symbol: str) -> HysteresisState | None:
        """The stored state for `symbol`, or None."""
        return self.states.get(symbol)

    def update(self, symbol: str, state: HysteresisState) -> None:
        """Replace the stored state for `symbol`."""
        self.states[symbol] = state


@dataclass(frozen=True, slots=True)
class HysteresisDecision:
    """Everything one hysteresis-mode run produced.

    applied is False when the run was a no-op (equal or older timestamp than the stored state);
    then `state` is the stored state, unchanged, and skip_reason says why.
    """

    output: RegimeOutput
    state: HysteresisState
    regime_state: RegimeState
    applied: bool = True
    skip_reason: str | None = None

    @property
    def selected_regime(self) -> Regime:
        """The stabilised (hysteresis) label."""
        return self.state.anchor_regime

    @property
    def truth_regime(self) -> Regime:
        """The per-run projection of belief."""
        return self.output.regime
