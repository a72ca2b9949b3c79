"""Structured JSON-line logs: ts, level, service, event (a stable name), then the event's fields."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any, Final

import orjson

from xray_runtime.secrets import REDACTED, is_secret_key

_FIELDS_ATTR: Final = "xray_fields"
_EVENT_ATTR: Final = "xray_event"


def _redact_fields(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (REDACTED if is_secret_key(k) else v) for k, v in fields.items()}


class JsonLineFormatter(logging.Formatter):
    """Formats every log record as one JSON object on one line."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as a JSON line; foreign loggers' messages become event `log`."""
        event = getattr(record, _EVENT_ATTR, None)
        fields: dict[str, Any] = dict(getattr(record, _FIELDS_ATTR, None) or {})
        if event is None:
            event = "log"
            fields["message"] = record.getMessage()
            fields["logger"] = record.name
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self._service,
            "event": event,
        }
        line.update(_redact_fields(fields))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class EventLogger:
    """A thin wrapper over a stdlib logger: `log.info("partitions_assigned", partitions=[...])`."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def _log(self, level: int, event: str, exc_info: bool, fields: dict[str, Any]) -> None:
        if self._logger.isEnabledFor(level):
            self._logger.log(
                level, event, exc_info=exc_info, extra={_EVENT_ATTR: event, _FIELDS_ATTR: fields}
            )

    def debug(self, event: str, **fields: Any) -> None:
        """Log a DEBUG event."""
        self._log(logging.DEBUG, event, False, fields)

    def info(self, event: str, **fields: Any) -> None:
        """Log an INFO event."""
        self._log(logging.INFO, event, False, fields)

    def warning(self, event: str, **fields: Any) -> None:
        """Log a WARNING event."""
        self._log(logging.WARNING, event, False, fields)

    def error(self, event: str, exc_info: bool = False, **fields: Any) -> None:
        """Log an ERROR event, optionally with the current exception's traceback."""
        self._log(logging.ERROR, event, exc_info, fields)


def get_logger(name: str) -> EventLogger:
    """An event logger under the `xray` logger hierarchy."""
    return EventLogger(logging.getLogger(name if name.startswith("xray") else f"xray.{name}"))


def setup_logging(service: str, level: str = "INFO", stream: IO[str] | None = None) -> None:
    """Route all logging through one JSON-line handler on stderr (call once at start)."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonLineFormatter(service))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
