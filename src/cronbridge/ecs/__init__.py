"""ECS's control plane: clusters, task definitions and their validation, and the task registry."""
