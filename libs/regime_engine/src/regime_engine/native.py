"""Compiled twins (mypyc) of the composer's and the engine's hot modules, used only when they are current.

`make setup` compiles the modules listed in NATIVE_MODULES (xray_ops.native_build) into a native tree
beside the sources: `<repo>/.cache/native/site`, or the directory named by XRAY_NATIVE_DIR. A package
whose modules may be compiled calls `extend_path(__path__)` first thing in its `__init__`, which puts
the tree's folder of that package ahead of the sources, so `import composer.history` loads the
compiled module. That happens only when the tree's manifest was built by this Python from exactly the
sources on disk (sha256 of every .py of both packages): after any edit, or with XRAY_NATIVE=0, every
module is the pure-Python source. Compiled and pure give bit-identical outputs
(libs/regime_engine/tests/test_native.py), so this only changes speed.

Standard library only: it runs while `regime_engine` and `composer` are being imported.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import sysconfig
from collections.abc import MutableSequence
from pathlib import Path

# Packages whose sources the manifest fingerprints (both are compiled as one group).
PACKAGES = ("composer", "regime_engine")
MANIFEST = "MANIFEST.json"
ENV_SWITCH = "XRAY_NATIVE"
ENV_DIR = "XRAY_NATIVE_DIR"
_REPO_ROOT_FROM_HERE = 4  # libs/regime_engine/src/regime_engine/native.py -> the checkout


def default_root() -> Path:
    """Where `make setup` builds the tree: XRAY_NATIVE_DIR, else .cache/native/site of this checkout."""
    configured = os.environ.get(ENV_DIR)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[_REPO_ROOT_FROM_HERE] / ".cache" / "native" / "site"


def package_dir(package: str) -> Path | None:
    """The source folder of a top-level package, found without importing it."""
    spec = importlib.util.find_spec(package) if package not in sys.modules else sys.modules[package].__spec__
    if spec is None or not spec.submodule_search_locations:
        return None
    # the last entry: extend_path may already have put the native folder first
    return Path(list(spec.submodule_search_locations)[-1])


def source_digests() -> dict[str, str]:
    """sha256 of every .py file of PACKAGES, keyed by its path relative to the packages' parent."""
    digests: dict[str, str] = {}
    for package in PACKAGES:
        folder = package_dir(package)
        if folder is None:
            continue
        for path in sorted(folder.rglob("*.py")):
            relative = f"{package}/{path.relative_to(folder).as_posix()}"
            digests[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def build_tag() -> str:
    """The interpreter a compiled module must match (ABI and version)."""
    return f"{sys.implementation.cache_tag} {sysconfig.get_config_var('EXT_SUFFIX')} {sys.version}"


def _warn(message: str) -> None:
    print(f"xray native: {message}; using the pure-Python modules", file=sys.stderr)


@functools.cache
def active_root() -> Path | None:
    """The native tree when it may be used (switched on, built by this Python, from these sources)."""
    if os.environ.get(ENV_SWITCH, "1") == "0":
        return None
    root = default_root()
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        return None  # never built: nothing to say (the pure modules are the reference anyway)
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        _warn(f"{manifest_path} is unreadable")
        return None
    if manifest.get("build_tag") != build_tag():
        _warn(f"{root} was built by another Python ({manifest.get('build_tag')!r})")
        return None
    if manifest.get("sources") != source_digests():
        _warn(f"{root} was built from other sources than these (run `make native`)")
        return None
    if str(root) not in sys.path:
        sys.path.append(str(root))  # the group's shared library is a top-level module there
    return root


def extend_path(path: MutableSequence[str], package: str) -> None:
    """Put the native folder of `package` (dotted name) ahead of its sources when the tree is current."""
    root = active_root()
    if root is None:
        return
    folder = root.joinpath(*package.split("."))
    if folder.is_dir() and str(folder) not in path:
        path.insert(0, str(folder))


def compiled_modules() -> list[str]:
    """Names of the already imported modules of PACKAGES that are compiled (extension modules)."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if name.split(".", 1)[0] in PACKAGES and str(getattr(module, "__file__", "")).endswith(suffixes)
    )
