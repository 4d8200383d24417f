"""EventBridge Scheduler: schedule groups and schedules (service.py), their checks, and their plans for the engine."""
