"""A service started with an invalid setting exits non-zero, naming the setting."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run_counter(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("XRAY_")}
    return subprocess.run(
        [sys.executable, "-m", "xray_runtime.examples.counter"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"XRAY_KAFKA__BOOTSTRAP_SERVERS": ""}, "XRAY_KAFKA__BOOTSTRAP_SERVERS: must not be empty"),
        ({}, "XRAY_KAFKA__BOOTSTRAP_SERVERS: is required"),
        (
            {"XRAY_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1", "XRAY_PROCESSING__DECODE_ERROR_POLICY": "shrug"},
            "XRAY_PROCESSING__DECODE_ERROR_POLICY: Input should be 'dlq' or 'fail'",
        ),
        (
            {"XRAY_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1", "XRAY_LOG_LEVEL": "LOUD"},
            "XRAY_LOG_LEVEL: Input should be",
        ),
    ],
    ids=["empty-bootstrap", "missing-bootstrap", "unknown-policy", "unknown-log-level"],
)
def test_invalid_setting_exits_non_zero_naming_it(env: dict[str, str], expected: str) -> None:
    result = run_counter(**env)
    assert result.returncode != 0
    assert expected in result.stderr, result.stderr


def test_secret_values_never_reach_the_error_output() -> None:
    result = run_counter(XRAY_KAFKA__BOOTSTRAP_SERVERS="", XRAY_KAFKA__SASL_PASSWORD="hunter2-very-secret")
    assert result.returncode != 0
    assert "hunter2" not in result.stderr + result.stdout
