"""The pytest plugin and the context manager, used as another project would: the documented example runs green."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import boto3

from cronbridge.testing import running_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pytest" / "test_seed_batch.py"


def test_the_documented_example_passes_in_a_project_of_its_own(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "test_seed_batch.py")
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "3 passed" in ran.stdout


def test_the_plugin_is_registered_through_the_pytest11_entry_point(tmp_path: Path) -> None:
    listed = subprocess.run([sys.executable, "-m", "pytest", "--fixtures", "-q", "-p", "no:cacheprovider"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    for fixture in ("cronbridge", "cronbridge_clock", "cronbridge_client", "cronbridge_env"):
        assert f"\n{fixture} " in listed.stdout or f"\n{fixture}\n" in listed.stdout, listed.stdout[-3000:]


def test_the_context_manager_starts_a_server_with_clients_clock_and_environment() -> None:
    with running_server() as server:
        assert server.env["AWS_ENDPOINT_URL"] == server.endpoint
        ecs = boto3.client("ecs", endpoint_url=server.env["AWS_ENDPOINT_URL"], region_name=server.region,
                           aws_access_key_id=server.env["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=server.env["AWS_SECRET_ACCESS_KEY"])
        ecs.create_cluster(clusterName="one")
        before = server.clock.now()
        after = server.clock.advance(hours=1, minutes=30)
        assert (after - before).total_seconds() == 5400
        server.reset()
        assert server.client("ecs").list_clusters()["clusterArns"] == []
        data_dir = server.data_dir
    assert server.proc is None and not data_dir.exists()
