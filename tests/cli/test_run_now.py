"""`cronbridge run-now --wait` exits 0 only when every task succeeded, says why otherwise; --follow streams logs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fixtures.cli import cli
from fixtures.seed import create_seed, rule_running


@pytest.fixture
def seeded(cronbridge_server: Any) -> Any:
    create_seed(cronbridge_server)
    return cronbridge_server


def test_a_task_that_exits_non_zero_fails_the_command_with_its_exit_code(seeded: Any) -> None:
    rule_running(seeded, "exits3", ["sh", "-c", "echo about to fail; exit 3"])
    ran = cli(seeded, "run-now", "exits3", "--wait")
    assert ran.returncode == 1
    [reason] = ran.stderr.splitlines()
    assert reason.startswith("cronbridge: error: task ")
    assert "failed: hello exited 3 (EssentialContainerExited" in reason


def test_a_task_that_never_starts_fails_the_command_with_the_reason(seeded: Any) -> None:
    rule_running(seeded, "nostart", ["/no/such/program"])
    ran = cli(seeded, "run-now", "nostart", "--wait")
    assert ran.returncode == 1
    [reason] = ran.stderr.splitlines()
    assert "failed to start (TaskFailedToStart: CannotStartContainerError" in reason and "/no/such/program" in reason
    described = json.loads(cli(seeded, "run-now", "nostart", "--wait", "-o", "json").stdout)
    assert all(c.get("exitCode") != 0 for t in described["tasks"] for c in t["containers"])


def test_follow_prints_the_tasks_log_lines_while_waiting(seeded: Any) -> None:
    rule_running(seeded, "talks", ["sh", "-c", "echo one; sleep 0.5; echo two"])
    ran = cli(seeded, "run-now", "talks", "--wait", "--follow")
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines.index("hello | one") < lines.index("hello | two")
    assert lines.count("hello | two") == 1  # each line once, although polled many times
