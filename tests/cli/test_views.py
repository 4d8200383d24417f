"""The `cronbridge` look-at-it commands, run as a user runs them (a subprocess) against a real server."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import datetime
from typing import Any

import pytest

from fixtures.cli import COMMAND, cli, env_for
from fixtures.seed import LOG_GROUP, create_broken_rule, create_seed

VIEWS = ["rules", "schedules", "invocations", "run-now", "tasks", "task", "logs"]


@pytest.fixture
def seeded(cronbridge_server: Any) -> Any:
    create_seed(cronbridge_server)
    return cronbridge_server


def test_rules_lists_the_seed_rule_with_its_schedule_in_words_and_next_fire_times(seeded: Any) -> None:
    shown = cli(seeded, "rules")
    assert shown.returncode == 0, shown.stderr
    assert "hello" in shown.stdout and "cron(*/30 * * * ? *)" in shown.stdout
    assert "every 30 minutes" in shown.stdout and "ENABLED" in shown.stdout
    listed = json.loads(cli(seeded, "rules", "--output", "json").stdout)["rules"]
    times = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in listed[0]["nextFireTimes"]]
    assert len(times) == 10 and times == sorted(times)
    assert all(t.minute in (0, 30) and t.second == 0 for t in times)
    assert all((b - a).total_seconds() == 1800 for a, b in zip(times, times[1:], strict=False))


def test_run_now_waits_for_the_task_and_the_other_views_show_it(seeded: Any) -> None:
    ran = cli(seeded, "run-now", "hello", "--wait")
    assert ran.returncode == 0, ran.stderr
    assert "SUCCEEDED" in ran.stdout and "hello=0" in ran.stdout
    history = json.loads(cli(seeded, "invocations", "hello", "-o", "json").stdout)["invocations"]
    assert [(i["outcome"], i["manual"]) for i in history] == [("SUCCEEDED", True)]
    task_id = history[0]["taskArns"][0].rsplit("/", 1)[-1]
    listed = json.loads(cli(seeded, "tasks", "-o", "json").stdout)["tasks"]
    assert [(t["taskId"], t["lastStatus"], t["exitCodes"]) for t in listed] == [(task_id, "STOPPED", {"hello": 0})]
    one = cli(seeded, "task", task_id)
    assert one.returncode == 0 and "EssentialContainerExited" in one.stdout and "lifecycle" in one.stdout
    tail = cli(seeded, "logs", "tail", LOG_GROUP)
    assert tail.returncode == 0 and f"ecs/hello/{task_id} Hello,World!" in tail.stdout


def test_logs_tail_filter_keeps_only_matching_events(seeded: Any) -> None:
    assert cli(seeded, "run-now", "hello", "--wait").returncode == 0
    assert "Hello,World!" in cli(seeded, "logs", "tail", LOG_GROUP, "--filter", "Hello").stdout
    assert cli(seeded, "logs", "tail", LOG_GROUP, "--filter", "Goodbye").stdout == ""


def test_a_failed_run_exits_1_and_shows_why(seeded: Any) -> None:
    create_broken_rule(seeded)
    ran = cli(seeded, "run-now", "broken")
    assert ran.returncode == 1
    assert "FAILED" in ran.stdout and "ClusterNotFoundException" in ran.stdout
    history = json.loads(cli(seeded, "invocations", "broken", "-o", "json").stdout)["invocations"]
    assert history[0]["errorCode"] == "ClusterNotFoundException"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("invocations", "nope"), "no rule named 'nope'"),
        (("run-now", "nope"), "no rule named 'nope'"),
        (("task", "0123456789abcdef"), "no task '0123456789abcdef'"),
        (("logs", "tail", "/no/such/group"), "ResourceNotFoundException"),
        (("logs", "tail", LOG_GROUP, "--since", "ten"), "--since expects"),
    ],
)
def test_errors_are_one_line_on_stderr_with_exit_code_1(seeded: Any, args: tuple[str, ...], message: str) -> None:
    failed = cli(seeded, *args)
    assert failed.returncode == 1
    assert failed.stderr.startswith("cronbridge: error: ") and message in failed.stderr
    assert failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr


def test_an_unreachable_server_is_a_one_line_error(cronbridge_server: Any) -> None:
    failed = cli(cronbridge_server, "rules", "--endpoint", "http://127.0.0.1:9")
    assert failed.returncode == 3 and "cannot reach cronbridge at http://127.0.0.1:9" in failed.stderr


@pytest.mark.parametrize("command", VIEWS)
def test_every_view_has_help(cronbridge_server: Any, command: str) -> None:
    shown = cli(cronbridge_server, command, "--help")
    assert shown.returncode == 0 and "usage: cronbridge" in shown.stdout


def test_schedules_lists_nothing_when_the_server_runs_no_scheduler_schedules(cronbridge_server: Any) -> None:
    shown = cli(cronbridge_server, "schedules", "-o", "json")
    assert shown.returncode == 0 and json.loads(shown.stdout) == {"schedules": []}


def test_tasks_watch_refreshes_until_interrupted(seeded: Any) -> None:
    watching = subprocess.Popen(
        [COMMAND, "tasks", "--watch", "--interval", "0.2"],
        env=env_for(seeded),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watching.stdout is not None
        assert watching.stdout.readline().startswith("-- ")  # the first snapshot's header
        assert cli(seeded, "run-now", "hello", "--wait").returncode == 0
        deadline = time.monotonic() + 10
        seen = ""
        while "STOPPED" not in seen and time.monotonic() < deadline:
            seen += watching.stdout.readline()
        assert "STOPPED" in seen and "hello=0" in seen
    finally:
        watching.send_signal(signal.SIGINT)
        assert watching.wait(10) == 0


def test_logs_tail_follow_prints_new_events_until_interrupted(seeded: Any) -> None:
    following = subprocess.Popen(
        [COMMAND, "logs", "tail", LOG_GROUP, "--follow", "--interval", "0.2"],
        env=env_for(seeded),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)  # following an empty group
        assert cli(seeded, "run-now", "hello", "--wait").returncode == 0
        assert following.stdout is not None
        line = following.stdout.readline()
        assert line.endswith(" Hello,World!\n") and " ecs/hello/" in line
    finally:
        following.send_signal(signal.SIGINT)
        assert following.wait(10) == 0


def test_invocations_of_a_pattern_rule_on_a_bus_show_its_deliveries(cronbridge_server: Any) -> None:
    events = cronbridge_server.client("events", region="ap-northeast-1")
    sqs = cronbridge_server.client("sqs", region="ap-northeast-1")
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.create_event_bus(Name="shop")
    events.put_rule(Name="paid", EventBusName="shop", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="paid", EventBusName="shop", Targets=[{"Id": "q", "Arn": arn}])  # no policy: refused
    events.put_events(Entries=[{"Source": "shop", "DetailType": "Paid", "Detail": "{}", "EventBusName": "shop"}])
    deadline = time.monotonic() + 15
    history: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not history:
        history = json.loads(cli(cronbridge_server, "invocations", "paid", "--bus", "shop", "-o", "json").stdout)[
            "invocations"]
    assert [(h["trigger"], h["outcome"], h["errorCode"]) for h in history] == [
        ("event", "FAILED", "AccessDeniedException")]
    table = cli(cronbridge_server, "invocations", "paid", "--bus", "shop")
    assert table.returncode == 0 and "event shop Paid" in table.stdout and "FAILED" in table.stdout
    missing = cli(cronbridge_server, "invocations", "paid")  # not on the default bus
    assert missing.returncode == 1 and "no rule named 'paid'" in missing.stderr
    wrong = cli(cronbridge_server, "invocations", "paid", "--bus", "nope")
    assert wrong.returncode == 1 and "on event bus 'nope'" in wrong.stderr
