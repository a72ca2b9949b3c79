"""`python -m market_data --recording ...` replays into the topic; SIGTERM flushes what it accepted."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from market_data.testing import consume_events
from xray_contracts.catalogue import RAW_MARKET_EVENT

RECORDING = "binance_usdm_hftbacktest/2023-04-05_btcusdt_markprice/btcusdt_20230404.dat.gz"


def recording() -> Path:
    value = os.environ.get("XRAY_SAMPLE_DATA")
    if not value:
        pytest.skip("XRAY_SAMPLE_DATA is not set: the real Binance recordings are not available")
    return Path(value) / RECORDING


def command_env(bootstrap: str, namespace: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XRAY_")}
    env.update(
        {
            "XRAY_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
            "XRAY_NAMESPACE": namespace,
            "XRAY_HTTP__PORT": "0",
            "XRAY_INSTANCE_ID": "md-test",
        }
    )
    return env


def stats_of(stderr: str) -> int:
    match = re.search(r"events=(\d+)", stderr)
    assert match, stderr
    return int(match.group(1))


def test_replay_at_max_speed(
    kafka_bootstrap: str, kafka_namespace: str, kafka_create_topics: Callable[[list[object]], list[str]]
) -> None:
    path = recording()
    (topic,) = kafka_create_topics([RAW_MARKET_EVENT])
    done = subprocess.run(
        [sys.executable, "-m", "market_data", "--recording", str(path), "--limit", "3000", "--speed", "max"],
        env=command_env(kafka_bootstrap, kafka_namespace),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    events = stats_of(done.stderr)
    records = consume_events(kafka_bootstrap, topic, events)
    assert len(records) == events
    assert events > 3000  # the mark-price frames give three events each
    assert not [r for r in records if r[2].event_type == "DecodeFailure"]


def test_sigterm_flushes_every_accepted_event(
    kafka_bootstrap: str, kafka_namespace: str, kafka_create_topics: Callable[[list[object]], list[str]]
) -> None:
    path = recording()
    (topic,) = kafka_create_topics([RAW_MARKET_EVENT])
    proc = subprocess.Popen(
        [sys.executable, "-m", "market_data", "--recording", str(path), "--speed", "1"],
        env=command_env(kafka_bootstrap, kafka_namespace),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Paced at recorded speed: once the first records are in the topic the feed is mid-recording.
        assert consume_events(kafka_bootstrap, topic, 1, timeout_s=60)
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    events = stats_of(stderr)
    assert 0 < events < 13_000
    records = consume_events(kafka_bootstrap, topic, events + 1, timeout_s=10)
    assert len(records) == events
