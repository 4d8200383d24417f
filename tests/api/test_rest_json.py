"""rest-json routing and input parsing from botocore's scheduler model (requestUri templates, query strings)."""

from __future__ import annotations

import pytest

from cronbridge.api.protocols.rest_json import error_status, match, parse_input, path_matches
from cronbridge.api.protocols.shapes import service_model
from cronbridge.errors import AwsError, NotFound

GROUP_ARN = "arn:aws:scheduler:us-east-1:123456789012:schedule-group/team"


@pytest.mark.parametrize(
    ("method", "path", "operation", "labels"),
    [
        ("POST", "/schedules/nightly", "CreateSchedule", {"Name": "nightly"}),
        ("PUT", "/schedules/nightly", "UpdateSchedule", {"Name": "nightly"}),
        ("GET", "/schedules/nightly", "GetSchedule", {"Name": "nightly"}),
        ("DELETE", "/schedules/nightly", "DeleteSchedule", {"Name": "nightly"}),
        ("GET", "/schedules", "ListSchedules", {}),
        ("GET", "/schedule-groups", "ListScheduleGroups", {}),
        ("POST", "/schedule-groups/team", "CreateScheduleGroup", {"Name": "team"}),
        (
            "GET",
            "/tags/arn%3Aaws%3Ascheduler%3Aus-east-1%3A123456789012%3Aschedule-group%2Fteam",
            "ListTagsForResource",
            {"ResourceArn": GROUP_ARN},
        ),
    ],
)
def test_requests_are_routed_by_method_and_template(
    method: str, path: str, operation: str, labels: dict[str, str]
) -> None:
    assert match("scheduler", method, path) == (operation, labels)


def test_paths_of_no_template_and_wrong_methods_do_not_match() -> None:
    assert match("scheduler", "PATCH", "/schedules/x") is None
    assert not path_matches("scheduler", "/2015-03-31/functions")
    assert path_matches("scheduler", "/schedules/x")


def test_query_string_members_are_read_by_their_wire_names_and_types() -> None:
    model = service_model("scheduler")
    params = parse_input(
        model.operation_model("ListSchedules"), {}, "ScheduleGroup=team&NamePrefix=a&MaxResults=5&State=ENABLED", b""
    )
    assert params == {"GroupName": "team", "NamePrefix": "a", "MaxResults": 5, "State": "ENABLED"}
    untag = parse_input(model.operation_model("UntagResource"), {"ResourceArn": GROUP_ARN}, "TagKeys=a&TagKeys=b", b"")
    assert untag == {"ResourceArn": GROUP_ARN, "TagKeys": ["a", "b"]}
    got = parse_input(model.operation_model("GetSchedule"), {"Name": "n"}, "groupName=team", b"")
    assert got == {"Name": "n", "GroupName": "team"}


def test_a_bad_number_in_the_query_string_is_a_validation_error() -> None:
    with pytest.raises(AwsError) as info:
        parse_input(service_model("scheduler").operation_model("ListSchedules"), {}, "MaxResults=many", b"")
    assert info.value.code == "ValidationException"


def test_error_statuses_come_from_the_model() -> None:
    assert error_status("scheduler", NotFound("x")) == 404
    assert error_status("scheduler", AwsError("x", "ConflictException")) == 409
    assert error_status("scheduler", AwsError("x", "ServiceQuotaExceededException")) == 402
    assert error_status("scheduler", AwsError("x", "SerializationException", 400)) == 400
