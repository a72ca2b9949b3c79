"""`make test` and `make bench`: run lint + pytest (or the benchmarks) against a broker, never leaking it.

Uses $KAFKA_BOOTSTRAP_SERVERS when set and starts nothing; otherwise starts the managed local broker
(or reuses one already up) and stops it afterwards only if this run started it, also on failure or
SIGTERM. `test` exits with pytest's status (or 1 when only lint failed) and records both in
.cache/test-status.json for .ci/run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from xray_testing.local_broker import down, up
from xray_testing.paths import repo_root

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"
PYTEST_NO_TESTS = 5


def status_file() -> Path:
    """Where `test` records pytest's and lint's exit codes."""
    return repo_root() / ".cache" / "test-status.json"


def _terminate(signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit so `finally` blocks stop the broker."""
    raise SystemExit(128 + signum)


@contextmanager
def broker_env() -> Iterator[dict[str, str]]:
    """An environment naming a usable broker; stops the local broker on exit if this call started it."""
    env = dict(os.environ)
    if env.get(KAFKA_ENV, "").strip():
        print(f"suite: using {KAFKA_ENV}={env[KAFKA_ENV]} (no broker started)", file=sys.stderr, flush=True)
        yield env
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    started = False
    try:
        broker, started = up()
        verb = "started" if started else "reusing"
        print(f"suite: {verb} local broker {broker.bootstrap}", file=sys.stderr, flush=True)
        env[KAFKA_ENV] = broker.bootstrap
        yield env
    finally:
        if started:
            down()
            print("suite: local broker stopped", file=sys.stderr, flush=True)
        signal.signal(signal.SIGTERM, previous)


def run_tests(pytest_args: list[str]) -> int:
    """Lint, then the whole pytest suite; return pytest's status, or 1 if only lint failed."""
    make = shutil.which("make") or "make"
    root = repo_root()
    status_file().unlink(missing_ok=True)
    with broker_env() as env:
        lint = subprocess.run(
            [make, "--no-print-directory", "lint"], cwd=root, env=env, check=False
        ).returncode
        began = time.monotonic()
        tests = subprocess.run(
            [sys.executable, "-m", "pytest", *pytest_args], cwd=root, env=env, check=False
        ).returncode
        took = time.monotonic() - began
    status_file().write_text(
        json.dumps({"pytest": tests, "lint": lint, "pytest_seconds": round(took, 1)}) + "\n"
    )
    if tests == PYTEST_NO_TESTS:
        print("suite: pytest collected NO tests (exit 5)", file=sys.stderr)
    if lint != 0:
        print(f"suite: lint FAILED (exit {lint}); see the ruff/mypy output above", file=sys.stderr)
    print(f"suite: pytest exit {tests} after {took:.0f}s, lint exit {lint}", file=sys.stderr)
    if tests != 0:
        return tests
    return 1 if lint != 0 else 0


def run_pytest(pytest_args: list[str]) -> int:
    """Only pytest (no lint) with the given arguments against a broker: `make fuzz`, `make chaos`."""
    with broker_env() as env:
        return subprocess.run(
            [sys.executable, "-m", "pytest", *pytest_args], cwd=repo_root(), env=env, check=False
        ).returncode


def run_benchmarks() -> int:
    """Run every bench/*.py in turn against one broker; return the first failure's status."""
    root = repo_root()
    # report.py is `make bench`: it runs its own broker and calls the others' measurements
    scripts = sorted(p for p in (root / "bench").glob("*.py") if p.name != "report.py")
    if not scripts:
        print("bench/: no benchmarks yet")
        return 0
    worst = 0
    with broker_env() as env:
        for script in scripts:
            print(f"== {script.relative_to(root)}", flush=True)
            code = subprocess.run([sys.executable, str(script)], cwd=root, env=env, check=False).returncode
            if code != 0:
                print(f"   exit {code}", flush=True)
                worst = worst or code
    return worst


def main(argv: list[str] | None = None) -> int:
    """CLI: `test [pytest args...]`, `pytest [pytest args...]` or `bench`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in {"test", "pytest", "bench"}:
        print(
            "usage: python -m xray_testing.suite test [pytest args...] | pytest [args...] | bench",
            file=sys.stderr,
        )
        return 2
    if args[0] == "bench":
        return run_benchmarks()
    if args[0] == "pytest":
        return run_pytest(args[1:])
    return run_tests(args[1:])


if __name__ == "__main__":
    sys.exit(main())
