"""Each invocation says what became of its task: succeeded, failed with exit and stop code, failed to start; in the
invocation API, the rules list, /metrics and the CLI; and the outcome outlives the task's own record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fixtures.cli import cli
from fixtures.ecs import wait_stopped
from fixtures.seed import create_seed, rule_running

CLUSTER = "ecs-scheduled-batch"
SEED_REGION = "ap-northeast-1"  # the seed's Region: our own endpoints act in the Region a call is signed for


def run_and_wait(server: Any, rule: str) -> dict[str, Any]:
    ran = server.post(f"/_cronbridge/rules/{rule}/run-now", region=SEED_REGION)
    ecs = server.client("ecs", region="ap-northeast-1")
    for arn in ran["taskArns"]:
        wait_stopped(ecs, CLUSTER, arn)
    [invocation] = server.get(f"/_cronbridge/invocations?rule={rule}", region=SEED_REGION)["invocations"][:1]
    return dict(invocation)


@pytest.fixture
def three_runs(cronbridge_server: Any) -> Any:
    create_seed(cronbridge_server)
    rule_running(cronbridge_server, "exits3", ["sh", "-c", "exit 3"])
    rule_running(cronbridge_server, "nostart", ["/no/such/program"])
    return cronbridge_server


def test_the_invocation_api_gives_each_tasks_outcome(three_runs: Any) -> None:
    ok, failed, never = (run_and_wait(three_runs, rule) for rule in ("hello", "exits3", "nostart"))
    assert (ok["outcome"], ok["result"], ok["taskOutcome"]["state"]) == ("SUCCEEDED", "SUCCEEDED", "SUCCEEDED")
    assert (failed["outcome"], failed["result"]) == ("SUCCEEDED", "FAILED (exit 3)")  # launched; the job failed
    assert failed["taskOutcome"] == {"state": "FAILED", "exitCode": 3, "container": "hello",
                                     "stopCode": "EssentialContainerExited",
                                     "reason": "Essential container in task exited"}
    assert never["result"] == "FAILED_TO_START" and never["taskOutcome"]["stopCode"] == "TaskFailedToStart"
    assert "CannotStartContainerError" in never["taskOutcome"]["reason"]
    rules = {r["name"]: r for r in three_runs.get("/_cronbridge/rules", region=SEED_REGION)["rules"]}
    assert [rules[n]["lastResult"] for n in ("hello", "exits3", "nostart")] == [
        "SUCCEEDED", "FAILED (exit 3)", "FAILED_TO_START"]


def test_metrics_count_task_stops_by_rule_stop_code_and_exit_code(three_runs: Any) -> None:
    for rule in ("hello", "exits3", "exits3", "nostart"):
        run_and_wait(three_runs, rule)
    import urllib.request

    page = urllib.request.urlopen(f"{three_runs.endpoint}/metrics", timeout=30).read().decode()
    assert "# TYPE cronbridge_task_stops_total counter" in page
    assert 'cronbridge_task_stops_total{rule="exits3",stop_code="EssentialContainerExited",exit_code="3"} 2' in page
    assert 'cronbridge_task_stops_total{rule="hello",stop_code="EssentialContainerExited",exit_code="0"} 1' in page
    assert 'cronbridge_task_stops_total{rule="nostart",stop_code="TaskFailedToStart",exit_code=""} 1' in page


def test_the_cli_shows_a_failed_run_as_failed(three_runs: Any) -> None:
    run_and_wait(three_runs, "exits3")
    history = json.loads(cli(three_runs, "invocations", "exits3", "-o", "json").stdout)["invocations"]
    assert history[0]["result"] == "FAILED (exit 3)" and history[0]["taskOutcome"]["exitCode"] == 3
    table = cli(three_runs, "invocations", "exits3", COLUMNS="200").stdout
    assert "FAILED (exit 3)" in table and "EssentialContainerExited" in table
    assert "FAILED (exit 3)" in cli(three_runs, "rules", COLUMNS="200").stdout


def test_an_outcome_outlives_the_tasks_record(server_factory: Any) -> None:
    server = server_factory(manual_clock=True, extra_env={"CRONBRIDGE_TASK_RETENTION": "60s"})
    create_seed(server)
    rule_running(server, "exits3", ["sh", "-c", "exit 3"])
    failed = run_and_wait(server, "exits3")
    events = server.client("events", region="ap-northeast-1")
    for rule in ("hello", "exits3"):
        events.disable_rule(Name=rule)  # nothing fires while the clock jumps
    server.advance_clock(25 * 3600)  # past the retention, and the day a RunTask clientToken is honoured
    events.enable_rule(Name="hello")
    run_and_wait(server, "hello")  # a launch sweeps
    listed = [t["taskArn"] for t in server.get("/_cronbridge/tasks?limit=100", region=SEED_REGION)["tasks"]]
    assert failed["taskArns"][0] not in listed
    [again] = server.get("/_cronbridge/invocations?rule=exits3", region=SEED_REGION)["invocations"]
    assert again["result"] == "FAILED (exit 3)"


def test_a_task_the_ecs_api_no_longer_shows_is_still_there_for_the_cli(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    create_seed(server)
    ran = run_and_wait(server, "hello")
    server.client("events", region="ap-northeast-1").disable_rule(Name="hello")
    server.advance_clock(2 * 3600)  # past the hour the ECS API shows a stopped task
    arn = ran["taskArns"][0]
    ecs = server.client("ecs", region="ap-northeast-1")
    assert ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["failures"] == [{"arn": arn, "reason": "MISSING"}]
    shown = cli(server, "task", arn.rsplit("/", 1)[-1], "-o", "json")
    assert shown.returncode == 0, shown.stderr
    described = json.loads(shown.stdout)
    assert described["taskArn"] == arn and described["lastStatus"] == "STOPPED"
    assert described["stoppedAt"].endswith("Z")
    table = cli(server, "task", arn.rsplit("/", 1)[-1])
    assert table.returncode == 0 and "EssentialContainerExited" in table.stdout
