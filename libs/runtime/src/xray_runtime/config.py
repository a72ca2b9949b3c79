"""Service settings: pydantic-settings from XRAY_* env vars and an optional TOML file, validated at start."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from xray_runtime.secrets import is_secret_key, redact_mapping

ENV_PREFIX = "XRAY_"
ENV_DELIMITER = "__"
CONFIG_FILE_ENV = "XRAY_CONFIG_FILE"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
# What to do with a record whose bytes the service cannot decode.
DecodeErrorPolicy = Literal["dlq", "fail"]

ConfigValue = str | int | float | bool


def _librdkafka_value(value: ConfigValue) -> str:
    """librdkafka takes every property as a string; booleans are spelled lower-case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# The few librdkafka properties whose names really contain an underscore.
_UNDERSCORE_PROPERTIES = frozenset({"log_level"})


def librdkafka_key(key: str) -> str:
    """`security_protocol` (env / TOML spelling) -> `security.protocol` (librdkafka spelling)."""
    key = key.lower()
    return key if key in _UNDERSCORE_PROPERTIES else key.replace("_", ".")


class KafkaSettings(BaseModel):
    """Connection settings; every key besides the declared ones passes through to librdkafka."""

    model_config = ConfigDict(extra="allow")

    # Broker list, host:port[,host:port...].
    bootstrap_servers: str
    # Client-specific overrides, e.g. XRAY_KAFKA__PRODUCER__LINGER_MS=50.
    producer: dict[str, ConfigValue] = Field(default_factory=dict)
    # Consumer-only pass-through, e.g. XRAY_KAFKA__CONSUMER__SESSION_TIMEOUT_MS=10000.
    consumer: dict[str, ConfigValue] = Field(default_factory=dict)

    @field_validator("bootstrap_servers")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
        return value

    def common_config(self) -> dict[str, str]:
        """librdkafka properties shared by producer and consumer (secrets included: never log this)."""
        props = {"bootstrap.servers": self.bootstrap_servers}
        for key, value in (self.model_extra or {}).items():
            props[librdkafka_key(key)] = _librdkafka_value(value)
        return props

    def producer_overrides(self) -> dict[str, str]:
        """Producer-only pass-through properties."""
        return {librdkafka_key(k): _librdkafka_value(v) for k, v in self.producer.items()}

    def consumer_overrides(self) -> dict[str, str]:
        """Consumer-only pass-through properties."""
        return {librdkafka_key(k): _librdkafka_value(v) for k, v in self.consumer.items()}

    def __repr_args__(self) -> Any:
        """Redact secret-looking pass-through values so repr() and logs never show them."""
        for key, value in super().__repr_args__():
            if key in ("producer", "consumer") and isinstance(value, Mapping):
                yield key, redact_mapping(value)
            elif key is not None and is_secret_key(key):
                yield key, "**********"
            else:
                yield key, value


class HttpSettings(BaseModel):
    """The service's /metrics, /healthz, /readyz server."""

    model_config = ConfigDict(extra="forbid")

    # Address of the /metrics, /healthz and /readyz server; port 0 picks a free one.
    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=0, le=65535)
    # /healthz fails when the processing loop has not turned for this long.
    stall_after_s: float = Field(default=120.0, gt=0)


class ProcessingSettings(BaseModel):
    """How the exactly-once loop batches work into transactions."""

    model_config = ConfigDict(extra="forbid")

    # One transaction per consume() batch: at most this many records (a transaction's fixed cost,
    # ~2 broker round trips, is amortised over the batch)...
    batch_max_records: int = Field(default=50000, ge=1)
    # ...or whatever arrived within this time.
    batch_timeout_ms: int = Field(default=100, ge=1)
    # How often the service's time-driven work (punctuate) runs.
    punctuate_interval_ms: int = Field(default=1000, ge=1)
    # An undecodable input record: "dlq" sends it to `<service>.dlq` and goes on, "fail" stops.
    decode_error_policy: DecodeErrorPolicy = "dlq"
    # librdkafka statistics (consumer lag, queue depth) every N ms; 0 disables.
    statistics_interval_ms: int = Field(default=5000, ge=0)
    # Static group membership (group.instance.id = the transactional id): a restart within the
    # session timeout does not rebalance.
    static_membership: bool = False
    # A batch that keeps aborting is not transient: exit non-zero after this many aborts in a row.
    max_consecutive_aborts: int = Field(default=5, ge=1)
    # A loop that has not turned for this long (a client call stuck past its timeout) exits non-zero so
    # the supervisor restarts the service; 0 turns the watchdog off.
    stall_exit_s: float = Field(default=180.0, ge=0)


