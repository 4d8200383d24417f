"""CloudWatch Logs through boto3 against a real server: groups, streams, PutLogEvents, reading, filtering."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fixtures.postgres import BOTH_ENGINES

pytestmark = BOTH_ENGINES  # every test here runs on SQLite and on PostgreSQL

GROUP = "/ecs/e2e"


@pytest.fixture
def logs(cronbridge_server: Any) -> Any:
    client = cronbridge_server.client("logs")
    client.create_log_group(logGroupName=GROUP)
    client.create_log_stream(logGroupName=GROUP, logStreamName="s1")
    return client


def now_ms() -> int:
    return int(time.time() * 1000)


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_a_group_is_described_with_both_arn_forms(logs: Any) -> None:
    group = logs.describe_log_groups(logGroupNamePrefix="/ecs/")["logGroups"][0]
    assert group["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{GROUP}:*"
    assert group["logGroupArn"] == group["arn"].removesuffix(":*")
    assert group["storedBytes"] == 0 and group["creationTime"] > 0


def test_creating_an_existing_group_or_stream_is_resource_already_exists(logs: Any) -> None:
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName=GROUP)
    assert code_of(exc) == ("ResourceAlreadyExistsException", "The specified log group already exists")
    with pytest.raises(ClientError) as exc:
        logs.create_log_stream(logGroupName=GROUP, logStreamName="s1")
    assert code_of(exc) == ("ResourceAlreadyExistsException", "The specified log stream already exists")


def test_missing_groups_and_streams_are_resource_not_found(logs: Any) -> None:
    with pytest.raises(ClientError) as exc:
        logs.get_log_events(logGroupName=GROUP, logStreamName="nope")
    assert code_of(exc) == ("ResourceNotFoundException", "The specified log stream does not exist.")
    with pytest.raises(ClientError) as exc:
        logs.delete_log_group(logGroupName="/nope")
    assert code_of(exc) == ("ResourceNotFoundException", "The specified log group does not exist.")


def test_put_then_get_returns_events_and_stable_forward_tokens(logs: Any) -> None:
    t = now_ms()
    events = [{"timestamp": t + i, "message": f"line {i}"} for i in range(5)]
    logs.put_log_events(logGroupName=GROUP, logStreamName="s1", logEvents=events)
    page = logs.get_log_events(logGroupName=GROUP, logStreamName="s1", startFromHead=True, limit=3)
    assert [e["message"] for e in page["events"]] == ["line 0", "line 1", "line 2"]
    assert page["nextForwardToken"].startswith("f/") and page["nextBackwardToken"].startswith("b/")
    page = logs.get_log_events(logGroupName=GROUP, logStreamName="s1", nextToken=page["nextForwardToken"])
    assert [e["message"] for e in page["events"]] == ["line 3", "line 4"]
    end = logs.get_log_events(logGroupName=GROUP, logStreamName="s1", nextToken=page["nextForwardToken"])
    assert end["events"] == [] and end["nextForwardToken"] == page["nextForwardToken"]
    stream = logs.describe_log_streams(logGroupName=GROUP)["logStreams"][0]
    assert (stream["firstEventTimestamp"], stream["lastEventTimestamp"]) == (t, t + 4)


def test_events_out_of_order_are_an_invalid_parameter(logs: Any) -> None:
    t = now_ms()
    with pytest.raises(ClientError) as exc:
        logs.put_log_events(logGroupName=GROUP, logStreamName="s1", logEvents=[
            {"timestamp": t, "message": "b"}, {"timestamp": t - 1, "message": "a"}])
    assert code_of(exc) == (
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
    )


def test_too_new_events_are_reported_and_the_rest_kept(logs: Any) -> None:
    t = now_ms()
    result = logs.put_log_events(logGroupName=GROUP, logStreamName="s1", logEvents=[
        {"timestamp": t, "message": "ok"}, {"timestamp": t + 3 * 3_600_000, "message": "future"}])
    assert result["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    events = logs.get_log_events(logGroupName=GROUP, logStreamName="s1")["events"]
    assert [e["message"] for e in events] == ["ok"]


def test_filter_log_events_finds_terms_across_streams_with_paging(logs: Any) -> None:
    logs.create_log_stream(logGroupName=GROUP, logStreamName="s2")
    t = now_ms()
    for stream, offset in (("s1", 0), ("s2", 1)):
        logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=[
            {"timestamp": t + 2 * i + offset, "message": f"{'ERROR' if i % 2 else 'INFO'} {stream} {i}"}
            for i in range(10)])
    paginator = logs.get_paginator("filter_log_events")
    pages = list(paginator.paginate(logGroupName=GROUP, filterPattern="ERROR", PaginationConfig={"PageSize": 3}))
    found = [(e["logStreamName"], e["message"]) for p in pages for e in p["events"]]
    assert len(found) == 10 and len(pages) == 4
    assert [m for _, m in found][:2] == ["ERROR s1 1", "ERROR s2 1"]
    arn = logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]["logGroupArn"]
    by_arn = logs.filter_log_events(logGroupIdentifier=arn, logStreamNames=["s2"], filterPattern="-ERROR")
    assert len(by_arn["events"]) == 5
    with pytest.raises(ClientError) as refused:  # the `arn` member's form, ending in `:*`, is not an identifier
        logs.filter_log_events(logGroupIdentifier=arn + ":*")
    assert refused.value.response["Error"] == {
        "Code": "InvalidParameterException",
        "Message": "1 validation error detected: Value at 'logGroupIdentifier' failed to satisfy constraint: Member "
        "must satisfy regular expression pattern: [\\w#+=/:,.@-]*",
    }


def test_a_bad_filter_pattern_is_an_invalid_parameter(logs: Any) -> None:
    with pytest.raises(ClientError) as exc:
        logs.filter_log_events(logGroupName=GROUP, filterPattern='"unclosed')
    assert code_of(exc) == ("InvalidParameterException", "Invalid filter pattern")


def test_retention_and_tags_show_on_the_group(logs: Any) -> None:
    logs.put_retention_policy(logGroupName=GROUP, retentionInDays=7)
    arn = logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]["arn"]
    logs.tag_resource(resourceArn=arn.removesuffix(":*"), tags={"team": "batch"})
    assert logs.list_tags_for_resource(resourceArn=arn.removesuffix(":*"))["tags"] == {"team": "batch"}
    assert logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]["retentionInDays"] == 7
    logs.delete_retention_policy(logGroupName=GROUP)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]
    with pytest.raises(ClientError) as exc:
        logs.put_retention_policy(logGroupName=GROUP, retentionInDays=2)
    assert code_of(exc)[0] == "InvalidParameterException"


def test_deleting_the_group_takes_its_streams_along(logs: Any) -> None:
    logs.delete_log_group(logGroupName=GROUP)
    logs.create_log_group(logGroupName=GROUP)
    assert logs.describe_log_streams(logGroupName=GROUP)["logStreams"] == []
