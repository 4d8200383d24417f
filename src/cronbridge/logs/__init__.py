"""CloudWatch Logs: log groups, streams and events (service.py), filter patterns (filter.py)."""
