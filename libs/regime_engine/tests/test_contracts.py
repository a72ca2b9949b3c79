"""Golden contract behaviours (fact sheet §9 items 1-2, §2.1, §2.8)."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest
from regime_engine.contracts.missing import MISSING, is_missing, missing_paths
from regime_engine.contracts.outputs import RegimeOutput
from regime_engine.contracts.regimes import REGIMES, Regime
from regime_engine.contracts.state import RegimeState
from regime_engine.samples import neutral_snapshot, with_fields

ORDER = [
    "CHOP_BALANCED",
    "CHOP_STOPHUNT",
    "LIQUIDATION_UP",
    "LIQUIDATION_DOWN",
    "SQUEEZE_UP",
    "SQUEEZE_DOWN",
    "TREND_BUILD_UP",
    "TREND_BUILD_DOWN",
    "TREND_EXHAUSTION",
]


def test_regime_order_and_values() -> None:
    assert [r.value for r in Regime] == ORDER
    assert all(r.value == r.name for r in Regime)


def test_snapshot_and_output_are_immutable() -> None:
    snap = neutral_snapshot()
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.market.price = 2.0  # type: ignore[misc]
    out = RegimeOutput("TEST", 180_000, Regime.CHOP_BALANCED, 0.5, ("x",), (), ("y",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.confidence = 0.1  # type: ignore[misc]


def test_missing_sentinel_identity() -> None:
    assert is_missing(MISSING)
    assert not is_missing(0.0)
    assert not is_missing(None)
    assert repr(MISSING) == "MISSING"
    assert copy.deepcopy(MISSING) is MISSING
    assert pickle.loads(pickle.dumps(MISSING)) is MISSING


def test_missing_paths_example() -> None:
    snap = with_fields(neutral_snapshot(), market__price=MISSING, market__structure_levels={"poc": MISSING})
    assert missing_paths(snap) == {"market.price", "market.structure_levels.poc"}
    assert missing_paths([MISSING, {"a": (1, MISSING)}]) == {"[0]", "[1].a[1]"}


def test_output_validation() -> None:
    with pytest.raises(ValueError, match="drivers"):
        RegimeOutput("T", 0, Regime.CHOP_BALANCED, 0.5, (), (), ("y",))
    with pytest.raises(ValueError, match="permissions"):
        RegimeOutput("T", 0, Regime.CHOP_BALANCED, 0.5, ("x",), (), ())
    with pytest.raises(ValueError, match="invalidations"):
        RegimeOutput("T", 0, Regime.CHOP_BALANCED, 0.5, ("x",), ("", "valid"), ("y",))
    RegimeOutput("T", 0, Regime.CHOP_BALANCED, 0.5, ("x",), (), ("y",))


def test_regime_state_invariants() -> None:
    uniform = {r: 1.0 / 9 for r in REGIMES}
    state = RegimeState(
        symbol="T", engine_timestamp_ms=0, belief_by_regime=uniform, anchor_regime=Regime.CHOP_BALANCED
    )
    assert state.schema == "regime_state"
    assert state.schema_version == "1"
    assert [f.name for f in dataclasses.fields(RegimeState)][:2] == ["schema", "schema_version"]
    with pytest.raises(ValueError, match="sum"):
        RegimeState(
            symbol="T",
            engine_timestamp_ms=0,
            belief_by_regime={r: 0.5 for r in REGIMES},
            anchor_regime=Regime.CHOP_BALANCED,
        )
    with pytest.raises(ValueError, match="every regime"):
        RegimeState(
            symbol="T",
            engine_timestamp_ms=0,
            belief_by_regime={Regime.CHOP_BALANCED: 1.0},
            anchor_regime=Regime.CHOP_BALANCED,
        )
