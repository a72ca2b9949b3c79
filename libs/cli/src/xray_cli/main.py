"""The `xray` command: a click group whose subcommands come from installed packages."""

from __future__ import annotations

from importlib.metadata import entry_points

import click

ENTRY_POINT_GROUP = "xray.cli"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xray-cli")
def cli() -> None:
    """xray-vision: a Kafka-native crypto market regime scanner."""


def _load_subcommands(group: click.Group) -> None:
    """Attach every click command registered under the `xray.cli` entry-point group."""
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        command = ep.load()
        if not isinstance(command, click.Command):
            raise TypeError(f"entry point {ep.name!r} ({ep.value}) is not a click command")
        group.add_command(command, name=ep.name)


def main() -> None:
    """Run the CLI."""
    _load_subcommands(cli)
    cli()
