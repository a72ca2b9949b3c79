"""SchemaResolver backed by a Confluent Schema Registry (confluent_kafka.schema_registry's client)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ConfluentRegistryResolver:
    """Registers and looks up writer schemas in a Schema Registry; ids are cached by the client."""

    def __init__(self, url: str, conf: Mapping[str, str] | None = None) -> None:
        try:
            from confluent_kafka.schema_registry import SchemaRegistryClient
        except ImportError as exc:  # the client needs confluent-kafka's `schemaregistry` extra
            raise RuntimeError(
                "Schema Registry support needs confluent-kafka[schemaregistry] installed"
            ) from exc
        self._client: Any = SchemaRegistryClient({"url": url, **(conf or {})})

    def register(self, subject: str, schema_text: str) -> int:
        """Register the schema under the subject (idempotent on the registry side); return its id."""
        from confluent_kafka.schema_registry import Schema

        return int(self._client.register_schema(subject, Schema(schema_text, "AVRO")))

    def schema_text(self, schema_id: int) -> str:
        """The schema text of an id."""
        return str(self._client.get_schema(schema_id).schema_str)
