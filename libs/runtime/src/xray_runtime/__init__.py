"""xray-runtime: the shared exactly-once Kafka runtime (processor loop, state stores, DLQ, health, metrics).

Service authors need only these names; see Planning/runtime/spec.md for a worked example.
"""

from xray_runtime.config import KafkaSettings, ServiceSettings, load_settings
from xray_runtime.context import Context, InputPartition, Record
from xray_runtime.logs import get_logger, setup_logging
from xray_runtime.processor import InputTopic, Processor
from xray_runtime.reader import OffsetRange, PartitionReader
from xray_runtime.state import PartitionStore, StoreSpec

__all__ = [
    "Context",
    "InputPartition",
    "InputTopic",
    "KafkaSettings",
    "OffsetRange",
    "PartitionReader",
    "PartitionStore",
    "Processor",
    "Record",
    "ServiceSettings",
    "StoreSpec",
    "get_logger",
    "load_settings",
    "setup_logging",
]
