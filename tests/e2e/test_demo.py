"""`cronbridge demo` runs the seed's batch end to end on the embedded default and prints Hello,World!."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def test_the_demo_prints_the_schedule_the_lifecycle_and_hello_world(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cronbridge", "demo", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "cron(*/30 * * * ? *)" in out and "every 30 minutes" in out
    assert "launcher: process" in out
    for status in ("RUNNING", "STOPPED"):
        assert status in out
    assert "stopCode=EssentialContainerExited" in out
    assert "ecs/hello/" in out and out.rstrip().endswith("Hello,World!")


@pytest.mark.docker
def test_the_demo_on_docker_without_the_image_says_so_in_one_line(docker_engine: None, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cronbridge", "--log-level", "warning", "demo", "--launcher", "docker",
         "--image", "cronbridge-test/no-such-image:latest", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "cronbridge: error: image 'cronbridge-test/no-such-image:latest' is not in the local Docker engine and "
        "cronbridge never pulls; build one from the static busybox with scripts/busybox-image (then --image "
        "cronbridge/busybox:latest), or use --launcher process"
    )


@pytest.mark.docker
def test_the_demo_runs_on_docker_with_a_local_image(busybox_image: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cronbridge", "--log-level", "warning", "demo", "--launcher", "docker",
         "--image", busybox_image, "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "launcher: docker" in result.stdout and result.stdout.rstrip().endswith("Hello,World!")
