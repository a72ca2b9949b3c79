"""xray-contracts."""
