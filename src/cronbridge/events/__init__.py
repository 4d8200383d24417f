"""EventBridge rules and targets (the default bus), as domain objects."""
