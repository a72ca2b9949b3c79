"""The compiled (mypyc) twins of the composer and the engine give bit-identical outputs, and a tree
that does not match the sources on disk is never used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from regime_engine import native

DIGEST = Path(__file__).with_name("native_digest.py")
# Set by `make test`: the tree must be built and current (a C compiler is there), not merely optional.
REQUIRE = os.environ.get("XRAY_REQUIRE_NATIVE") == "1"


def digest(env: dict[str, str], windows: int = 40, randoms: int = 2500) -> tuple[dict[str, Any], str]:
    """Run native_digest.py in a fresh interpreter; its JSON line and its stderr."""
    done = subprocess.run(
        [sys.executable, str(DIGEST), str(windows), str(randoms)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_compiled_and_pure_modules_compute_identical_outputs() -> None:
    compiled, _ = digest({native.ENV_SWITCH: "1"})
    if not compiled["compiled"]:
        if REQUIRE:
            pytest.fail("the native tree is missing or stale: `make native` (XRAY_REQUIRE_NATIVE=1)")
        pytest.skip("no current native tree (make native); the pure modules are the only ones in use")
    pure, _ = digest({native.ENV_SWITCH: "0"})
    assert pure["compiled"] == []
    assert "composer.history" in compiled["compiled"]
    assert "regime_engine.engine" in compiled["compiled"]
    assert pure["runs"] == compiled["runs"] > 2500
    assert pure["digest"] == compiled["digest"]


def fake_tree(tmp_path: Path, **manifest: Any) -> Path:
    """A native tree whose only module would break every import of composer.history if it were used."""
    root = tmp_path / "native"
    (root / "composer").mkdir(parents=True)
    (root / "composer" / "history.py").write_text("raise ImportError('the fake native tree was used')\n")
    body = {"build_tag": native.build_tag(), "modules": [], "sources": native.source_digests()} | manifest
    (root / native.MANIFEST).write_text(json.dumps(body))
    return root


def test_a_tree_built_from_other_sources_is_ignored_with_a_warning(tmp_path: Path) -> None:
    sources = native.source_digests()
    sources["composer/history.py"] = "0" * 64
    root = fake_tree(tmp_path, sources=sources)
    out, err = digest({native.ENV_DIR: str(root)}, windows=3, randoms=10)
    assert out["compiled"] == []
    assert "other sources" in err
    assert "pure-Python" in err


def test_a_tree_built_by_another_python_is_ignored_with_a_warning(tmp_path: Path) -> None:
    root = fake_tree(tmp_path, build_tag="cpython-312 .so 3.12.0")
    out, err = digest({native.ENV_DIR: str(root)}, windows=3, randoms=10)
    assert out["compiled"] == []
    assert "another Python" in err


def test_a_current_tree_is_used(tmp_path: Path) -> None:
    # the fake tree matches the sources, so it is loaded: its composer.history is what imports see
    root = fake_tree(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", "import composer.history"],
        check=False,
        env={**os.environ, native.ENV_DIR: str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "the fake native tree was used" in done.stderr


def test_the_switch_turns_a_current_tree_off(tmp_path: Path) -> None:
    root = fake_tree(tmp_path)
    out, err = digest({native.ENV_DIR: str(root), native.ENV_SWITCH: "0"}, windows=3, randoms=10)
    assert out["compiled"] == []
    assert err == ""
