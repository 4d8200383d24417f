"""Choose the launcher: Docker when an engine answers, else local processes (or as configured)."""

from __future__ import annotations

from cronbridge.launchers.base import Launcher


def choose_launcher(setting: str, docker_host: str | None) -> Launcher:
    """`docker`, `process`, `noop`, or `auto`: Docker when an engine answers a ping, else processes."""
    from cronbridge.launchers.noop import NoopLauncher
    from cronbridge.launchers.process import ProcessLauncher

    if setting == "noop":
        return NoopLauncher()
    if setting == "process":
        return ProcessLauncher()
    docker = _docker(docker_host)
    if setting == "docker":
        if docker is None:
            raise SystemExit("cronbridge: --launcher docker, but no Docker engine answers (is dockerd running?)")
        return docker
    return docker or ProcessLauncher()


def _docker(docker_host: str | None) -> Launcher | None:
    try:
        from cronbridge.launchers.docker import DockerLauncher

        launcher = DockerLauncher(docker_host)
    except Exception:  # no engine, no socket, no SDK: the process launcher serves
        return None
    return launcher if launcher.ping() else None
