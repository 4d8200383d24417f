"""The scheduler: fires rules and schedules on time, exactly once per slot, and records every outcome."""
