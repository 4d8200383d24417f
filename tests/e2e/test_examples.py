"""examples/seed-fixed runs as its README says, on the process launcher and on Docker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def readme_steps(server: Any, tmp_path: Path) -> None:
    credentials = server.data_dir / "admin-credentials"
    assert credentials.exists()
    env = {**os.environ, "AWS_SHARED_CREDENTIALS_FILE": str(credentials), "AWS_ENDPOINT_URL": server.endpoint,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"), "NO_COLOR": "1"}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "CRONBRIDGE_ENDPOINT"):
        env.pop(name, None)

    def run(*command: str) -> str:
        done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    state = tmp_path / "seed-fixed"
    run("cp", "-r", str(REPO / "examples" / "seed-fixed"), str(state))  # keep the state file out of the checkout
    run(str(BIN / "aws"), "ecs", "create-cluster", "--cluster-name", "default")
    run(str(BIN / "cronbridge"), "apply", str(state), "-auto-approve")
    ran = run(str(BIN / "cronbridge"), "run-now", "hello", "--wait")
    assert "SUCCEEDED" in ran and "hello=0" in ran
    assert "Hello,World!" in run(str(BIN / "cronbridge"), "logs", "tail", "/ecs/fargate-task-definition")
    run(str(BIN / "cronbridge"), "destroy", str(state), "-auto-approve")


def test_the_fixed_seed_runs_as_its_readme_says_on_the_process_launcher(server_factory: Any, tmp_path: Path) -> None:
    readme_steps(server_factory(launcher="process"), tmp_path)


@pytest.mark.docker
def test_the_fixed_seed_runs_as_its_readme_says_on_docker(docker_engine: None, server_factory: Any,
                                                          tmp_path: Path) -> None:
    built = subprocess.run([str(REPO / "scripts" / "busybox-image")], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0 and "built cronbridge/busybox:latest" in built.stdout, built.stderr
    readme_steps(server_factory(launcher="docker"), tmp_path)
