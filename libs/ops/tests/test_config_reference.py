"""The README's configuration reference is what the settings models say now, and reads them right."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from xray_ops.config_reference import current_block, render, walk
from xray_testing.paths import repo_root


def test_readme_reference_is_current() -> None:
    readme = (repo_root() / "README.md").read_text()
    assert current_block(readme) == render(), "README.md is stale: run `make config-reference`"


class Inner(BaseModel):
    """An inner section."""

    # Must be given when the section is set.
    need: int
    knob: float = 1.0


class Outer(BaseModel):
    # A section whose own default sets `need`.
    inner: Inner = Inner(need=5, knob=2.0)
    items: list[Inner] = Field(default_factory=list, description="Several of them.")
    name: str = "x"  # trailing comment


def test_walk_names_env_vars_defaults_and_meanings() -> None:
    rows = {r.env: r for r in walk(Outer)}
    assert rows["XRAY_INNER__NEED"].default == "`5` (section default)"
    assert rows["XRAY_INNER__KNOB"].default == "`2.0` (section default)"
    assert rows["XRAY_INNER__NEED"].meaning == "Must be given when the section is set."
    assert rows["XRAY_ITEMS"].meaning == "Several of them."
    assert rows["XRAY_ITEMS"].type == "list of Inner"
    assert rows["XRAY_ITEMS[].need"].default == "**required**"
    assert rows["XRAY_NAME"].meaning == "trailing comment"


def test_every_installed_service_has_a_section() -> None:
    text = render()
    for service in ("market_data", "state_gate", "analysis_engine"):
        assert f"#### {service} (" in text
    assert "`XRAY_GATE__MAX_GAP_MS` | int | `180000`" in text
    assert Path(repo_root() / "README.md").read_text().count("XRAY_KAFKA__BOOTSTRAP_SERVERS") >= 2
