"""Restart backoff, metric sums from /metrics text and the last error of a service log."""

from __future__ import annotations

from pathlib import Path

from xray_ops.restart import RestartPolicy
from xray_ops.status import last_error, metric_sums

METRICS = """# HELP xray_records_in_total Input records consumed
# TYPE xray_records_in_total counter
xray_records_in_total{topic="a"} 10.0
xray_records_in_total{topic="b"} 5.0
xray_records_in_created{topic="a"} 1.7e+09
# TYPE xray_consumer_lag gauge
xray_consumer_lag{partition="0",topic="a"} 4.0
xray_consumer_lag{partition="1",topic="a"} -1.0
xray_consumer_lag{partition="2",topic="a"} 3.0
"""


def test_backoff_doubles_to_the_cap_and_resets_after_a_healthy_run() -> None:
    policy = RestartPolicy(min_delay_s=1.0, max_delay_s=8.0, healthy_after_s=60.0)
    assert [policy.delay(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert policy.failures_after(previous_failures=4, uptime_s=3.0) == 5
    assert policy.failures_after(previous_failures=4, uptime_s=61.0) == 1


def test_metric_sums_skip_created_samples_and_unknown_lag() -> None:
    sums = metric_sums(METRICS)
    assert sums["xray_records_in"] == 15.0
    assert sums["xray_consumer_lag"] == 7.0


def test_last_error_reads_json_errors_and_tracebacks(tmp_path: Path) -> None:
    log = tmp_path / "svc.log"
    log.write_text(
        '{"ts":"t1","level":"INFO","event":"started"}\n'
        '{"ts":"t2","level":"ERROR","event":"commit_failed","error":"broker down"}\n'
        '{"ts":"t3","level":"INFO","event":"recovered"}\n'
    )
    assert last_error(log) == "t2 commit_failed: broker down"
    with log.open("a") as fh:
        fh.write('Traceback (most recent call last):\n  File "x", line 1\nValueError: bad input\n')
    assert last_error(log) == "ValueError: bad input"
    assert last_error(tmp_path / "missing.log") is None
