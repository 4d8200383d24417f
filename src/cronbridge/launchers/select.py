"""Choose the launcher: Docker when an engine answers, else local processes (or as configured: a Swarm only when
asked for)."""

from __future__ import annotations

from pathlib import Path

from cronbridge.launchers.base import Launcher


def choose_launcher(setting: str, docker_host: str | None, spool_root: Path) -> Launcher:
    """`docker`, `process`, `swarm`, `noop`, or `auto`: Docker when an engine answers a ping, else processes (whose
    monitors spool output under `spool_root`). `swarm` talks to the Swarm manager at `docker_host` (DOCKER_HOST), as
    the docker CLI does."""
    from cronbridge.launchers.noop import NoopLauncher
    from cronbridge.launchers.process import ProcessLauncher

    if setting == "noop":
        return NoopLauncher()
    if setting == "process":
        return ProcessLauncher(spool_root)
    if setting == "swarm":
        return _swarm(docker_host)
    docker = _docker(docker_host)
    if setting == "docker":
        if docker is None:
            raise SystemExit("cronbridge: --launcher docker, but no Docker engine answers (is dockerd running?)")
        return docker
    return docker or ProcessLauncher(spool_root)


def _docker(docker_host: str | None) -> Launcher | None:
    try:
        from cronbridge.launchers.docker import DockerLauncher

        launcher = DockerLauncher(docker_host)
    except Exception:  # no engine, no socket, no SDK: the process launcher serves
        return None
    return launcher if launcher.ping() else None


def _swarm(docker_host: str | None) -> Launcher:
    from cronbridge.launchers.swarm import SwarmLauncher

    where = docker_host or "the default Docker socket"
    try:
        launcher = SwarmLauncher(docker_host)
    except Exception as exc:  # no engine, no socket: say so at start-up
        raise SystemExit(f"cronbridge: --launcher swarm, but no Docker engine answers at {where}: {exc}") from exc
    if not launcher.ping():
        raise SystemExit(
            f"cronbridge: --launcher swarm, but the engine at {where} is not a manager of an active Swarm "
            "(docker swarm init, or point DOCKER_HOST at a manager)"
        )
    return launcher
