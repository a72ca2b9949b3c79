"""JSON-line logs: stable shape, one line per event, secrets masked."""

from __future__ import annotations

import io
import logging

import orjson
import pytest
from xray_runtime.logs import get_logger, setup_logging


@pytest.fixture
def stream() -> io.StringIO:
    buffer = io.StringIO()
    setup_logging("svc", "DEBUG", stream=buffer)
    return buffer


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def test_event_lines_have_the_stable_fields(stream: io.StringIO) -> None:
    get_logger("svc.part").info("partitions_assigned", partitions=[["t", 0, None]], restore_s=0.5)
    (line,) = lines(stream)
    assert set(line) == {"ts", "level", "service", "event", "partitions", "restore_s"}
    assert line["level"] == "INFO"
    assert line["service"] == "svc"
    assert line["event"] == "partitions_assigned"
    assert line["partitions"] == [["t", 0, None]]
    assert str(line["ts"]).endswith("+00:00")


def test_secret_fields_are_masked_and_levels_filtered(stream: io.StringIO) -> None:
    logging.getLogger().setLevel("INFO")
    log = get_logger("svc")
    log.debug("hidden")
    log.warning("connecting", sasl_password="pw", api_token="tok", host="h")
    (line,) = lines(stream)
    assert line["sasl_password"] == "**********"
    assert line["api_token"] == "**********"
    assert line["host"] == "h"


def test_foreign_loggers_and_exceptions_become_json(stream: io.StringIO) -> None:
    logging.getLogger("urllib3").warning("retrying %s", "x")
    try:
        raise ValueError("boom")
    except ValueError:
        get_logger("svc").error("failed", exc_info=True)
    first, second = lines(stream)
    assert first["event"] == "log"
    assert first["message"] == "retrying x"
    assert first["logger"] == "urllib3"
    assert second["event"] == "failed"
    assert "ValueError: boom" in str(second["exception"])
