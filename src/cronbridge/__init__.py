"""cronbridge: EventBridge schedules, ECS tasks, CloudWatch Logs and IAM, as AWS runs them, on one machine."""

__version__ = "0.1.0"
