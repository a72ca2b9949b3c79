"""deploy/compose.yaml through a real Compose parser (Debian's docker-compose, no engine needed).

`make test` installs the parser (`make compose-tool`); without it these tests skip locally and fail in
CI, so a missing parser is never a silent pass.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from xray_ops import catalogue as services
from xray_testing.broker_config import server_properties
from xray_testing.paths import repo_root

ROOT = repo_root()
COMPOSE = ROOT / "deploy" / "compose.yaml"
PROFILES = ("dashboard", "monitoring", "schema-registry")
APP_SERVICES = tuple(e.name for e in services.ALL_SERVICES)


def compose_binary() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        message = "no Compose parser: run `make compose-tool` (Debian's docker-compose)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def compose_config(path: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    args = [compose_binary(), "-f", str(path)]
    for profile in PROFILES:
        args += ["--profile", profile]
    return subprocess.run(
        [*args, "config"], capture_output=True, text=True, timeout=120, check=False, cwd=cwd or ROOT
    )


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    result = compose_config(COMPOSE)
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = yaml.safe_load(result.stdout)
    return loaded


def test_the_parser_accepts_the_file(config: dict[str, Any]) -> None:
    assert set(config["services"]) == {"kafka", "topics", *APP_SERVICES, "prometheus", "schema-registry"}


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("  stop_grace_period: 30s", "  stop_grace_periodx: 30s"), "stop_grace_periodx"),
        (("    retries: 6", "    retries: six"), "retries"),
        (("condition: service_completed_successfully", "condition: finished"), "condition"),
        (('    command: ["python", "-m", "orchestrator"]', "    command: 42"), "command"),
    ],
    ids=["unknown-key", "wrong-type", "bad-enum", "bad-command"],
)
def test_a_broken_file_is_rejected(tmp_path: Path, change: tuple[str, str], complaint: str) -> None:
    text = COMPOSE.read_text()
    old, new = change
    assert old in text, f"the test's anchor {old!r} is gone from compose.yaml"
    broken = tmp_path / "deploy" / "compose.yaml"
    broken.parent.mkdir()
    broken.write_text(text.replace(old, new, 1))
    (tmp_path / "deploy" / "prometheus").mkdir()
    (tmp_path / "deploy" / "config").mkdir()
    result = compose_config(broken, cwd=tmp_path)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_kafka_is_a_single_kraft_node_with_the_local_brokers_internal_settings(
    config: dict[str, Any],
) -> None:
    kafka = config["services"]["kafka"]
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", kafka["image"])
    env = {k: str(v) for k, v in kafka["environment"].items()}
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_NODE_ID"] == "1"
    # The settings that make one node work (RF 1 internals, EOS with min ISR 1) are the ones the local
    # broker of deploy/kafka uses; the image maps `a.b.c` to KAFKA_A_B_C.
    local = server_properties(9092, 9093, Path("/tmp"))
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
        "group.initial.rebalance.delay.ms",
        "num.partitions",
        "controller.listener.names",
        "inter.broker.listener.name",
    ):
        assert env["KAFKA_" + key.upper().replace(".", "_")] == local[key], key
    assert "kafka:19092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert "test" in kafka["healthcheck"]


def test_topics_job_runs_the_catalogue_once_before_every_service(config: dict[str, Any]) -> None:
    svc = config["services"]
    assert svc["topics"]["command"][:3] == ["xray", "topics", "create"]
    assert svc["topics"]["restart"] == "no"
    for name in APP_SERVICES:
        depends = svc[name]["depends_on"]
        assert depends["topics"]["condition"] == "service_completed_successfully", name
        assert depends["kafka"]["condition"] == "service_healthy", name


def test_every_service_is_its_own_scalable_container(config: dict[str, Any]) -> None:
    svc = config["services"]
    for entry in services.ALL_SERVICES:
        spec = svc[entry.name]
        assert spec["command"] == ["python", "-m", entry.module], entry.name
        # What stops `--scale NAME=3`: a fixed container name or a fixed host port.
        assert "container_name" not in spec, entry.name
        assert "ports" not in spec, entry.name
        env = spec["environment"]
        assert "XRAY_INSTANCE_ID" not in env, f"{entry.name}: instance ids come from the hostname"
        assert env["XRAY_KAFKA__BOOTSTRAP_SERVERS"] == "kafka:19092"
        assert spec["healthcheck"]["test"] == ["CMD", "python", "-m", "xray_ops.healthcheck", "/readyz"]
        assert spec["image"] == svc["topics"]["image"]
        assert spec["build"]["dockerfile"] == "deploy/Dockerfile"
    assert svc["dashboards"]["profiles"] == ["dashboard"]
    assert svc["prometheus"]["profiles"] == ["monitoring"]
    assert svc["schema-registry"]["profiles"] == ["schema-registry"]
    assert svc["market_data"]["environment"]["XRAY_CONFIG_FILE"] == "/etc/xray/market_data.toml"


def test_prometheus_scrapes_every_processing_service() -> None:
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    names = {n for job in prometheus["scrape_configs"] for sd in job["dns_sd_configs"] for n in sd["names"]}
    assert names == {"market_data", *(e.name for e in services.PROCESSORS)}


def test_dockerfile_is_multi_stage_non_root_with_a_readyz_healthcheck() -> None:
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+\S+", text, flags=re.MULTILINE)
    assert len(stages) == 2
    assert "uv sync --frozen --no-dev --no-editable" in text
    user = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert user
    assert not user[-1].startswith(("0", "root"))
    assert 'CMD ["python", "-m", "xray_ops.healthcheck"]' in text
    for source in re.findall(r"^COPY\s+(?!--from)(.+?)\s+\S+$", text, flags=re.MULTILINE):
        for part in source.split():
            assert (ROOT / part).exists(), f"Dockerfile copies {part}, which does not exist"
