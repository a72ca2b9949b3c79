"""Run Kafka's own console tools (kafka-console-consumer, kafka-topics, ...) from the Maven jars."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from xray_testing.kafka_jars import classpath, ensure_jars, java_executable
from xray_testing.paths import repo_root

# Script name in a Kafka distribution's bin/ → the main class it runs (Kafka 4.1).
TOOL_CLASSES: Final[dict[str, str]] = {
    "kafka-console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
    "kafka-console-producer": "org.apache.kafka.tools.ConsoleProducer",
    "kafka-topics": "org.apache.kafka.tools.TopicCommand",
    "kafka-consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "kafka-transactions": "org.apache.kafka.tools.TransactionsCommand",
    "kafka-get-offsets": "org.apache.kafka.tools.GetOffsetShell",
}


def tools_log4j2_config() -> Path:
    """log4j2 settings that keep the tools' stdout free of log lines."""
    return repo_root() / "deploy" / "kafka" / "tools-log4j2.properties"


def console_tool_command(tool: str, args: Sequence[str]) -> list[str]:
    """The argv running `tool` (a name of TOOL_CLASSES or a fully qualified main class) with args."""
    main_class = TOOL_CLASSES.get(tool, tool)
    return [
        java_executable(),
        "-Xmx256m",
        "-XX:TieredStopAtLevel=1",
        f"-Dlog4j2.configurationFile={tools_log4j2_config()}",
        "-cp",
        classpath(ensure_jars()),
        main_class,
        *args,
    ]


def run_console_tool(
    tool: str, args: Sequence[str], *, timeout_s: float = 120.0, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a console tool to completion and return its output (the caller checks returncode)."""
    return subprocess.run(
        console_tool_command(tool, args),
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def console_consume(
    bootstrap: str, topic: str, *, max_messages: int, timeout_ms: int = 30000, extra: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """kafka-console-consumer from the beginning of `topic`, read_committed, up to max_messages."""
    args = [
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        "--from-beginning",
        "--isolation-level",
        "read_committed",
        "--max-messages",
        str(max_messages),
        "--timeout-ms",
        str(timeout_ms),
        *extra,
    ]
    return run_console_tool("kafka-console-consumer", args, timeout_s=timeout_ms / 1000 + 60)


def default_bootstrap() -> str | None:
    """$KAFKA_BOOTSTRAP_SERVERS, else the running managed local broker, else None."""
    from_env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if from_env:
        return from_env
    from xray_testing.local_broker import running_broker  # local: keeps this module light to import

    broker = running_broker()
    return broker.bootstrap if broker is not None else None


def main(argv: list[str] | None = None) -> int:
    """`python -m xray_testing.console_tools TOOL [args]`: run a Kafka tool, adding --bootstrap-server."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(
            "usage: python -m xray_testing.console_tools TOOL [tool args...]\n"
            f"tools: {', '.join(TOOL_CLASSES)} (or a main class name)",
            file=sys.stderr,
        )
        return 2
    tool, rest = args[0], args[1:]
    if "--bootstrap-server" not in rest:
        bootstrap = default_bootstrap()
        if bootstrap is None:
            print("no broker: set KAFKA_BOOTSTRAP_SERVERS or run `make kafka-up`", file=sys.stderr)
            return 1
        rest = ["--bootstrap-server", bootstrap, *rest]
    return subprocess.run(console_tool_command(tool, rest), check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
