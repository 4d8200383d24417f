"""CloudWatch-style metrics: custom samples (PutMetricData) and the scheduler's per-rule counts."""
