"""The schedules service on a real SQLite file: groups, schedules, paging, tokens, completion."""

from __future__ import annotations

from pathlib import Path

import pytest

from cronbridge.clock import FakeClock
from cronbridge.errors import AwsError
from cronbridge.model.events import EcsParameters
from cronbridge.model.scheduler import Schedule, ScheduleTarget
from cronbridge.schedules.service import SchedulesService
from cronbridge.store.db import Database
from cronbridge.store.documents import Documents

REGION, ACCOUNT = "eu-west-1", "123456789012"
T0 = 1_800_000_000.0


@pytest.fixture
def service(tmp_path: Path) -> SchedulesService:
    return SchedulesService(Documents(Database(tmp_path / "state.db")), FakeClock(T0))


def schedule(name: str, group: str = "default", expression: str = "rate(5 minutes)", **extra: object) -> Schedule:
    target = ScheduleTarget(
        arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/work",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/scheduler",
        ecs_parameters=EcsParameters(task_definition_arn="arn:td"),
    )
    return Schedule(name=name, group_name=group, schedule_expression=expression, target=target, **extra)  # type: ignore[arg-type]


def test_a_created_schedule_gets_its_arn_and_dates_and_announces_itself(service: SchedulesService) -> None:
    changed: list[str | None] = []
    service.on_change = changed.append
    saved = service.create(REGION, ACCOUNT, schedule("nightly"))
    assert saved.arn == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/nightly"
    assert saved.creation_date == saved.schedule_set_at == saved.enabled_at == T0
    assert service.get(None, "nightly") == saved and changed == ["default/nightly"]


def test_the_default_group_always_exists_and_cannot_be_deleted(service: SchedulesService) -> None:
    assert service.group(REGION, ACCOUNT, None).name == "default"
    with pytest.raises(AwsError) as info:
        service.delete_group(REGION, ACCOUNT, "default")
    assert info.value.code == "ValidationException"


def test_deleting_a_group_deletes_its_schedules_only(service: SchedulesService) -> None:
    service.create_group(REGION, ACCOUNT, "team", [])
    service.create(REGION, ACCOUNT, schedule("a", "team"))
    service.create(REGION, ACCOUNT, schedule("a"))
    service.delete_group(REGION, ACCOUNT, "team")
    assert [s.key for s in service.list_schedules()] == ["default/a"]


def test_paging_with_filters_returns_every_match_once(service: SchedulesService) -> None:
    for i in range(25):
        service.create(REGION, ACCOUNT, schedule(f"s{i:02d}", state="DISABLED" if i % 3 else "ENABLED"))
    seen, token = [], ""
    while True:
        page, following = service.page(REGION, ACCOUNT, state="ENABLED", after=token, limit=4)
        seen += [s.name for s in page]
        if following is None:
            break
        token = following
    assert seen == [f"s{i:02d}" for i in range(0, 25, 3)]


def test_an_update_keeps_the_rate_anchor_unless_the_timing_changes(service: SchedulesService) -> None:
    service.create(REGION, ACCOUNT, schedule("r"))
    assert isinstance(service.clock, FakeClock)
    service.clock.advance(100)
    kept = service.update(REGION, ACCOUNT, schedule("r", description="new words"))
    assert kept.schedule_set_at == T0 and kept.last_modification_date == T0 + 100
    moved = service.update(REGION, ACCOUNT, schedule("r", expression="rate(7 minutes)"))
    assert moved.schedule_set_at == T0 + 100


def test_a_retired_schedule_is_gone_from_lists_but_resolvable_and_replaced_by_a_new_one(
    service: SchedulesService,
) -> None:
    saved = service.create(REGION, ACCOUNT, schedule("once", expression="at(2027-01-15T09:00:00)"))
    service.retire(saved)
    assert service.list_schedules() == [] and service.retired("default/once") is not None
    with pytest.raises(AwsError):
        service.get(None, "once")
    service.create(REGION, ACCOUNT, schedule("once", expression="at(2027-01-16T09:00:00)"))
    assert service.retired("default/once") is None


def test_the_schedule_group_quota_is_500_with_the_default_group(service: SchedulesService) -> None:
    for i in range(499):
        service.create_group(REGION, ACCOUNT, f"g{i}", [])
    with pytest.raises(AwsError) as info:
        service.create_group(REGION, ACCOUNT, "one-too-many", [])
    assert info.value.code == "ServiceQuotaExceededException"
