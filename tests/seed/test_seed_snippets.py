"""The seed README's usage snippets run unchanged against our code.

The snippets are read from the seed README beside the project (../shared/seed/README.md, or the path
in XRAY_SEED_README) so that what runs is the user's text, not a copy that could drift.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from composer.contracts import EvidenceSnapshot, FeatureSnapshot
from consumers.analysis_engine.testing import gate_event
from consumers.state_gate.samples import failed
from xray_contracts.raw_market_event import RawMarketEvent

REPO_ROOT = Path(__file__).resolve().parents[2]


def _seed_readme() -> Path | None:
    configured = os.environ.get("XRAY_SEED_README")
    candidate = Path(configured) if configured else REPO_ROOT.parent / "shared" / "seed" / "README.md"
    return candidate if candidate.is_file() else None


def _snippets_by_section(text: str) -> dict[str, list[str]]:
    """Python code blocks grouped by their `## Section` heading, in order."""
    sections: dict[str, list[str]] = {}
    current = ""
    fence: str | None = None
    block: list[str] = []
    for line in text.splitlines():
        if fence is None:
            heading = re.match(r"^## (.+)$", line)
            if heading:
                current = heading.group(1).strip()
            opening = re.match(r"^(`{3,})python\s*$", line.strip())
            if opening:
                fence, block = opening.group(1), []
        elif re.fullmatch(r"`{3,}", line.strip()):
            # The seed mixes 3- and 4-backtick fences; any bare fence line closes the open block.
            sections.setdefault(current, []).append("\n".join(block))
            fence = None
        else:
            block.append(line)
    return sections


# Layers whose snippets must run; a layer joins this list when its issue lands.
READY = [
    "Market Data",
    "Orchestrator",
    "Composer",
    "Regime Engine",
    "State Gate",
    "Analysis Engine",
    "Dashboards",
]

# Names a snippet uses without defining ("given an event named event"); supplied, never edited in.
GIVEN: dict[str, dict[str, object]] = {
    # A one-trade cut, so compose() computes real features rather than an empty snapshot.
    "Composer": {
        "cut_events": [
            RawMarketEvent(
                "raw_market_event",
                "1",
                "TradeTick",
                "binance_usdm",
                "TEST",
                179_000,
                179_001,
                b"{}",
                {"price": 100.0, "quantity": 2.0, "side": "buy"},
            )
        ]
    },
    # An EngineRunFailed built from the envelope fields alone (payload null) and an OPEN gate decision.
    "State Gate": {"event": failed("run-1", 1000, symbol="BTCUSDT", with_payload=False)},
    "Analysis Engine": {"event": gate_event()},
}


def _composer_outputs(namespace: dict[str, object]) -> None:
    """The snippet's two names hold the cut's snapshots, not merely anything."""
    features, evidence = namespace["feature_snapshot"], namespace["evidence_snapshot"]
    assert isinstance(features, FeatureSnapshot)
    assert isinstance(evidence, EvidenceSnapshot)
    assert (features.symbol, features.engine_timestamp_ms) == ("TEST", 180_000)
    assert features.features["price_last"] == 100.0
    assert features.features["cvd_3m"] == 2.0


# What a snippet's names must hold afterwards, where the seed says what it returns.
CHECKS: dict[str, Callable[[dict[str, object]], None]] = {"Composer": _composer_outputs}


@pytest.mark.parametrize("section", READY)
def test_seed_snippet_runs_unchanged(section: str) -> None:
    readme = _seed_readme()
    if readme is None:
        pytest.skip("seed README not found beside the project (set XRAY_SEED_README)")
    snippets = _snippets_by_section(readme.read_text(encoding="utf-8")).get(section)
    assert snippets, f"no python snippet under '## {section}'"
    namespace: dict[str, object] = {"__name__": f"seed_{section}"}
    namespace.update(GIVEN.get(section, {}))
    for code in snippets:  # later snippets of a section may use names from earlier ones
        exec(compile(code, f"<seed {section}>", "exec"), namespace)
    check = CHECKS.get(section)
    if check is not None:
        check(namespace)
