"""Webhook delivery against a real HTTP server on loopback; entry-point discovery of modules."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import EntryPoint
from typing import Any

import pytest
from consumers.analysis_engine import AnalysisEngine, AnalysisEngineConfig, ModuleConfig, RegistryError
from consumers.analysis_engine.contracts import ArtifactEmittedPayload
from consumers.analysis_engine.discovery import (
    ENTRY_POINT_GROUP,
    DiscoveryError,
    discover_modules,
    discover_registry,
)
from consumers.analysis_engine.modules.builtin import WebhookOutput
from consumers.analysis_engine.testing import gate_event, regime_output


class Recorder:
    """What the loopback server saw, and what it should answer next."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.delay_s = 0.0


@pytest.fixture
def server() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            recorder.requests.append(({k: v for k, v in self.headers.items()}, body))
            if recorder.delay_s:
                time.sleep(recorder.delay_s)
            status = recorder.statuses.pop(0) if recorder.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/hook", recorder
    finally:
        httpd.shutdown()
        httpd.server_close()


def webhook_run(url: str, **cfg: Any) -> tuple[AnalysisEngine, WebhookOutput, ArtifactEmittedPayload, str]:
    """Run the built-ins + webhook over a regime change and return the webhook artifact and its event key."""
    from consumers.analysis_engine import ModuleRegistry
    from consumers.analysis_engine.modules.builtin import builtin_modules

    modules = builtin_modules()
    webhook = next(m for m in modules if isinstance(m, WebhookOutput))
    webhook._sleep = lambda _s: None  # no real waiting between attempts in tests
    engine = AnalysisEngine(
        registry=ModuleRegistry(modules=modules),
        config=AnalysisEngineConfig(
            enabled_modules=[
                "signal.regime",
                "detector.regime_transition",
                "detector.crowding",
                "detector.liquidation_cascade",
                "rule.assessment",
                "output.webhook",
            ],
            module_configs=[ModuleConfig(module_id="output.webhook", config={"url": url, **cfg})],
        ),
    )
    engine.consume(gate_event("r1", timestamp=100, regime=regime_output("CHOP_BALANCED")))
    events = engine.consume(gate_event("r2", timestamp=200, regime=regime_output("TREND_BUILD_UP")))
    hooks = [
        e
        for e in events
        if isinstance(e.payload, ArtifactEmittedPayload) and e.payload.module_id == "output.webhook"
    ]
    assert len(hooks) == 1
    payload = hooks[0].payload
    assert isinstance(payload, ArtifactEmittedPayload)
    return engine, webhook, payload, hooks[0].event_key


def test_webhook_posts_the_alert(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    engine, webhook, artifact, key = webhook_run(url)
    ctx_event = gate_event("r2", timestamp=200, regime=regime_output("TREND_BUILD_UP"))
    assert webhook.deliver(
        engine.run_context(ctx_event), artifact, engine.module_settings("output.webhook"), key
    )
    assert webhook.last_attempts == 1
    headers, body = recorder.requests[0]
    assert json.loads(body) == artifact.payload
    assert headers["Idempotency-Key"] == "r2:ArtifactEmitted:output.webhook:webhook"
    assert headers["Content-Type"] == "application/json"
    # The URL (may carry a token) never appears in the artifact.
    assert url not in artifact.payload_json


def test_webhook_retries_transient_failures(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    recorder.statuses = [503, 500]
    engine, webhook, artifact, key = webhook_run(url, max_attempts=3)
    ctx = engine.run_context(gate_event("r2", timestamp=200))
    assert webhook.deliver(ctx, artifact, engine.module_settings("output.webhook"), key)
    assert webhook.last_attempts == 3
    assert len(recorder.requests) == 3


def test_webhook_gives_up_after_bounded_attempts(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    recorder.statuses = [503, 503, 503, 503]
    engine, webhook, artifact, key = webhook_run(url, max_attempts=2)
    ctx = engine.run_context(gate_event("r2", timestamp=200))
    assert not webhook.deliver(ctx, artifact, engine.module_settings("output.webhook"), key)
    assert len(recorder.requests) == 2


def test_webhook_does_not_retry_client_errors(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    recorder.statuses = [400]
    engine, webhook, artifact, key = webhook_run(url, max_attempts=3)
    ctx = engine.run_context(gate_event("r2", timestamp=200))
    assert not webhook.deliver(ctx, artifact, engine.module_settings("output.webhook"), key)
    assert len(recorder.requests) == 1


def test_webhook_timeout_counts_as_failed_attempt(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    recorder.delay_s = 0.4
    engine, webhook, artifact, key = webhook_run(url, max_attempts=2, timeout_s=0.1)
    ctx = engine.run_context(gate_event("r2", timestamp=200))
    assert not webhook.deliver(ctx, artifact, engine.module_settings("output.webhook"), key)
    assert webhook.last_attempts == 2


def test_webhook_unreachable_host() -> None:
    engine, webhook, artifact, key = webhook_run("http://127.0.0.1:9/hook", max_attempts=2, timeout_s=0.2)
    ctx = engine.run_context(gate_event("r2", timestamp=200))
    assert not webhook.deliver(ctx, artifact, engine.module_settings("output.webhook"), key)
    assert webhook.last_attempts == 2


def test_builtins_are_discovered_through_the_entry_point_group() -> None:
    ids = [m.definition.module_id for m in discover_modules()]
    assert {
        "signal.regime",
        "detector.regime_transition",
        "detector.crowding",
        "detector.liquidation_cascade",
        "rule.assessment",
        "output.alerts",
        "output.webhook",
    } <= set(ids)
    assert ids == sorted(ids)


def test_third_party_module_registers_and_runs() -> None:
    point = EntryPoint(
        "signal.example_confidence",
        "consumers.analysis_engine.testing:ExampleThirdPartySignal",
        ENTRY_POINT_GROUP,
    )
    registry = discover_registry([point])
    engine = AnalysisEngine(
        registry=registry,
        config=AnalysisEngineConfig(enabled_modules=["signal.example_confidence"], module_configs=[]),
    )
    events = engine.consume(gate_event(regime=regime_output(confidence=0.9)))
    payload = events[1].payload
    assert isinstance(payload, ArtifactEmittedPayload)
    assert payload.payload == {"bucket": "high"}


def test_bad_entry_points_are_rejected() -> None:
    mismatch = EntryPoint(
        "signal.other", "consumers.analysis_engine.testing:ExampleThirdPartySignal", ENTRY_POINT_GROUP
    )
    with pytest.raises(DiscoveryError, match=r"returned module_id signal.example_confidence"):
        discover_modules([mismatch])
    not_module = EntryPoint("signal.x", "consumers.analysis_engine.testing:not_a_module", ENTRY_POINT_GROUP)
    with pytest.raises(DiscoveryError, match=r"did not return an AnalysisModule"):
        discover_modules([not_module])
    missing = EntryPoint("signal.y", "no_such_package.mod:Thing", ENTRY_POINT_GROUP)
    with pytest.raises(DiscoveryError, match=r"failed to load"):
        discover_modules([missing])
    dup = EntryPoint(
        "signal.example_confidence",
        "consumers.analysis_engine.testing:ExampleThirdPartySignal",
        ENTRY_POINT_GROUP,
    )
    with pytest.raises(RegistryError, match=r"duplicate module_id"):
        discover_registry([dup, dup])
