"""How a task's containers become running code: one Launcher protocol, a Docker and a process implementation."""
