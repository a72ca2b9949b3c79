"""The engine's outputs and hysteresis state as they travel on Kafka (xray_contracts types), and back.

One conversion, used by the orchestrator service and by the in-process evaluation paths, so what a test
computes in-process is byte-for-byte what the service publishes.
"""

from __future__ import annotations

from xray_contracts import orchestrator_event as oe
from xray_contracts.hysteresis_record import SCHEMA as STORE_SCHEMA
from xray_contracts.hysteresis_record import SCHEMA_VERSION as STORE_SCHEMA_VERSION
from xray_contracts.hysteresis_record import HysteresisStoreRecord

from regime_engine.contracts.outputs import RegimeOutput
from regime_engine.contracts.regimes import regime_from_value
from regime_engine.hysteresis.config import HysteresisConfig
from regime_engine.hysteresis.state import HysteresisState


def wire_output(o: RegimeOutput) -> oe.RegimeOutput:
    """The engine's RegimeOutput as it travels on orchestrator/state_gate events."""
    return oe.RegimeOutput(
        symbol=o.symbol,
        timestamp=o.timestamp,
        regime=o.regime.value,
        confidence=o.confidence,
        drivers=o.drivers,
        invalidations=o.invalidations,
        permissions=o.permissions,
        belief_by_regime=o.belief_by_regime,
        driver_contributions=tuple(
            oe.DriverContribution(c.driver, c.contribution) for c in o.driver_contributions or ()
        ),
        invalidation_conditions=tuple(
            oe.InvalidationCondition(c.kind, c.field, c.op, c.threshold, c.description)
            for c in o.invalidation_conditions or ()
        ),
    )


def _belief(h: HysteresisState) -> dict[str, float] | None:
    belief = h.debug.get("belief_by_regime") if h.debug else None
    return dict(belief) if belief else None


def wire_hysteresis(h: HysteresisState) -> oe.HysteresisState:
    """The engine's HysteresisState as it travels on the wire."""
    belief = _belief(h)
    return oe.HysteresisState(
        schema=h.schema,
        schema_version=h.schema_version,
        symbol=h.symbol,
        engine_timestamp_ms=h.engine_timestamp_ms,
        anchor_regime=h.anchor_regime.value,
        candidate_regime=h.candidate_regime.value if h.candidate_regime is not None else None,
        progress_current=h.progress_current,
        progress_required=h.progress_required,
        last_commit_timestamp_ms=h.last_commit_timestamp_ms,
        reason_codes=tuple(h.reason_codes),
        debug=oe.HysteresisDebug(belief) if belief else None,
    )


def store_record(h: HysteresisState) -> HysteresisStoreRecord:
    """The persisted form of a state, belief included (the next run's prior depends on it)."""
    return HysteresisStoreRecord(
        schema=STORE_SCHEMA,
        schema_version=STORE_SCHEMA_VERSION,
        symbol=h.symbol,
        engine_timestamp_ms=h.engine_timestamp_ms,
        anchor_regime=h.anchor_regime.value,
        candidate_regime=h.candidate_regime.value if h.candidate_regime is not None else None,
        progress_current=h.progress_current,
        last_commit_timestamp_ms=h.last_commit_timestamp_ms,
        belief_by_regime=_belief(h),
    )


def state_from_store_record(r: HysteresisStoreRecord, config: HysteresisConfig) -> HysteresisState:
    """Restore a state from its record; an unknown regime value raises ValueError."""
    anchor = regime_from_value(r.anchor_regime)
    if anchor is None:
        raise ValueError(f"unknown anchor_regime {r.anchor_regime!r}")
    candidate = None
    if r.candidate_regime is not None:
        candidate = regime_from_value(r.candidate_regime)
        if candidate is None:
            raise ValueError(f"unknown candidate_regime {r.candidate_regime!r}")
    belief = r.belief_by_regime
    return HysteresisState(
        symbol=r.symbol,
        engine_timestamp_ms=r.engine_timestamp_ms,
        anchor_regime=anchor,
        candidate_regime=candidate,
        progress_current=r.progress_current,
        progress_required=config.window_updates,
        last_commit_timestamp_ms=r.last_commit_timestamp_ms,
        reason_codes=(),
        debug=None if belief is None else {"belief_by_regime": dict(belief)},
    )
