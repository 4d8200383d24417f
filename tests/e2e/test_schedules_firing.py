"""EventBridge Scheduler schedules fire on time through the real server, driven by a manual clock."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fixtures.ecs import NETWORK, register, wait_stopped

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
ROLE = "arn:aws:iam::000000000000:role/scheduler"


def epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def ecs_target(server: Any) -> dict[str, Any]:
    ecs, logs = server.client("ecs"), server.client("logs")
    if not logs.describe_log_groups(logGroupNamePrefix="/ecs/test")["logGroups"]:
        logs.create_log_group(logGroupName="/ecs/test")
    cluster = ecs.create_cluster(clusterName="work")["cluster"]["clusterArn"]
    subnets = NETWORK["awsvpcConfiguration"]["subnets"]
    return {
        "Arn": cluster,
        "RoleArn": ROLE,
        "EcsParameters": {
            "TaskDefinitionArn": register(ecs),
            "LaunchType": "FARGATE",
            "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": subnets}},
        },
        "Input": json.dumps({"containerOverrides": [{"name": "app", "command": ["echo", "scheduled"]}]}),
    }


def create(server: Any, name: str, expression: str, **extra: Any) -> str:
    params: dict[str, Any] = {"FlexibleTimeWindow": {"Mode": "OFF"}, **extra}
    arn = server.client("scheduler").create_schedule(
        Name=name, ScheduleExpression=expression, Target=ecs_target(server), **params
    )["ScheduleArn"]
    return str(arn)


def fired(server: Any, name: str, count: int, timeout: float = 10) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = server.get(f"/_cronbridge/invocations?schedule={name}")["invocations"]
        done = [i for i in found if i["outcome"] != "PENDING"]
        if len(done) >= count:
            return sorted(done, key=lambda i: i["scheduledTime"])
        time.sleep(0.05)
    raise AssertionError(f"expected {count} finished invocations of {name}, got {found}")


def nothing_fired(server: Any, name: str) -> bool:
    time.sleep(0.3)
    return server.get(f"/_cronbridge/invocations?schedule={name}")["invocations"] == []


def test_a_cron_schedule_fires_at_its_wall_time_in_its_zone_across_a_dst_change(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(epoch("2027-03-26T12:00:00Z"))
    create(server, "berlin-nine", "cron(0 9 * * ? *)", ScheduleExpressionTimezone="Europe/Berlin")
    expected = ["2027-03-27T08:00:00.000Z", "2027-03-28T07:00:00.000Z", "2027-03-29T07:00:00.000Z"]
    for count, instant in enumerate(expected, start=1):
        server.set_clock(epoch(instant) - 1)
        assert len(server.get("/_cronbridge/invocations?schedule=berlin-nine")["invocations"]) == count - 1
        server.set_clock(epoch(instant))
        fired(server, "berlin-nine", count)
    times = [i["scheduledTime"] for i in fired(server, "berlin-nine", 3)]
    assert times == expected  # 09:00 CET, then 09:00 CEST (one hour earlier in UTC) on and after the change


def test_a_wall_time_that_does_not_exist_on_the_spring_change_day_is_skipped(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(epoch("2027-03-27T00:00:00Z"))
    create(server, "half-past-two", "cron(30 2 * * ? *)", ScheduleExpressionTimezone="Europe/Berlin")
    next_times = server.get("/_cronbridge/schedules/half-past-two/next?count=3")["next"]
    assert [n["scheduledTime"] for n in next_times] == [
        "2027-03-27T01:30:00.000Z",
        "2027-03-29T00:30:00.000Z",
        "2027-03-30T00:30:00.000Z",
    ]


def test_a_rate_schedule_counts_from_its_start_date_and_launches_the_task(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0)
    arn = create(server, "every-five", "rate(5 minutes)", StartDate=datetime.fromtimestamp(T0 + 600, UTC))
    server.advance_clock(599)
    assert nothing_fired(server, "every-five")
    server.advance_clock(1)
    first = fired(server, "every-five", 1)[0]
    assert first["scheduledTime"] == "2027-01-15T08:10:00.000Z" and first["outcome"] == "SUCCEEDED"
    assert first["ruleArn"] == arn and first["latenessSeconds"] < 0.1
    server.advance_clock(300)
    assert [i["scheduledTime"][11:19] for i in fired(server, "every-five", 2)] == ["08:10:00", "08:15:00"]
    task = wait_stopped(server.client("ecs"), "work", first["taskArns"][0])
    assert task["startedBy"] == "chronos-schedule/every-five"
    assert task["overrides"]["containerOverrides"][0]["command"] == ["echo", "scheduled"]


def test_a_one_time_schedule_runs_once_then_deletes_itself(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0)
    create(
        server,
        "once",
        "at(2027-01-15T09:30:00)",
        ScheduleExpressionTimezone="Europe/Paris",
        ActionAfterCompletion="DELETE",
    )  # 09:30 in Paris is 08:30 UTC
    server.advance_clock(30 * 60)
    done = fired(server, "once", 1)
    assert done[0]["scheduledTime"] == "2027-01-15T08:30:00.000Z" and done[0]["outcome"] == "SUCCEEDED"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            server.client("scheduler").get_schedule(Name="once")
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ResourceNotFoundException"
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the one-time schedule was not deleted after its run")
    server.advance_clock(3600)
    assert len(fired(server, "once", 1)) == 1


def test_a_schedule_stops_at_its_end_date_and_is_deleted_when_asked(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0)
    create(server, "until", "rate(1 minute)", EndDate=datetime.fromtimestamp(T0 + 150, UTC))
    create(
        server,
        "until-then-gone",
        "rate(1 minute)",
        EndDate=datetime.fromtimestamp(T0 + 150, UTC),
        ActionAfterCompletion="DELETE",
    )
    for _ in range(4):
        server.advance_clock(60)
        time.sleep(0.1)
    for name in ("until", "until-then-gone"):
        assert [i["scheduledTime"][11:19] for i in fired(server, name, 2)] == ["08:01:00", "08:02:00"]
    names = [s["Name"] for s in server.client("scheduler").list_schedules()["Schedules"]]
    assert names == ["until"]


def test_a_flexible_window_launches_at_the_same_point_inside_the_window_every_time(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0)
    create(
        server, "flexible", "cron(0 9 * * ? *)", FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    )
    planned = server.get("/_cronbridge/schedules/flexible/next?count=5")["next"]
    for entry in planned:
        offset = epoch(entry["launchTime"]) - epoch(entry["scheduledTime"])
        assert 0 <= offset < 15 * 60
    assert len({round(epoch(e["launchTime"]) - epoch(e["scheduledTime"]), 3) for e in planned}) > 1  # spread
    server.restart()
    assert server.get("/_cronbridge/schedules/flexible/next?count=5")["next"] == planned  # deterministic
    launch = epoch(planned[0]["launchTime"])
    server.set_clock(launch - 0.5)
    assert nothing_fired(server, "flexible")
    server.set_clock(launch)
    done = fired(server, "flexible", 1)[0]
    assert done["scheduledTime"] == planned[0]["scheduledTime"] == "2027-01-15T09:00:00.000Z"
    assert done["actualTime"] == planned[0]["launchTime"]


def test_a_disabled_schedule_does_not_fire_until_enabled(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0)
    target = ecs_target(server)
    scheduler = server.client("scheduler")
    common: dict[str, Any] = {
        "Name": "paused",
        "ScheduleExpression": "rate(1 minute)",
        "Target": target,
        "FlexibleTimeWindow": {"Mode": "OFF"},
    }
    scheduler.create_schedule(State="DISABLED", **common)
    server.advance_clock(180)
    assert nothing_fired(server, "paused")
    scheduler.update_schedule(State="ENABLED", **common)
    server.advance_clock(60)
    assert fired(server, "paused", 1)[0]["scheduledTime"] == "2027-01-15T08:04:00.000Z"


def test_run_now_launches_a_schedule_at_once_and_records_a_manual_invocation(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0)
    create(server, "by-hand", "cron(0 3 * * ? *)", State="DISABLED")
    result = server.post("/_cronbridge/schedules/by-hand/run-now")
    assert len(result["taskArns"]) == 1
    record = server.get("/_cronbridge/invocations?schedule=by-hand&group=default")["invocations"][0]
    assert record["manual"] is True and record["outcome"] == "SUCCEEDED"


def test_run_now_of_an_unknown_schedule_is_a_404(cronbridge_server: Any) -> None:
    with pytest.raises(Exception, match="404"):
        cronbridge_server.post("/_cronbridge/schedules/nope/run-now")


def test_on_the_system_clock_a_schedule_launches_within_100_ms_of_its_instant(cronbridge_server: Any) -> None:
    instant = datetime.fromtimestamp(int(time.time()) + 2, UTC)
    create(cronbridge_server, "soon", f"at({instant:%Y-%m-%dT%H:%M:%S})")
    done = fired(cronbridge_server, "soon", 1)[0]
    assert done["scheduledTime"] == instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert 0 <= done["latenessSeconds"] < 0.1 and done["outcome"] == "SUCCEEDED"


def test_slots_missed_while_the_server_was_down_run_once_each_after_restart(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0)
    create(server, "durable", "rate(1 minute)", ScheduleExpressionTimezone="America/New_York")
    server.advance_clock(60)
    fired(server, "durable", 1)
    server.stop()
    server.start()
    server.set_clock(T0 + 4 * 60 + 30)  # down for 3.5 minutes: the slots at +2, +3 and +4 minutes are owed
    done = fired(server, "durable", 4)
    assert [i["scheduledTime"][11:19] for i in done] == ["08:01:00", "08:02:00", "08:03:00", "08:04:00"]
    assert all(i["outcome"] == "SUCCEEDED" for i in done)
    server.restart()
    server.set_clock(T0 + 4 * 60 + 40)
    time.sleep(0.5)
    assert len(server.get("/_cronbridge/invocations?schedule=durable")["invocations"]) == 4


def test_a_wall_time_that_happens_twice_on_the_autumn_change_day_fires_once(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(epoch("2027-10-30T12:00:00Z"))
    create(server, "twice", "cron(30 2 * * ? *)", ScheduleExpressionTimezone="Europe/Berlin")
    next_times = server.get("/_cronbridge/schedules/twice/next?count=3")["next"]
    assert [n["scheduledTime"] for n in next_times] == [
        "2027-10-31T00:30:00.000Z",
        "2027-11-01T01:30:00.000Z",
        "2027-11-02T01:30:00.000Z",
    ]
    server.set_clock(epoch("2027-10-31T01:45:00Z"))  # past both 02:30s of that night
    assert [i["scheduledTime"] for i in fired(server, "twice", 1)] == ["2027-10-31T00:30:00.000Z"]
    time.sleep(0.3)
    assert len(server.get("/_cronbridge/invocations?schedule=twice")["invocations"]) == 1


def test_a_schedule_that_cannot_launch_sends_its_input_to_its_dead_letter_queue(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0)
    sqs = server.client("sqs")
    queue_url = sqs.create_queue(QueueName="schedule-dlq")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    target = ecs_target(server)
    server.client("ecs").delete_cluster(cluster="work")  # not retryable: straight to the dead-letter queue
    arn = server.client("scheduler").create_schedule(
        Name="broken",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={**target, "DeadLetterConfig": {"Arn": queue_arn}},
    )["ScheduleArn"]
    server.advance_clock(60)
    failed = fired(server, "broken", 1)[0]
    assert failed["outcome"] == "FAILED" and failed["errorCode"] == "ClusterNotFoundException"
    messages = sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"], WaitTimeSeconds=1)["Messages"]
    attributes = {k: v["StringValue"] for k, v in messages[0]["MessageAttributes"].items()}
    assert attributes["SCHEDULE_ARN"] == arn and attributes["ERROR_CODE"] == "ClusterNotFoundException"
    assert messages[0]["Body"] == target["Input"]


def test_schedule_runs_are_not_counted_as_eventbridge_rule_metrics(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0)
    create(server, "not-a-rule", "rate(1 minute)")
    server.advance_clock(60)
    fired(server, "not-a-rule", 1)
    metrics = server.client("cloudwatch").list_metrics(Namespace="AWS/Events")["Metrics"]
    assert metrics == []  # AWS/Events is per rule; a schedule is not one
