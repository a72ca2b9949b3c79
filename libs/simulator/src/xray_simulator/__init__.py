"""xray-simulator."""
