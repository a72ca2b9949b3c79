"""market_data depends on no downstream layer (fact sheet behaviour 67)."""

from __future__ import annotations

from pathlib import Path

import market_data

DOWNSTREAM = ("regime_engine", "composer", "orchestrator", "consumers", "state_gate", "analysis_engine")


def test_no_source_file_names_a_downstream_package() -> None:
    root = Path(market_data.__file__).parent
    offenders = [
        (path.name, name)
        for path in root.rglob("*.py")
        for name in DOWNSTREAM
        if f"import {name}" in (text := path.read_text(encoding="utf-8"))
        or f"from {name}" in text
        or "regime_engine" in text
    ]
    assert offenders == []
