"""Property tests: run() and run_with_hysteresis() are deterministic and never raise on odd inputs."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from regime_engine.contracts.evidence import EMBEDDED_EVIDENCE_KEY
from regime_engine.contracts.missing import MISSING
from regime_engine.contracts.regimes import Regime
from regime_engine.contracts.snapshots import (
    ContextSnapshot,
    DerivativesSnapshot,
    FlowSnapshot,
    MarketSnapshot,
    RegimeInputSnapshot,
)
from regime_engine.engine import run, run_with_hysteresis
from regime_engine.hysteresis import HysteresisConfig, HysteresisStore

values: st.SearchStrategy[Any] = st.one_of(
    st.just(MISSING),
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-5.0, max_value=5.0),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.booleans(),
    st.text(max_size=3),
)
opinion = st.fixed_dictionaries(
    {
        "regime": st.one_of(st.sampled_from([r.value for r in Regime]), st.text(max_size=4)),
        "strength": values,
        "confidence": values,
        "source": st.one_of(st.text(max_size=4), st.none()),
    }
)
payload = st.fixed_dictionaries(
    {
        "symbol": st.sampled_from(["TEST", "OTHER"]),
        "engine_timestamp_ms": st.sampled_from([180_000, 0]),
        "opinions": st.one_of(st.lists(st.one_of(opinion, values), max_size=4), values),
    }
)
levels = st.one_of(
    st.just(MISSING), st.none(), st.just({}), st.builds(lambda p: {EMBEDDED_EVIDENCE_KEY: p}, payload)
)


@st.composite
def snapshots(draw: st.DrawFn, timestamp: int = 180_000) -> RegimeInputSnapshot:
    def v() -> Any:
        return draw(values)

    return RegimeInputSnapshot(
        symbol="TEST",
        timestamp=timestamp,
        market=MarketSnapshot(v(), v(), v(), v(), v(), draw(levels), v(), v()),
        derivatives=DerivativesSnapshot(v(), v(), v(), v(), v(), v(), v(), v()),
        flow=FlowSnapshot(v(), v(), v(), v()),
        context=ContextSnapshot(v(), v(), v(), v(), v()),
    )


@settings(max_examples=150, deadline=None)
@given(snapshots())
def test_run_never_raises_and_is_deterministic(snap: RegimeInputSnapshot) -> None:
    first = run(snap)
    assert first == run(snap)
    assert 0.0 <= first.confidence <= 1.0
    assert first.drivers
    assert first.permissions
    belief = first.belief_by_regime
    assert belief is not None
    assert abs(sum(belief.values()) - 1.0) < 1e-9


@settings(max_examples=40, deadline=None)
@given(st.lists(snapshots(), min_size=1, max_size=5), st.integers(min_value=0, max_value=2))
def test_run_with_hysteresis_never_raises_and_is_deterministic(
    snaps: list[RegimeInputSnapshot], dup: int
) -> None:
    def replay() -> list[object]:
        store = HysteresisStore()
        cfg = HysteresisConfig(reset_max_gap_ms=360_000)
        out: list[object] = []
        for i, snap in enumerate(snaps):
            ts = (i + 1) * 180_000 * (1 + dup * (i % 2)) if i else 180_000
            retimed = RegimeInputSnapshot(
                snap.symbol, ts, snap.market, snap.derivatives, snap.flow, snap.context
            )
            out.append(run_with_hysteresis(retimed, store, cfg))
            out.append(run_with_hysteresis(retimed, store, cfg))  # redelivery: a no-op
        return out

    first = replay()
    assert first == replay()
