"""Built-in outputs: `output.alerts` (the `alerts` topic) and `output.webhook` (HTTP POST).

Both compute their alert with the same pure decision (alerting.decide_alert), each with its own state and
policy. Delivery is the shell's job: the service writes `output.alerts` artifacts to the alerts topic in
the run's transaction, and calls `output.webhook`'s `deliver` (HTTP POST, timeout, bounded retry with an
`Idempotency-Key` header so a redelivered run can be deduplicated by the receiver). A delivery outcome is
only logged and counted; it never changes the events computed for the run.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import ClassVar

from consumers.analysis_engine.contracts import ArtifactEmittedPayload, JsonValue, RunContext
from consumers.analysis_engine.modules.base import (
    Dependencies,
    ModuleResult,
    ModuleSettings,
    OutputModule,
    module_definition,
)
from consumers.analysis_engine.modules.builtin.alerting import (
    ALERT_DEPENDENCIES,
    AlertPolicy,
    Severity,
    decide_alert,
)
from pydantic import BaseModel, ConfigDict, Field, field_validator

ALERTS_ID = "output.alerts"
WEBHOOK_ID = "output.webhook"
# Catalogue name of the alerts topic (physical name `{namespace}.alerts.v1`).
ALERTS_TOPIC = "alerts"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class AlertsOutput(OutputModule):
    """Emits artifact `alert` (schema xray.output.alert v1) when decide_alert has something to say."""

    config_model: ClassVar[type[BaseModel] | None] = AlertPolicy
    output_topic: ClassVar[str | None] = ALERTS_TOPIC

    def __init__(self) -> None:
        """Definition: stateful, enabled by default."""
        super().__init__(
            module_definition(
                module_id=ALERTS_ID,
                module_kind="output",
                module_version="1.0.0",
                dependencies=ALERT_DEPENDENCIES,
                artifact_schemas=[("alert", "xray.output.alert", "1")],
                enabled_by_default=True,
                state_schema_id="xray.state.alerts",
                state_schema_version="1",
            )
        )

    def execute(
        self, context: RunContext, dependencies: Dependencies, state: JsonValue | None, config: ModuleSettings
    ) -> ModuleResult:
        """Decide the alert (pure)."""
        alert, new_state = decide_alert(context, dependencies, state, str(config["min_severity"]))
        artifacts = (self.artifact("alert", alert),) if alert is not None else ()
        return ModuleResult(artifacts=artifacts, state_payload=new_state)


class WebhookConfig(BaseModel):
    """Where and how to POST alerts. The URL may carry a token: it is never logged or emitted."""

    model_config = ConfigDict(extra="forbid")
    url: str
    min_severity: Severity = "warning"
    timeout_s: float = Field(default=2.0, gt=0.0, le=30.0)
    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff_s: float = Field(default=0.2, ge=0.0, le=10.0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value


# POST function used by deliver; tests and the service may swap it. Returns the HTTP status.
Poster = Callable[[str, bytes, dict[str, str], float], int]


def urllib_post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
    """POST `body` and return the HTTP status (HTTPError statuses are returned, not raised)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class WebhookOutput(OutputModule):
    """Emits artifact `webhook` (the alert body, schema xray.output.webhook v1) and POSTs it on delivery.

    Delivery: up to `max_attempts` POSTs, each with `timeout_s`, sleeping backoff_s * 2**attempt between
    them; retried on network errors and statuses 408/425/429/5xx; any other status ends the attempts.
    Headers: Content-Type application/json, Idempotency-Key = the ArtifactEmitted event key.
    """

    config_model: ClassVar[type[BaseModel] | None] = WebhookConfig

    def __init__(self, poster: Poster = urllib_post, sleep: Callable[[float], None] = time.sleep) -> None:
        """Definition: stateful, disabled by default (it needs a URL)."""
        super().__init__(
            module_definition(
                module_id=WEBHOOK_ID,
                module_kind="output",
                module_version="1.0.0",
                dependencies=ALERT_DEPENDENCIES,
                artifact_schemas=[("webhook", "xray.output.webhook", "1")],
                enabled_by_default=False,
                state_schema_id="xray.state.webhook",
                state_schema_version="1",
            )
        )
        self._post = poster
        self._sleep = sleep
        self.last_attempts = 0

    def execute(
        self, context: RunContext, dependencies: Dependencies, state: JsonValue | None, config: ModuleSettings
    ) -> ModuleResult:
        """Decide the alert (pure); the POST happens in deliver."""
        alert, new_state = decide_alert(context, dependencies, state, str(config["min_severity"]))
        artifacts = (self.artifact("webhook", alert),) if alert is not None else ()
        return ModuleResult(artifacts=artifacts, state_payload=new_state)

    def deliver(
        self, context: RunContext, artifact: ArtifactEmittedPayload, config: ModuleSettings, event_key: str
    ) -> bool:
        """POST the artifact payload with timeout and bounded retry; True when a 2xx came back."""
        body = artifact.payload_json.encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": event_key}
        attempts = int(config["max_attempts"])
        self.last_attempts = 0
        for attempt in range(attempts):
            self.last_attempts = attempt + 1
            try:
                status = self._post(str(config["url"]), body, headers, float(config["timeout_s"]))
            except (OSError, urllib.error.URLError):
                status = None
            if status is not None and 200 <= status < 300:
                return True
            if status is not None and status not in RETRY_STATUSES:
                return False
            if attempt + 1 < attempts:
                self._sleep(float(config["backoff_s"]) * 2**attempt)
        return False
