"""`make doctor`: which brokers answer and whether the jar cache is current."""

from __future__ import annotations

import os

from xray_testing.broker_probe import is_answering
from xray_testing.container_broker import docker_engine_answers
from xray_testing.kafka_jars import jars_are_current
from xray_testing.local_broker import LocalBroker
from xray_testing.paths import default_run_dir, jars_dir


def report() -> list[str]:
    """One line per fact: jar cache, $KAFKA_BOOTSTRAP_SERVERS, the managed local broker, Docker."""
    lines = [
        f"jars:    {jars_dir()} {'current' if jars_are_current() else 'missing or stale (make kafka-jars)'}"
    ]
    env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if env:
        lines.append(
            f"env:     KAFKA_BOOTSTRAP_SERVERS={env} {'answers' if is_answering(env) else 'does NOT answer'}"
        )
    else:
        lines.append("env:     KAFKA_BOOTSTRAP_SERVERS not set")
    broker = LocalBroker(default_run_dir())
    if broker.is_running():
        answers = "answers" if is_answering(broker.bootstrap) else "does NOT answer"
        lines.append(f"local:   broker pid {broker.pid} at {broker.bootstrap} {answers}")
    else:
        lines.append("local:   no local broker running (make kafka-up)")
    lines.append(f"docker:  engine {'answers' if docker_engine_answers() else 'not reachable'}")
    return lines


if __name__ == "__main__":
    print("\n".join(report()))
