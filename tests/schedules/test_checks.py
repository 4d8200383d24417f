"""What the service refuses in a schedule, and the messages it gives."""

from __future__ import annotations

import pytest

from cronbridge.errors import ValidationError
from cronbridge.model.events import DeadLetterConfig
from cronbridge.model.scheduler import FlexibleTimeWindow, Schedule, ScheduleTarget
from cronbridge.schedules.checks import check_schedule

NOW = 1_800_000_000.0
ROLE = "arn:aws:iam::123456789012:role/scheduler"


def make(**changes: object) -> Schedule:
    base = Schedule(
        name="ok",
        schedule_expression="rate(5 minutes)",
        target=ScheduleTarget(arn="arn:aws:sqs:us-east-1:123456789012:q", role_arn=ROLE),
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_a_plain_schedule_passes() -> None:
    check_schedule(make(), NOW)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "has space"}, "Member must satisfy regular expression pattern"),
        ({"schedule_expression": "rate(0 minutes)"}, "Invalid Schedule Expression rate(0 minutes)."),
        ({"schedule_expression": "at(2027-13-01T00:00:00)"}, "Invalid Schedule Expression"),
        ({"schedule_expression_timezone": "Nowhere/Land"}, "Invalid ScheduleExpressionTimezone Nowhere/Land."),
        ({"start_date": NOW - 301}, "cannot be earlier than 5 minutes ago"),
        ({"end_date": NOW - 1}, "cannot be earlier than the current time"),
        ({"start_date": NOW + 100, "end_date": NOW + 50}, "must be later than the StartDate"),
        ({"flexible_time_window": FlexibleTimeWindow("FLEXIBLE")}, "MaximumWindowInMinutes is required"),
        ({"flexible_time_window": FlexibleTimeWindow("FLEXIBLE", 0)}, "between 1 and 1440"),
        ({"flexible_time_window": FlexibleTimeWindow("OFF", 5)}, "must not be specified when"),
    ],
)
def test_refusals(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_schedule(make(**changes), NOW)


def test_a_start_date_a_little_in_the_past_is_accepted_and_an_unchanged_old_one_on_update() -> None:
    check_schedule(make(start_date=NOW - 299), NOW)
    old = make(start_date=NOW - 10_000)
    check_schedule(old, NOW, previous=old)


def test_the_dead_letter_target_must_be_an_sqs_queue_and_the_role_an_iam_role() -> None:
    with pytest.raises(ValidationError, match="deadLetterConfig"):
        check_schedule(
            make(
                target=ScheduleTarget(arn="arn:x", role_arn=ROLE, dead_letter_config=DeadLetterConfig("arn:aws:sns:x"))
            ),
            NOW,
        )
    with pytest.raises(ValidationError, match="roleArn"):
        check_schedule(make(target=ScheduleTarget(arn="arn:x", role_arn="arn:aws:iam::1:user/u")), NOW)
