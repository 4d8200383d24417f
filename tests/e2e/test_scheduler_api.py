"""The EventBridge Scheduler API through boto3's `scheduler` client (rest-json): every operation and its errors."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::000000000000:role/scheduler"
CLUSTER = "arn:aws:ecs:us-east-1:000000000000:cluster/work"
TASKDEF = "arn:aws:ecs:us-east-1:000000000000:task-definition/batch:1"
TARGET: dict[str, Any] = {
    "Arn": CLUSTER,
    "RoleArn": ROLE,
    "EcsParameters": {
        "TaskDefinitionArn": TASKDEF,
        "TaskCount": 2,
        "LaunchType": "FARGATE",
        "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": ["subnet-1"], "AssignPublicIp": "ENABLED"}},
    },
    "Input": '{"containerOverrides": []}',
    "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
    "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:000000000000:dead-letters"},
}
OFF = {"Mode": "OFF"}


def error_of(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


@pytest.fixture
def scheduler(cronbridge_server: Any) -> Any:
    return cronbridge_server.client("scheduler")


def test_create_get_update_delete_a_schedule(scheduler: Any) -> None:
    arn = scheduler.create_schedule(
        Name="nightly",
        ScheduleExpression="cron(0 2 * * ? *)",
        ScheduleExpressionTimezone="Europe/Berlin",
        Description="the nightly batch",
        Target=TARGET,
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 30},
        ActionAfterCompletion="NONE",
    )["ScheduleArn"]
    assert arn == "arn:aws:scheduler:us-east-1:000000000000:schedule/default/nightly"
    got = scheduler.get_schedule(Name="nightly")
    assert got["Arn"] == arn and got["GroupName"] == "default" and got["State"] == "ENABLED"
    assert got["ScheduleExpressionTimezone"] == "Europe/Berlin" and got["Description"] == "the nightly batch"
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 30}
    assert got["Target"]["EcsParameters"]["NetworkConfiguration"]["awsvpcConfiguration"]["Subnets"] == ["subnet-1"]
    assert got["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600}
    assert got["Target"]["DeadLetterConfig"]["Arn"].endswith(":dead-letters")
    assert isinstance(got["CreationDate"], datetime)
    scheduler.update_schedule(
        Name="nightly", ScheduleExpression="rate(2 hours)", Target=TARGET, FlexibleTimeWindow=OFF, State="DISABLED"
    )
    updated = scheduler.get_schedule(Name="nightly")
    assert updated["ScheduleExpression"] == "rate(2 hours)" and updated["State"] == "DISABLED"
    assert "Description" not in updated and updated["CreationDate"] == got["CreationDate"]
    scheduler.delete_schedule(Name="nightly")
    assert error_of(scheduler.get_schedule, Name="nightly") == (
        "ResourceNotFoundException",
        404,
        "Schedule nightly does not exist.",
    )


def test_one_time_schedules_and_dates_round_trip(scheduler: Any) -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    end = datetime(2031, 1, 1, tzinfo=UTC)
    scheduler.create_schedule(
        Name="bounded",
        ScheduleExpression="rate(1 day)",
        StartDate=start,
        EndDate=end,
        Target=TARGET,
        FlexibleTimeWindow=OFF,
    )
    got = scheduler.get_schedule(Name="bounded")
    assert got["StartDate"] == start and got["EndDate"] == end
    scheduler.create_schedule(
        Name="once",
        ScheduleExpression="at(2030-06-01T12:00:00)",
        Target=TARGET,
        FlexibleTimeWindow=OFF,
        ActionAfterCompletion="DELETE",
    )
    assert scheduler.get_schedule(Name="once")["ActionAfterCompletion"] == "DELETE"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ScheduleExpression": "rate(1 minutes)"}, "Invalid Schedule Expression rate(1 minutes)."),
        ({"ScheduleExpression": "cron(0 2 * * * *)"}, "Invalid Schedule Expression cron(0 2 * * * *)."),
        ({"ScheduleExpression": "at(2030-02-30T00:00:00)"}, "Invalid Schedule Expression at(2030-02-30T00:00:00)."),
        ({"ScheduleExpressionTimezone": "Mars/Olympus"}, "Invalid ScheduleExpressionTimezone Mars/Olympus."),
        (
            {"StartDate": datetime(2020, 1, 1, tzinfo=UTC)},
            "The StartDate you specify cannot be earlier than 5 minutes ago.",
        ),
        (
            {"EndDate": datetime(2020, 1, 1, tzinfo=UTC)},
            "The EndDate you specify cannot be earlier than the current time.",
        ),
        (
            {"FlexibleTimeWindow": {"Mode": "FLEXIBLE"}},
            "MaximumWindowInMinutes is required when the FlexibleTimeWindow Mode is FLEXIBLE.",
        ),
        ({"Target": {**TARGET, "RoleArn": "not-a-role"}}, "at 'target.roleArn' failed to satisfy constraint"),
        (
            {"Target": {**TARGET, "DeadLetterConfig": {"Arn": "arn:aws:sns:us-east-1:000000000000:t"}}},
            "at 'target.deadLetterConfig.arn' failed to satisfy constraint",
        ),
    ],
)
def test_invalid_schedules_are_refused_with_the_services_message(
    scheduler: Any, changes: dict[str, Any], message: str
) -> None:
    params = {
        "Name": "bad",
        "ScheduleExpression": "rate(5 minutes)",
        "Target": TARGET,
        "FlexibleTimeWindow": OFF,
        **changes,
    }
    code, status, text = error_of(scheduler.create_schedule, **params)
    assert (code, status) == ("ValidationException", 400)
    assert message in text
    assert scheduler.list_schedules()["Schedules"] == []


def test_model_constraints_are_checked_before_the_service(scheduler: Any) -> None:
    code, status, text = error_of(
        scheduler.create_schedule,
        Name="bad",
        ScheduleExpression="rate(5 minutes)",
        Target={**TARGET, "RetryPolicy": {"MaximumRetryAttempts": 186}},
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1441},
    )
    assert (code, status) == ("ValidationException", 400)
    assert text.startswith("2 validation errors detected: ")
    assert "Member must have value less than or equal to 1440" in text


def test_names_conflicts_and_missing_groups(scheduler: Any) -> None:
    common = {"ScheduleExpression": "rate(5 minutes)", "Target": TARGET, "FlexibleTimeWindow": OFF}
    scheduler.create_schedule(Name="dup", **common)
    assert error_of(scheduler.create_schedule, Name="dup", **common) == (
        "ConflictException",
        409,
        "Schedule dup already exists.",
    )
    assert error_of(scheduler.create_schedule, Name="x", GroupName="nope", **common) == (
        "ResourceNotFoundException",
        404,
        "Schedule group nope does not exist.",
    )
    assert error_of(scheduler.update_schedule, Name="missing", **common)[:2] == ("ResourceNotFoundException", 404)
    assert error_of(scheduler.delete_schedule, Name="missing")[:2] == ("ResourceNotFoundException", 404)
    assert error_of(scheduler.create_schedule, Name="bad name!", **common)[:2] == ("ValidationException", 400)


def test_a_repeated_client_token_creates_once(scheduler: Any) -> None:
    common = {"Name": "idem", "ScheduleExpression": "rate(5 minutes)", "Target": TARGET, "FlexibleTimeWindow": OFF}
    first = scheduler.create_schedule(ClientToken="token-1", **common)["ScheduleArn"]
    assert scheduler.create_schedule(ClientToken="token-1", **common)["ScheduleArn"] == first
    assert error_of(scheduler.create_schedule, ClientToken="token-2", **common)[0] == "ConflictException"


def test_list_schedules_filters_and_pages(scheduler: Any) -> None:
    scheduler.create_schedule_group(Name="reports")
    common = {"ScheduleExpression": "rate(5 minutes)", "Target": TARGET, "FlexibleTimeWindow": OFF}
    for i in range(7):
        scheduler.create_schedule(Name=f"job-{i}", State="DISABLED" if i % 2 else "ENABLED", **common)
    scheduler.create_schedule(Name="job-r", GroupName="reports", **common)
    scheduler.create_schedule(Name="other", **common)
    pages = scheduler.get_paginator("list_schedules").paginate(NamePrefix="job-", PaginationConfig={"PageSize": 3})
    seen = [[s["Name"] for s in page["Schedules"]] for page in pages]
    assert seen == [["job-0", "job-1", "job-2"], ["job-3", "job-4", "job-5"], ["job-6", "job-r"]]
    in_group = scheduler.list_schedules(GroupName="reports")["Schedules"]
    assert [(s["Name"], s["GroupName"], s["Target"]["Arn"]) for s in in_group] == [("job-r", "reports", CLUSTER)]
    disabled = scheduler.list_schedules(State="DISABLED")["Schedules"]
    assert [s["Name"] for s in disabled] == ["job-1", "job-3", "job-5"]
    assert error_of(scheduler.list_schedules, GroupName="nope")[:2] == ("ResourceNotFoundException", 404)
    assert error_of(scheduler.list_schedules, MaxResults=101)[:2] == ("ValidationException", 400)


def test_schedule_groups_default_create_list_delete(scheduler: Any) -> None:
    default = scheduler.get_schedule_group(Name="default")
    assert default["Arn"].endswith(":schedule-group/default") and default["State"] == "ACTIVE"
    arn = scheduler.create_schedule_group(Name="team-a", Tags=[{"Key": "team", "Value": "a"}])["ScheduleGroupArn"]
    assert arn == "arn:aws:scheduler:us-east-1:000000000000:schedule-group/team-a"
    for name in ("team-b", "team-c"):
        scheduler.create_schedule_group(Name=name)
    assert error_of(scheduler.create_schedule_group, Name="team-a") == (
        "ConflictException",
        409,
        "Schedule group team-a already exists.",
    )
    assert error_of(scheduler.create_schedule_group, Name="default")[0] == "ConflictException"
    pages = scheduler.get_paginator("list_schedule_groups").paginate(PaginationConfig={"PageSize": 2})
    assert [[g["Name"] for g in p["ScheduleGroups"]] for p in pages] == [["default", "team-a"], ["team-b", "team-c"]]
    prefixed = scheduler.list_schedule_groups(NamePrefix="team-")["ScheduleGroups"]
    assert [g["Name"] for g in prefixed] == ["team-a", "team-b", "team-c"]
    scheduler.create_schedule(
        Name="in-a", GroupName="team-a", ScheduleExpression="rate(5 minutes)", Target=TARGET, FlexibleTimeWindow=OFF
    )
    scheduler.delete_schedule_group(Name="team-a")
    assert error_of(scheduler.get_schedule_group, Name="team-a") == (
        "ResourceNotFoundException",
        404,
        "Schedule group team-a does not exist.",
    )
    assert error_of(scheduler.get_schedule, Name="in-a", GroupName="team-a")[0] == "ResourceNotFoundException"
    assert error_of(scheduler.delete_schedule_group, Name="default")[:2] == ("ValidationException", 400)
    assert error_of(scheduler.delete_schedule_group, Name="team-a")[:2] == ("ResourceNotFoundException", 404)


def test_tags_on_schedule_groups(scheduler: Any) -> None:
    arn = scheduler.create_schedule_group(Name="tagged", Tags=[{"Key": "a", "Value": "1"}])["ScheduleGroupArn"]
    scheduler.tag_resource(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    tags = scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "3"), ("b", "2")]
    scheduler.untag_resource(ResourceArn=arn, TagKeys=["a", "b"])
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == []
    missing = arn.replace("tagged", "missing")
    assert error_of(scheduler.list_tags_for_resource, ResourceArn=missing)[:2] == ("ResourceNotFoundException", 404)
    code, status, _ = error_of(scheduler.tag_resource, ResourceArn=arn, Tags=[{"Key": "aws:x", "Value": "1"}])
    assert (code, status) == ("ValidationException", 400)


def test_malformed_requests_get_aws_shaped_errors_and_the_server_keeps_serving(cronbridge_server: Any) -> None:
    request = urllib.request.Request(
        cronbridge_server.endpoint + "/schedules/x",
        data=b"{not json",
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20270115/us-east-1/scheduler/aws4_request",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 400 and info.value.headers["X-Amzn-ErrorType"] == "SerializationException"
    unknown = urllib.request.Request(
        cronbridge_server.endpoint + "/schedules",
        method="DELETE",
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20270115/us-east-1/scheduler/aws4_request"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(unknown, timeout=10)
    assert info.value.code == 404 and b"Message" in info.value.read()
    assert cronbridge_server.client("scheduler").list_schedules()["Schedules"] == []


def test_concurrent_creates_of_one_name_create_it_once(cronbridge_server: Any) -> None:
    common = {"Name": "race", "ScheduleExpression": "rate(5 minutes)", "Target": TARGET, "FlexibleTimeWindow": OFF}
    outcomes: list[str] = []
    clients = [cronbridge_server.client("scheduler") for _ in range(8)]
    start = threading.Barrier(len(clients))

    def create(client: Any) -> None:
        start.wait()
        try:
            client.create_schedule(**common)
            outcomes.append("created")
        except ClientError as err:
            outcomes.append(err.response["Error"]["Code"])

    threads = [threading.Thread(target=create, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ConflictException"] * 7 + ["created"]
