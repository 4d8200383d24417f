"""Installable: scripts/newcomer builds the wheel and sdist, installs the wheel in a fresh virtualenv, runs the demo,
starts a server from it and runs the documented pytest example against it (no checkout on the path); the failed run
the example leaves is then seen failed in the console, in Chromium."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_wheel_installs_in_a_fresh_venv_and_runs_the_demo_and_the_example(tmp_path: Path, page: Page) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CRONBRIDGE_"))}
    done = subprocess.run([str(REPO / "scripts" / "newcomer"), "--keep-server", str(tmp_path)], capture_output=True,
                          text=True, timeout=1200, env=env)
    server = int((tmp_path / "server.pid").read_text()) if (tmp_path / "server.pid").exists() else None
    try:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "Hello,World!" in done.stdout and "3 passed" in done.stdout
        assert "newcomer: first green test" in done.stdout
        endpoint = re.search(r"newcomer: server (\S+)", done.stdout)
        assert endpoint is not None
        failed_run_in_the_console(page, endpoint.group(1))
    finally:
        if server is not None:
            os.kill(server, signal.SIGTERM)
    [wheel] = (tmp_path / "dist").glob("*.whl")
    [sdist] = (tmp_path / "dist").glob("*.tar.gz")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert any(n.startswith("cronbridge/web/templates/") for n in names)
    assert "License-Expression: MIT" in metadata and "Classifier: Framework :: Pytest" in metadata
    assert "Project-URL: Documentation" in metadata and "Requires-Python: >=3.11" in metadata
    assert "[pytest11]\ncronbridge = cronbridge.testing.plugin" in entry_points
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
    assert any(m.endswith("/LICENSE") for m in members) and any("/src/cronbridge/web/static/" in m for m in members)


def failed_run_in_the_console(page: Page, endpoint: str) -> None:
    """The example's last test left a run that exited 3: the console shows it red with its exit code."""
    page.goto(f"{endpoint}/console/")
    page.get_by_label("Access key ID").fill("AKIANEWCOMER00000001")
    page.get_by_label("Secret access key").fill("newcomer-secret")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{endpoint}/console/rules/hello")
    expect(page.locator("#invocations .badge.failed")).to_have_text("FAILED (exit 3)")
    page.goto(f"{endpoint}/console/tasks?failed=1")
    expect(page.locator("#tasks tbody tr.failed")).to_have_count(1)
