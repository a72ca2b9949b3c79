"""`xray dashboard`: the live terminal dashboard (same settings as `python -m consumers.dashboards`)."""

from __future__ import annotations

import os

import click


@click.command(context_settings={"ignore_unknown_options": False})
@click.option("--namespace", default=None, help="Topic namespace (XRAY_NAMESPACE, default xray).")
@click.option("--bootstrap", default=None, help="Kafka bootstrap servers (XRAY_KAFKA__BOOTSTRAP_SERVERS).")
@click.option("--refresh-hz", type=float, default=None, help="Frames per second.")
@click.option("--lines", is_flag=True, help="Plain-text line mode instead of the live screen.")
def dashboard(namespace: str | None, bootstrap: str | None, refresh_hz: float | None, lines: bool) -> None:
    """Show symbols, regimes, gates, analysis and stream health live (keys: s r / c p q)."""
    from consumers.dashboards.service import main

    if bootstrap is None and "XRAY_KAFKA__BOOTSTRAP_SERVERS" not in os.environ:
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    overrides = {
        "XRAY_NAMESPACE": namespace,
        "XRAY_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        "XRAY_DASHBOARD__REFRESH_HZ": None if refresh_hz is None else str(refresh_hz),
        "XRAY_DASHBOARD__MODE": "lines" if lines else None,
    }
    os.environ.update({k: v for k, v in overrides.items() if v is not None})
    raise SystemExit(main())
