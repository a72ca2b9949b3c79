"""Root conftest: loads the shared Kafka fixtures (kafka_bootstrap, kafka_namespace, ...) for every test."""

pytest_plugins = ["xray_testing.pytest_plugin"]
