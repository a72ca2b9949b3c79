"""Where the repository, the Kafka jar cache and the broker run folders live."""

from __future__ import annotations

import os
from pathlib import Path

POM_RELATIVE = Path("deploy/kafka/pom.xml")


def repo_root() -> Path:
    """The xray-vision checkout: $XRAY_REPO_ROOT, else the nearest parent holding deploy/kafka/pom.xml."""
    override = os.environ.get("XRAY_REPO_ROOT")
    if override:
        return Path(override).resolve()
    # The workspace installs this package editable, so __file__ sits inside the checkout; fall back to cwd
    # for an installed copy.
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for candidate in (start, *start.parents):
            if (candidate / POM_RELATIVE).is_file():
                return candidate
    raise FileNotFoundError(f"no {POM_RELATIVE} above {Path(__file__).resolve()} or {Path.cwd()}")


def kafka_cache_dir() -> Path:
    """The ignored folder holding the broker jars and run folders."""
    return repo_root() / ".cache" / "kafka"


def jars_dir() -> Path:
    """The folder of Kafka jars that `mvn dependency:copy-dependencies` fills."""
    return kafka_cache_dir() / "libs"


def run_root() -> Path:
    """The parent of every local broker's run folder (config, data, logs, state file)."""
    return kafka_cache_dir() / "run"


def default_run_dir() -> Path:
    """The run folder of the broker managed by `make kafka-up` / `make kafka-down`."""
    return run_root() / "default"


def pom_path() -> Path:
    """The Maven project that resolves the broker and its console tools."""
    return repo_root() / POM_RELATIVE


def log4j2_config_path() -> Path:
    """The broker's log4j2 configuration (logs to a file in the run folder)."""
    return repo_root() / "deploy" / "kafka" / "log4j2.properties"
