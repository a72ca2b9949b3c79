"""Build the compiled twins of the composer's and the engine's hot modules with mypyc (`make native`).

A symbol-run (fold a cut into the bar history, compose features and evidence, run the engine with
hysteresis) is pure-Python arithmetic over frozen dataclasses; mypyc compiles the same typed
sources to C (unboxed floats, native attribute access) and roughly halves its CPU time
(bench/bench_engine.py prints both). The sources stay the reference: regime_engine.native loads the
tree only when its manifest matches the sources on disk, and tests compare both bit for bit.

Usage: python -m xray_ops.native_build [--out DIR] [--force]   (needs a C compiler, mypy, setuptools)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from regime_engine import native

# Modules compiled as one group. Left out: the pydantic configs (composer.config,
# regime_engine.hysteresis.config), the contracts (shared with codecs, pickled, and the MISSING
# singleton's class attribute is not a native-class pattern), package __init__s and the loader itself.
NATIVE_MODULES = (
    "composer.bars",
    "composer.ceilings",
    "composer.composer",
    "composer.context",
    "composer.cut_features",
    "composer.engine_evidence",
    "composer.evidence",
    "composer.features",
    "composer.history",
    "composer.history_features",
    "composer.legacy_snapshot",
    "composer.numeric",
    "composer.observers_v2",
    "composer.universe",
    "regime_engine.belief",
    "regime_engine.engine",
    "regime_engine.evidence_extract",
    "regime_engine.explain",
    "regime_engine.hysteresis.advance",
    "regime_engine.hysteresis.record",
    "regime_engine.hysteresis.state",
    "regime_engine.invalidations",
    "regime_engine.model_params",
    "regime_engine.permissions",
    "regime_engine.samples",
    "regime_engine.scoring",
    "regime_engine.signals",
    "regime_engine.vetoes",
    "regime_engine.wire",
)
GROUP = "xray_native"
_SETUP = f"""
import sys
from mypyc.build import mypycify
from setuptools import setup
setup(
    name="xray-native",
    ext_modules=mypycify(sys.argv[1:], opt_level="3", group_name="{GROUP}"),
    script_args=["build_ext", "--inplace"],
)
"""


def manifest_for(sources: dict[str, str]) -> dict[str, object]:
    """What a tree built now from `sources` records about itself."""
    return {"build_tag": native.build_tag(), "modules": list(NATIVE_MODULES), "sources": sources}


def is_current(root: Path, sources: dict[str, str]) -> bool:
    """True when `root` holds a tree built by this Python from exactly `sources`."""
    try:
        return bool(json.loads((root / native.MANIFEST).read_text()) == manifest_for(sources))
    except (OSError, ValueError):
        return False


def build(root: Path, sources: dict[str, str]) -> float:
    """Compile NATIVE_MODULES, whose packages' digests are `sources`, into `root` (replacing it); returns
    the seconds it took."""
    began = time.monotonic()
    work = root.parent / f"{root.name}.build"
    shutil.rmtree(work, ignore_errors=True)
    src = work / "src"
    for package in native.PACKAGES:
        folder = native.package_dir(package)
        if folder is None:
            raise SystemExit(f"native build: package {package} is not installed")
        shutil.copytree(folder, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    files = [name.replace(".", "/") + ".py" for name in NATIVE_MODULES]
    command = [sys.executable, "-c", _SETUP, *files]
    done = subprocess.run(command, cwd=src, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(
            f"native build: mypyc failed (exit {done.returncode}); pure-Python modules stay in use"
        )
    staged = root.parent / f"{root.name}.staged"
    shutil.rmtree(staged, ignore_errors=True)
    for library in src.rglob("*.so"):
        relative = library.relative_to(src)
        if relative.parts[0] == "build":
            continue  # setuptools' own copies; --inplace put the ones we want beside the sources
        target = staged / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(library, target)
    (staged / native.MANIFEST).write_text(json.dumps(manifest_for(sources), indent=1, sort_keys=True))
    shutil.rmtree(root, ignore_errors=True)
    staged.rename(root)
    shutil.rmtree(work, ignore_errors=True)
    return time.monotonic() - began


def main(argv: list[str] | None = None) -> int:
    """Build when missing or stale (or always with --force); print what happened."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="the tree (default: XRAY_NATIVE_DIR or .cache/native/site)"
    )
    parser.add_argument("--force", action="store_true", help="rebuild even when current")
    args = parser.parse_args(argv)
    root: Path = (args.out or native.default_root()).resolve()
    sources = native.source_digests()
    if not args.force and is_current(root, sources):
        print(f"native: {root} is current ({len(NATIVE_MODULES)} compiled modules)")
        return 0
    print(f"native: compiling {len(NATIVE_MODULES)} modules with mypyc into {root} (about a minute)")
    seconds = build(root, sources)
    print(f"native: built in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
