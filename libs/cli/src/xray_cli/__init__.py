"""The `xray` command-line entry point; subcommands register through the `xray.cli` entry points."""
