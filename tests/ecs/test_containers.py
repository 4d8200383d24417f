"""Container definitions to launch specs: environment files and precedence, volumes, health checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from cronbridge.ecs.containers import environment, health_check, mounts, read_env_file
from cronbridge.errors import LaunchError
from cronbridge.launchers.base import Mount
from cronbridge.model.ecs import ContainerDefinition, ContainerOverride, KeyValue, TaskDefinition


def test_env_files_then_environment_then_overrides(tmp_path: Path) -> None:
    env_file = tmp_path / "a.env"
    env_file.write_text("# comment\nA=file\nB=file\n\nnot a pair\nC=x=y\n")
    definition = ContainerDefinition(name="app", environment_files=[{"value": f"file://{env_file}", "type": "s3"}],
                                     environment=[KeyValue("B", "definition")])
    override = ContainerOverride(name="app", environment=[KeyValue("A", "override")])
    assert environment(definition, override) == {"A": "override", "B": "definition", "C": "x=y"}


def test_an_s3_env_file_cannot_be_read_here() -> None:
    with pytest.raises(LaunchError) as caught:
        read_env_file("arn:aws:s3:::bucket/app.env")
    assert caught.value.kind == "ResourceInitializationError"


def test_mount_points_resolve_host_shared_and_task_volumes() -> None:
    task = TaskDefinition(volumes=[{"name": "h", "host": {"sourcePath": "/srv"}},
                                   {"name": "s", "dockerVolumeConfiguration": {"scope": "shared"}},
                                   {"name": "t"}])
    definition = ContainerDefinition(mount_points=[
        {"sourceVolume": "h", "containerPath": "/in", "readOnly": True},
        {"sourceVolume": "s", "containerPath": "/shared"}, {"sourceVolume": "t", "containerPath": "/tmp"}])
    assert mounts("tid", task, definition) == (
        Mount("/in", host_path="/srv", read_only=True), Mount("/shared", volume_name="s"),
        Mount("/tmp", volume_name="cb-tid-t"))


def test_a_health_check_keeps_ecs_defaults() -> None:
    check = health_check(ContainerDefinition(health_check={"command": ["CMD-SHELL", "curl -f x || exit 1"]}))
    assert check is not None
    assert (check.interval, check.timeout, check.retries, check.start_period) == (30, 5, 3, 0)
    assert check.argv() == ["sh", "-c", "curl -f x || exit 1"]
