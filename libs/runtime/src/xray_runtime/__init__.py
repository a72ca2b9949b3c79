"""xray-runtime."""
