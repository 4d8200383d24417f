"""Schedules as plans: dates, zones, one-time schedules, and the flexible window's deterministic spread."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from cronbridge.model.events import EcsParameters
from cronbridge.model.scheduler import FlexibleTimeWindow, Schedule, ScheduleTarget
from cronbridge.schedules.source import plan_of, schedule_target

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
ARN = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/s"


def make(expression: str, **extra: object) -> Schedule:
    target = ScheduleTarget(
        arn="arn:aws:ecs:us-east-1:123456789012:cluster/c",
        role_arn="arn:r",
        ecs_parameters=EcsParameters(task_definition_arn="arn:td", tags=[{"team": "a"}]),
    )
    return Schedule(
        arn=ARN, name="s", schedule_expression=expression, schedule_set_at=T0, enabled_at=T0, target=target, **extra
    )  # type: ignore[arg-type]


def iso(instant: float | None) -> str | None:
    return None if instant is None else datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def test_a_rate_counts_from_its_start_date_and_stops_at_its_end_date() -> None:
    plan = plan_of(make("rate(10 minutes)", start_date=T0 + 300, end_date=T0 + 1500), {})
    first = plan.next_slot(plan.not_before)
    assert iso(first) == "2027-01-15T08:05:00"
    assert iso(plan.next_slot(T0 + 300)) == "2027-01-15T08:15:00"
    assert plan.next_slot(T0 + 900) is None  # 08:25 is the EndDate: a schedule runs only before it


def test_a_cron_slot_exactly_at_the_start_date_fires() -> None:
    plan = plan_of(make("cron(0 9 * * ? *)", start_date=T0 + 3600), {})
    assert iso(plan.next_slot(plan.not_before)) == "2027-01-15T09:00:00"


def test_a_one_time_schedule_ignores_its_dates_and_reads_its_zone() -> None:
    plan = plan_of(make("at(2027-01-15T10:00:00)", schedule_expression_timezone="Asia/Tokyo", end_date=T0), {})
    assert plan.end is None
    assert iso(plan.next_slot(T0 - 86400)) == "2027-01-15T01:00:00"


def test_the_target_is_an_ecs_target_started_as_the_scheduler_starts_tasks() -> None:
    plan = plan_of(make("rate(1 hour)"), {"cronbridge:no-overlap": "skip"})
    assert plan.started_by == "chronos-schedule/s" and plan.tags == {"cronbridge:no-overlap": "skip"}
    target = schedule_target(make("rate(1 hour)"))
    assert target.ecs_parameters is not None and target.ecs_parameters.tags == [{"key": "team", "value": "a"}]


@given(slot=st.integers(min_value=0, max_value=4_000_000_000), minutes=st.integers(min_value=1, max_value=1440))
def test_a_flexible_launch_is_inside_the_window_on_a_whole_second_and_the_same_every_time(
    slot: int, minutes: int
) -> None:
    plan = plan_of(make("rate(1 hour)", flexible_time_window=FlexibleTimeWindow("FLEXIBLE", minutes)), {})
    launch = plan.launch_at(float(slot))
    assert slot <= launch < slot + minutes * 60 and launch == int(launch)
    assert (
        plan_of(make("rate(1 hour)", flexible_time_window=FlexibleTimeWindow("FLEXIBLE", minutes)), {}).launch_at(
            float(slot)
        )
        == launch
    )


def test_flexible_launches_spread_uniformly_over_the_window() -> None:
    plan = plan_of(make("rate(1 minute)", flexible_time_window=FlexibleTimeWindow("FLEXIBLE", 10)), {})
    offsets = [plan.launch_at(T0 + 60 * k) - (T0 + 60 * k) for k in range(6000)]
    buckets = [0] * 10
    for offset in offsets:
        buckets[int(offset // 60)] += 1
    assert all(500 < b < 700 for b in buckets)  # 600 expected per minute of the window


def test_without_a_window_the_launch_is_the_slot() -> None:
    assert plan_of(make("rate(1 hour)"), {}).launch_at(T0) == T0
