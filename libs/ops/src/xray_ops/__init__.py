"""Operating xray-vision: the local stack, topic-replay backtests, status and the config reference."""
