"""xray-testing."""
