"""The image's install step, run without Docker: what deploy/Dockerfile copies is enough to build the venv.

The test copies exactly the Dockerfile's COPY sources into an empty folder, runs the same
`uv sync --frozen --no-dev --no-editable` into a fresh venv, and then, from outside any checkout, the
installed wheels must carry the Avro schemas, run a service entry point (which rejects a bad setting by
name) and the container healthcheck. The image's native step too: a throwaway venv with the dev tools
compiles the composer and the engine into a tree the runtime venv then loads (XRAY_NATIVE_DIR).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from xray_testing.paths import repo_root

ROOT = repo_root()
# Needs the Avro schemas inside the installed xray_contracts wheel.
ROUND_TRIP = """
from xray_contracts.codec import codec_for
from xray_contracts.state_gate import StateGateControl
value = StateGateControl("state_gate_control", "1", "resume", "BTCUSDT")
codec = codec_for(StateGateControl)
assert codec.decode(codec.encode(value)) == value
"""


# The runtime venv loads the compiled modules the throwaway build venv made.
NATIVE_LOADED = """
import composer.history, regime_engine.engine
from regime_engine.native import compiled_modules
assert {"composer.history", "regime_engine.engine"} <= set(compiled_modules()), compiled_modules()
"""


def uv_binary() -> str:
    for candidate in (shutil.which("uv"), str(ROOT / ".cache" / "uvenv" / "bin" / "uv")):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.skip("no uv binary (make setup bootstraps one)")


def copied_sources() -> list[str]:
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    sources: list[str] = []
    for line in re.findall(r"^COPY\s+(?!--from)(.+?)\s+\S+$", text, flags=re.MULTILINE):
        sources += line.split()
    return sources


@pytest.mark.slow
def test_the_dockerfile_install_step_builds_a_working_venv(tmp_path: Path) -> None:
    context = tmp_path / "src"
    context.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv", "tests")
    for source in copied_sources():
        origin = ROOT / source
        target = context / source
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, target, ignore=ignore)
        else:
            shutil.copy2(origin, target)
    venv = tmp_path / "venv"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
    done = subprocess.run(
        [uv_binary(), "sync", "--frozen", "--no-dev", "--no-editable", "--quiet"],
        cwd=context,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    python = str(venv / "bin" / "python")
    clean = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    def run(*args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            cwd=outside,
            env={**clean, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    schemas = run(python, "-c", ROUND_TRIP)
    assert schemas.returncode == 0, schemas.stderr
    bad = run(
        python,
        "-m",
        "consumers.state_gate",
        extra={"XRAY_KAFKA__BOOTSTRAP_SERVERS": "k:1", "XRAY_GATE__MAX_GAP_MS": "x"},
    )
    assert bad.returncode == 2, bad.stderr
    assert "XRAY_GATE__MAX_GAP_MS" in bad.stderr
    health = run(python, "-m", "xray_ops.healthcheck", extra={"XRAY_HTTP__PORT": "1"})
    assert health.returncode == 1
    assert run(str(venv / "bin" / "xray"), "topics", "--help").returncode == 0

    if shutil.which("cc") is None:
        return  # no C compiler here: the image's native step needs one (it installs gcc)
    build_venv = tmp_path / "native-venv"
    native_dir = tmp_path / "native"
    done = subprocess.run(
        [uv_binary(), "sync", "--frozen", "--no-editable", "--quiet"],
        cwd=context,
        env={**env, "UV_PROJECT_ENVIRONMENT": str(build_venv)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    built = run(
        str(build_venv / "bin" / "python"),
        "-m",
        "xray_ops.native_build",
        extra={"XRAY_NATIVE_DIR": str(native_dir), "PATH": f"{build_venv / 'bin'}:/usr/bin:/bin"},
    )
    assert built.returncode == 0, built.stdout + built.stderr
    loaded = run(python, "-c", NATIVE_LOADED, extra={"XRAY_NATIVE_DIR": str(native_dir)})
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stderr == ""  # no "stale tree" warning: the wheels' sources match the build's
