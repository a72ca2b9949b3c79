"""Settings: env and TOML sources, librdkafka pass-through, error messages, secret redaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from xray_runtime.clients import consumer_config, producer_config, reader_config, transactional_id
from xray_runtime.config import ServiceSettings, describe_errors, librdkafka_key, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("XRAY_"):
            monkeypatch.delenv(key)


def test_env_settings_pass_through_to_librdkafka(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "b1:9092,b2:9092")
    monkeypatch.setenv("XRAY_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("XRAY_KAFKA__SASL_PASSWORD", "s3cret")
    monkeypatch.setenv("XRAY_KAFKA__LOG_LEVEL", "3")
    monkeypatch.setenv("XRAY_KAFKA__PRODUCER__LINGER_MS", "50")
    monkeypatch.setenv("XRAY_KAFKA__CONSUMER__AUTO_OFFSET_RESET", "latest")
    monkeypatch.setenv("XRAY_INSTANCE_ID", "i-1")
    monkeypatch.setenv("XRAY_NAMESPACE", "bt-7")
    s = ServiceSettings()
    common = s.kafka.common_config()
    assert common["bootstrap.servers"] == "b1:9092,b2:9092"
    assert common["security.protocol"] == "SASL_SSL"
    assert common["sasl.password"] == "s3cret"
    assert common["log_level"] == "3"
    prod = producer_config(s, "svc")
    assert prod["linger.ms"] == "50"
    assert prod["transactional.id"] == "bt-7.svc.i-1" == transactional_id(s, "svc")
    assert prod["partitioner"] == "murmur2_random"
    assert prod["enable.idempotence"] == "true"
    assert prod["retry.backoff.ms"] == "10"  # CONCURRENT_TRANSACTIONS retries: not 100 ms per commit
    cons = consumer_config(s, "svc")
    assert cons["auto.offset.reset"] == "latest"
    assert cons["isolation.level"] == "read_committed"
    assert cons["enable.auto.commit"] == "false"
    assert cons["group.id"] == "bt-7.svc"
    assert "linger.ms" not in cons
    assert "group.instance.id" not in cons
    reader = reader_config(s, "svc")
    assert reader["group.id"] != cons["group.id"]


def test_static_membership_uses_the_instance_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "b:1")
    monkeypatch.setenv("XRAY_INSTANCE_ID", "i-2")
    monkeypatch.setenv("XRAY_PROCESSING__STATIC_MEMBERSHIP", "true")
    s = ServiceSettings()
    assert consumer_config(s, "svc")["group.instance.id"] == "xray.svc.i-2"


def test_toml_file_is_a_lower_priority_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "svc.toml"
    cfg.write_text(
        'namespace = "from-file"\nlog_level = "DEBUG"\n[kafka]\nbootstrap_servers = "file:9092"\n'
        '"security.protocol" = "SSL"\n[kafka.producer]\nlinger_ms = 25\nenable_idempotence = true\n'
        "[processing]\nbatch_max_records = 77\n"
    )
    monkeypatch.setenv("XRAY_CONFIG_FILE", str(cfg))
    monkeypatch.setenv("XRAY_NAMESPACE", "from-env")
    s = ServiceSettings()
    assert s.namespace == "from-env"
    assert s.log_level == "DEBUG"
    assert s.processing.batch_max_records == 77
    assert s.kafka.common_config()["security.protocol"] == "SSL"
    assert s.kafka.producer_overrides() == {"linger.ms": "25", "enable.idempotence": "true"}


def test_errors_name_the_setting_as_spelled_by_the_user(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "  ")
    monkeypatch.setenv("XRAY_PROCESSING__DECODE_ERROR_POLICY", "maybe")
    with pytest.raises(ValidationError) as info:
        ServiceSettings()
    lines = describe_errors(info.value, settings_cls=ServiceSettings)
    assert "XRAY_KAFKA__BOOTSTRAP_SERVERS: must not be empty" in lines
    assert any(line.startswith("XRAY_PROCESSING__DECODE_ERROR_POLICY: Input should be") for line in lines)

    monkeypatch.delenv("XRAY_KAFKA__BOOTSTRAP_SERVERS")
    monkeypatch.delenv("XRAY_PROCESSING__DECODE_ERROR_POLICY")
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[kafka]\nbootstrap_servers = ""\n')
    monkeypatch.setenv("XRAY_CONFIG_FILE", str(cfg))
    with pytest.raises(ValidationError) as info:
        ServiceSettings()
    assert describe_errors(info.value) == [f"kafka.bootstrap_servers (in {cfg}): must not be empty"]


def test_load_settings_exits_non_zero_listing_every_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XRAY_HTTP__PORT", "99999")
    monkeypatch.setenv("XRAY_KAFKA__SASL_PASSWORD", "never-print-me")
    with pytest.raises(SystemExit) as info:
        load_settings(ServiceSettings)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "XRAY_KAFKA__BOOTSTRAP_SERVERS: is required" in err
    assert "XRAY_HTTP__PORT: Input should be less than or equal to 65535" in err
    assert "never-print-me" not in err


def test_unknown_top_level_setting_is_rejected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "typo.toml"
    cfg.write_text('namspace = "oops"\n[kafka]\nbootstrap_servers = "b:1"\n')
    monkeypatch.setenv("XRAY_CONFIG_FILE", str(cfg))
    with pytest.raises(ValidationError) as info:
        ServiceSettings()
    assert describe_errors(info.value)[0].startswith("namspace (in")


def test_secrets_never_appear_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "b:1")
    monkeypatch.setenv("XRAY_KAFKA__SASL_PASSWORD", "pw-123")
    monkeypatch.setenv("XRAY_KAFKA__SASL_OAUTHBEARER_CLIENT_SECRET", "cs-456")
    monkeypatch.setenv("XRAY_KAFKA__SSL_KEY_PEM", "pem-789")
    monkeypatch.setenv("XRAY_KAFKA__PRODUCER__SSL_KEY_PASSWORD", "kp-000")
    s = ServiceSettings()
    text = repr(s) + str(s) + repr(s.kafka)
    for secret in ("pw-123", "cs-456", "pem-789", "kp-000"):
        assert secret not in text
    assert "b:1" in text


@pytest.mark.parametrize(
    ("spelled", "librdkafka"),
    [
        ("security_protocol", "security.protocol"),
        ("SASL_MECHANISMS", "sasl.mechanisms"),
        ("log_level", "log_level"),
        ("linger.ms", "linger.ms"),
    ],
)
def test_librdkafka_key_spelling(spelled: str, librdkafka: str) -> None:
    assert librdkafka_key(spelled) == librdkafka
