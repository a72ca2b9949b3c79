"""Where the local stack and the replays keep their files (ignored folders under the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

from xray_testing.paths import repo_root

STACK_DIR_ENV = "XRAY_STACK_DIR"


def stack_dir() -> Path:
    """The local stack's folder: state file, logs, demo data ($XRAY_STACK_DIR or .cache/stack)."""
    override = os.environ.get(STACK_DIR_ENV)
    return Path(override).resolve() if override else repo_root() / ".cache" / "stack"


def stack_broker_dir() -> Path:
    """Run folder of the broker `xray up` starts when none is configured (kept between runs)."""
    return repo_root() / ".cache" / "kafka" / "run" / "stack"


def replays_dir() -> Path:
    """Where `xray replay` writes each replay's logs and report unless told otherwise."""
    return repo_root() / ".cache" / "replays"
