"""Static import guard (fact sheet item 47), the seed snippet, and compose() local evidence."""

from __future__ import annotations

import ast
from pathlib import Path
from types import MappingProxyType

from composer.composer import compose
from composer.config import DEFAULT_CONFIG, ComposerConfig
from composer.contracts.evidence import EvidenceOpinion, order_evidence_opinions
from composer.contracts.feature_snapshot import FEATURE_KEYS_V1, FeatureSnapshot, make_feature_snapshot
from composer.evidence import compute_evidence_snapshot
from xray_contracts.raw_market_event import RawMarketEvent

SRC = Path(__file__).resolve().parents[1] / "src" / "composer"
FORBIDDEN = {"orchestrator", "consumers", "random", "secrets", "time", "datetime"}
ENGINE_ALLOWED = {"engine_evidence.py", "legacy_snapshot.py", "observers_v2.py", "composer.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def test_static_import_guard() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert files
    for path in files:
        names = _imports(path)
        assert not names & FORBIDDEN, (path, names & FORBIDDEN)
        if "regime_engine" in names:
            assert path.name in ENGINE_ALLOWED or _only_the_native_loader(path), path


def _only_the_native_loader(path: Path) -> bool:
    """The package __init__ may import regime_engine.native (it picks compiled modules), nothing else."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("regime_engine")
    }
    return path.name == "__init__.py" and modules == {"regime_engine.native"}


def test_seed_snippet_runs() -> None:
    cut_events = [
        RawMarketEvent(
            "raw_market_event",
            "1",
            "TradeTick",
            "source",
            "TEST",
            123,
            124,
            b"",
            {"price": 1.0, "quantity": 2.0, "side": "buy"},
        )
    ]
    feature_snapshot, evidence_snapshot = compose(
        raw_events=cut_events, symbol="TEST", engine_timestamp_ms=180_000
    )
    assert type(feature_snapshot).__name__ == "FeatureSnapshot"
    assert type(evidence_snapshot).__name__ == "EvidenceSnapshot"
    f = feature_snapshot.features
    assert (f["price_last"], f["vwap_3m"], f["cvd_3m"], f["aggressive_volume_ratio_3m"]) == (
        1.0,
        1.0,
        2.0,
        1.0,
    )
    assert f["atr_14"] is None
    assert f["open_interest_latest"] is None


def test_local_evidence_is_directional_projection() -> None:
    values: dict[str, float | None] = dict.fromkeys(FEATURE_KEYS_V1)
    values.update(
        return_3m_atr=1.5,
        return_15m_atr=4.0,
        aggressive_volume_ratio_3m=0.7,
        oi_change_3m=-0.015,
        liquidation_intensity_3m=1.2,
        liquidation_imbalance_3m=1.0,
        sweep_score_3m=0.0,
    )
    snap = make_feature_snapshot("TEST", 180000, values)
    ev = compute_evidence_snapshot(snap)
    assert ev.schema == "evidence_snapshot"
    assert ev.opinions
    assert list(ev.opinions) == list(order_evidence_opinions(ev.opinions))
    by_type = {o.type: o for o in ev.opinions}
    assert by_type["LIQUIDATION_OPINION"].direction == "UP"
    assert by_type["LIQUIDATION_OPINION"].regime == "LIQUIDATION_UP"
    assert by_type["LIQUIDATION_OPINION"].source == "composer.liquidations"
    assert compute_evidence_snapshot(snap) == ev


def test_local_sort_rule() -> None:
    ops = [
        EvidenceOpinion("B", "DOWN", 0.5, 0.2, "b"),
        EvidenceOpinion("A", "UP", 0.2, 0.9, "a"),
        EvidenceOpinion("A", "DOWN", 0.9, 0.1, "a"),
        EvidenceOpinion("A", "DOWN", 0.9, 0.8, "a"),
    ]
    out = order_evidence_opinions(ops)
    assert [o.type for o in out] == ["A", "A", "A", "B"]
    assert [o.confidence for o in out[:2]] == [0.8, 0.1]


def test_config_hash_is_stable_and_sensitive() -> None:
    assert DEFAULT_CONFIG.config_hash() == ComposerConfig().config_hash()
    assert ComposerConfig(lookback_ms=1).config_hash() != DEFAULT_CONFIG.config_hash()


def test_feature_snapshot_is_read_only() -> None:
    snap = make_feature_snapshot("TEST", 0, dict.fromkeys(FEATURE_KEYS_V1))
    assert isinstance(snap.features, MappingProxyType)
    assert isinstance(snap, FeatureSnapshot)
