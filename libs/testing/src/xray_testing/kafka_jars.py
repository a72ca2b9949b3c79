"""Fetch the Apache Kafka broker jars from Maven Central once, and find a Java 17+ to run them."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from xray_testing.paths import jars_dir, kafka_cache_dir, pom_path

MARKER_NAME = ".xray-jars-version"
MIN_JAVA_MAJOR = 17


class BrokerSetupError(RuntimeError):
    """The local broker cannot be prepared (no java/mvn, Maven Central unreachable, ...)."""


def jars_version(pom: Path | None = None) -> str:
    """The marker of a jar folder: a digest of the pom that resolved it, so any pom edit re-resolves."""
    return hashlib.sha256((pom or pom_path()).read_bytes()).hexdigest()[:16]


def jars_are_current(target: Path | None = None) -> bool:
    """True when the jar folder exists and was resolved from the current pom."""
    folder = target or jars_dir()
    marker = folder / MARKER_NAME
    return marker.is_file() and marker.read_text().strip() == jars_version()


def ensure_jars(*, force: bool = False, quiet: bool = False) -> Path:
    """Return the jar folder, running mvn only when it is missing or its version marker differs."""
    target = jars_dir()
    if not force and jars_are_current(target):
        return target
    kafka_cache_dir().mkdir(parents=True, exist_ok=True)
    with (kafka_cache_dir() / ".jars.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two concurrent fetches would interleave copies
        if not force and jars_are_current(target):
            return target
        _resolve_into(target, quiet=quiet)
    return target


def _resolve_into(target: Path, *, quiet: bool) -> None:
    """Resolve the pom into a fresh folder, then sync it over `target` jar by jar."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerSetupError("mvn not found on PATH: install Maven 3 to fetch the Kafka broker jars")
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    if not quiet:
        print(f"xray-testing: resolving Kafka jars with mvn into {target}", file=sys.stderr, flush=True)
    cmd = [
        mvn,
        "-B",
        "-q",
        "-Dstyle.color=never",
        "-f",
        str(pom_path()),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={staging}",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip()[-4000:]
        raise BrokerSetupError(f"mvn failed ({result.returncode}): {' '.join(cmd)}\n{tail}")
    target.mkdir(parents=True, exist_ok=True)
    # Sync instead of swapping folders: a running broker keeps jars open from `target`, and only the
    # jars that changed are replaced.
    fresh = {p.name for p in staging.glob("*.jar")}
    for name in fresh:
        src, dst = staging / name, target / name
        if not dst.is_file() or dst.stat().st_size != src.stat().st_size:
            os.replace(src, dst)
    for stale in target.glob("*.jar"):
        if stale.name not in fresh:
            stale.unlink()
    shutil.rmtree(staging, ignore_errors=True)
    (target / MARKER_NAME).write_text(jars_version() + "\n")


def java_executable() -> str:
    """A java launcher of major version 17 or newer: $JAVA_HOME/bin/java first, else the one on PATH."""
    candidates = []
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidates.append(str(Path(java_home) / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(on_path)
    for java in candidates:
        major = java_major_version(java)
        if major is not None and major >= MIN_JAVA_MAJOR:
            return java
    raise BrokerSetupError(f"no Java {MIN_JAVA_MAJOR}+ found (tried {candidates or 'nothing on PATH'})")


def java_major_version(java: str) -> int | None:
    """The major version `java -version` reports, or None when it cannot run."""
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    return parse_java_major(out.stderr + out.stdout)


def parse_java_major(version_text: str) -> int | None:
    """Parse `java -version` output: '"17.0.15"' gives 17, legacy '"1.8.0_392"' gives 8."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_text)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:
        return int(match.group(2))
    return major


def classpath(folder: Path | None = None) -> str:
    """The java -cp value for every jar in the folder (java expands the wildcard itself)."""
    return str((folder or jars_dir()) / "*")
