"""From a container definition and its overrides to what a launcher runs: env files, volumes, ulimits, checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cronbridge.errors import LaunchError
from cronbridge.launchers.base import HealthCheck, Mount
from cronbridge.model.ecs import ContainerDefinition, ContainerOverride, KeyValue, TaskDefinition

_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$")


def environment(definition: ContainerDefinition, override: ContainerOverride | None) -> dict[str, str]:
    """ECS's precedence: environment files, then `environment`, then the override's environment."""
    env: dict[str, str] = {}
    for entry in definition.environment_files or []:
        env.update(read_env_file(str(entry.get("value") or "")))
    env.update(_pairs(definition.environment))
    if override is not None:
        env.update(_pairs(override.environment))
    return env


def _pairs(values: list[KeyValue] | None) -> dict[str, str]:
    return {kv.name: kv.value or "" for kv in values or [] if kv.name}


def read_env_file(ref: str) -> dict[str, str]:
    """A `.env` file (VAR=VALUE lines, `#` comments) from a local path or file:// URL. S3 objects are not reachable
    here, so an `arn:aws:s3:::` value fails as ECS fails when it cannot download the file."""
    path = ref.removeprefix("file://")
    if ref.startswith("arn:"):
        raise LaunchError(
            "ResourceInitializationError",
            f"failed to download env files: {ref}: cronbridge reads environment files from local paths only",
        )
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        why = f"failed to download env files: {path}: {exc.strerror}"
        raise LaunchError("ResourceInitializationError", why) from exc
    env: dict[str, str] = {}
    for line in text.splitlines():
        match = _ENV_LINE.match(line.strip())
        if match and not line.lstrip().startswith("#"):
            env[match.group(1)] = match.group(2)
    return env


def mounts(task_id: str, task: TaskDefinition, definition: ContainerDefinition) -> tuple[Mount, ...]:
    """mountPoints resolved against the task's volumes: host paths bind, Docker volumes by name (task-scoped ones
    and volumes with neither, Fargate's shared task storage, are named after the task)."""
    volumes = {str(v.get("name")): v for v in task.volumes or []}
    found: list[Mount] = []
    for point in definition.mount_points or []:
        volume = volumes.get(str(point.get("sourceVolume")))
        if volume is None:
            continue
        path = str(point.get("containerPath") or "")
        read_only = bool(point.get("readOnly"))
        host = (volume.get("host") or {}).get("sourcePath")
        if host:
            found.append(Mount(container_path=path, host_path=str(host), read_only=read_only))
        else:
            found.append(Mount(container_path=path, volume_name=_volume_name(task_id, volume), read_only=read_only))
    return tuple(found)


def _volume_name(task_id: str, volume: dict[str, Any]) -> str:
    config = volume.get("dockerVolumeConfiguration") or {}
    if config.get("scope") == "shared":
        return str(volume["name"])
    return f"cb-{task_id}-{volume['name']}"


def ulimits(definition: ContainerDefinition) -> tuple[tuple[str, int, int], ...]:
    return tuple(
        (str(u.get("name")), int(u.get("softLimit", 0)), int(u.get("hardLimit", 0))) for u in definition.ulimits or []
    )


def health_check(definition: ContainerDefinition) -> HealthCheck | None:
    check = definition.health_check
    if not check or not check.get("command"):
        return None
    return HealthCheck(
        command=tuple(str(part) for part in check["command"]),
        interval=int(check.get("interval") or 30),
        timeout=int(check.get("timeout") or 5),
        retries=int(check.get("retries") or 3),
        start_period=int(check.get("startPeriod") or 0),
    )
