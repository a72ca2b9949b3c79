"""`xray topics` and `xray tail` (placeholders until the contracts work lands)."""

from __future__ import annotations

import click


@click.group()
def topics() -> None:
    """Create and describe the topics of the catalogue."""


@click.command()
@click.argument("topic")
def tail(topic: str) -> None:
    """Print a topic's records as JSON lines."""
    raise click.ClickException("not implemented yet")
