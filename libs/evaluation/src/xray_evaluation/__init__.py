"""xray-evaluation."""
