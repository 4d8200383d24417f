"""`cronbridge demo` runs the seed's batch end to end on the embedded default and prints Hello,World!."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


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
