"""The schedules service on a real SQLite file: groups, schedules, paging, tokens, completion."""

from __future__ import annotations

import pytest

from cronbridge.clock import FakeClock
from cronbridge.errors import AwsError
from cronbridge.model.events import EcsParameters
from cronbridge.model.scheduler import Schedule, ScheduleTarget
from cronbridge.scheduler.changes import Changes
from cronbridge.schedules.service import SchedulesService
from cronbridge.scope import Scope
from cronbridge.store.database import open_database
from cronbridge.store.documents import Documents

REGION, ACCOUNT = "eu-west-1", "123456789012"
HERE = Scope(ACCOUNT, REGION)
T0 = 1_800_000_000.0


@pytest.fixture
def service(database_location: str) -> SchedulesService:
    return SchedulesService(Documents(open_database(database_location)), FakeClock(T0), Changes())


def schedule(name: str, group: str = "default", expression: str = "rate(5 minutes)", **extra: object) -> Schedule:
    target = ScheduleTarget(
        arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/work",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/scheduler",
        ecs_parameters=EcsParameters(task_definition_arn="arn:td"),
    )
    return Schedule(name=name, group_name=group, schedule_expression=expression, target=target, **extra)  # type: ignore[arg-type]


def test_a_created_schedule_gets_its_arn_and_dates_and_announces_itself(service: SchedulesService) -> None:
    changed: list[str | None] = []
    service.on_change = changed.append  # what the service announces (the scheduler hears it through Changes)
    saved = service.create(HERE, schedule("nightly"))
    assert saved.arn == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/nightly"
    assert saved.creation_date == saved.schedule_set_at == saved.enabled_at == T0
    assert service.get(HERE, None, "nightly") == saved and changed == [saved.arn]


def test_the_default_group_always_exists_and_cannot_be_deleted(service: SchedulesService) -> None:
    assert service.group(HERE, None).name == "default"
    with pytest.raises(AwsError) as info:
        service.delete_group(HERE, "default")
    assert info.value.code == "ValidationException"


def test_deleting_a_group_deletes_its_schedules_only(service: SchedulesService) -> None:
    service.create_group(HERE, "team", [])
    service.create(HERE, schedule("a", "team"))
    service.create(HERE, schedule("a"))
    service.delete_group(HERE, "team")
    assert [s.key for s in service.list_schedules(HERE)] == ["default/a"]


def test_paging_with_filters_returns_every_match_once(service: SchedulesService) -> None:
    for i in range(25):
        service.create(HERE, schedule(f"s{i:02d}", state="DISABLED" if i % 3 else "ENABLED"))
    seen, token = [], ""
    while True:
        page, following = service.page(HERE, state="ENABLED", after=token, limit=4)
        seen += [s.name for s in page]
        if following is None:
            break
        token = following
    assert seen == [f"s{i:02d}" for i in range(0, 25, 3)]


def test_an_update_keeps_the_rate_anchor_unless_the_timing_changes(service: SchedulesService) -> None:
    service.create(HERE, schedule("r"))
    assert isinstance(service.clock, FakeClock)
    service.clock.advance(100)
    kept = service.update(HERE, schedule("r", description="new words"))
    assert kept.schedule_set_at == T0 and kept.last_modification_date == T0 + 100
    moved = service.update(HERE, schedule("r", expression="rate(7 minutes)"))
    assert moved.schedule_set_at == T0 + 100


def test_a_retired_schedule_is_gone_from_lists_but_resolvable_and_replaced_by_a_new_one(
    service: SchedulesService,
) -> None:
    saved = service.create(HERE, schedule("once", expression="at(2027-01-15T09:00:00)"))
    service.retire(saved)
    assert service.list_schedules(HERE) == [] and service.retired(saved.arn) is not None
    with pytest.raises(AwsError):
        service.get(HERE, None, "once")
    service.create(HERE, schedule("once", expression="at(2027-01-16T09:00:00)"))
    assert service.retired(saved.arn) is None


def test_the_same_schedule_name_in_two_regions_is_two_schedules(service: SchedulesService) -> None:
    east = Scope(ACCOUNT, "us-east-1")
    west = service.create(HERE, schedule("nightly"))
    other = service.create(east, schedule("nightly", expression="rate(9 minutes)"))
    assert other.arn == f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/nightly" != west.arn
    service.delete(east, None, "nightly")
    assert service.get(HERE, None, "nightly").schedule_expression == "rate(5 minutes)"
    assert service.list_schedules(east) == [] and service.find(west.arn) == west


def test_the_schedule_group_quota_is_500_with_the_default_group(service: SchedulesService) -> None:
    for i in range(499):
        service.create_group(HERE, f"g{i}", [])
    with pytest.raises(AwsError) as info:
        service.create_group(HERE, "one-too-many", [])
    assert info.value.code == "ServiceQuotaExceededException"