class ServiceSettings(BaseSettings):
    """Base settings of every service; subclass it and add the service's own sections."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_DELIMITER,
        extra="forbid",
        validate_default=True,
    )

    kafka: KafkaSettings
    # Topic prefix: `{namespace}.{topic}.v{major}`; a backtest uses its own (bt-<id>).
    namespace: str = Field(default="xray", pattern=r"^[A-Za-z0-9._-]+$")
    # Confluent Schema Registry; set, values use the Confluent framing (else Avro single-object).
    schema_registry_url: str | None = None
    # Names this instance in its transactional id and client ids; unique per replica.
    instance_id: str = Field(default_factory=socket.gethostname, pattern=r"^[A-Za-z0-9._-]+$")
    # JSON log lines on stderr at this level and above.
    log_level: LogLevel = "INFO"
    http: HttpSettings = Field(default_factory=HttpSettings)
    processing: ProcessingSettings = Field(default_factory=ProcessingSettings)
    # A TOML file with the same settings (environment variables win over it).
    config_file: Path | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Priority: constructor args, env vars, then the TOML file named by XRAY_CONFIG_FILE."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = os.environ.get(CONFIG_FILE_ENV)
        if toml_path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml_path)))
        return tuple(sources)


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def setting_name(loc: tuple[int | str, ...], environ: Mapping[str, str] | None = None) -> str:
    """The name of a setting as the user spells it: the env var, or the TOML key if only the file has it."""
    parts = [str(p) for p in loc]
    env_name = ENV_PREFIX + ENV_DELIMITER.join(p.upper() for p in parts)
    env = os.environ if environ is None else environ
    toml_path = env.get(CONFIG_FILE_ENV)
    if env_name not in env and toml_path:
        return f"{'.'.join(parts)} (in {toml_path})"
    return env_name


def _required_leaves(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[tuple[int | str, ...]]:
    """The required settings inside a whole missing section, so the message names what to set."""
    leaves: list[tuple[int | str, ...]] = []
    for name, info in model.model_fields.items():
        if not info.is_required():
            continue
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            leaves += _required_leaves(sub, (*loc, name))
        else:
            leaves.append((*loc, name))
    return leaves


def _field_model(cls: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = cls
    for part in loc:
        info = model.model_fields.get(str(part)) if model is not None else None
        sub = info.annotation if info is not None else None
        model = sub if isinstance(sub, type) and issubclass(sub, BaseModel) else None
    return model


def describe_errors(
    error: ValidationError,
    environ: Mapping[str, str] | None = None,
    settings_cls: type[BaseModel] | None = None,
) -> list[str]:
    """One line per problem, naming the setting; never echoes the offending value (it may be secret)."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        loc = tuple(item["loc"])
        message = item["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if item["type"] == "missing":
            section = _field_model(settings_cls, loc) if settings_cls is not None else None
            leaves = _required_leaves(section, loc) if section is not None else [loc]
            lines += [f"{setting_name(leaf, environ)}: is required" for leaf in leaves or [loc]]
            continue
        lines.append(f"{setting_name(loc, environ)}: {message}")
    return lines


def load_settings(cls: type[SettingsT]) -> SettingsT:
    """Validate settings at start; on error print one line per problem to stderr and exit 2."""
    try:
        return cls()
    except ValidationError as error:
        _exit_with(describe_errors(error, settings_cls=cls))
    except (OSError, ValueError) as error:  # unreadable or malformed TOML file
        _exit_with([f"{CONFIG_FILE_ENV}: {error}"])


def _exit_with(lines: list[str]) -> NoReturn:
    print("invalid configuration:", file=sys.stderr)
    for line in lines:
        print(f"  {line}", file=sys.stderr)
    raise SystemExit(2)
