"""EventBridge Scheduler's schedules and schedule groups: validated as the service does, kept as documents."""

from __future__ import annotations

import dataclasses
import logging

from cronbridge import arn as arns
from cronbridge import scope as scopes
from cronbridge.clock import Clock
from cronbridge.errors import AwsError, Conflict, NotFound, ValidationError
from cronbridge.model.scheduler import Schedule, ScheduleGroup
from cronbridge.schedule import ScheduleError
from cronbridge.scheduler.changes import Changes
from cronbridge.schedules.checks import check_group_name, check_schedule
from cronbridge.scope import HOME, Scope
from cronbridge.store.documents import Documents

log = logging.getLogger("cronbridge.schedules")


def _checked(schedule: Schedule, now: float, previous: Schedule | None, operation: str) -> None:
    """The service's checks; a refusal is logged (info) with the detail the wire message leaves out."""
    try:
        check_schedule(schedule, now, previous)
    except ValidationError as err:
        cause = err.__cause__
        detail = cause.detail if isinstance(cause, ScheduleError) else ""
        log.info("%s %s/%s refused: %s%s", operation, schedule.group_name, schedule.name, err.message,
                 f" ({detail})" if detail else "")
        raise

SCHEDULE = "scheduler.schedule"
GROUP = "scheduler.group"
RETIRED = "scheduler.retired"
RETIRED_FOR = 86400.0 + 3600.0  # the longest MaximumEventAgeInSeconds, and some
DEFAULT_GROUP = "default"
MAX_TAGS = 200
MAX_GROUPS = 500  # schedule groups per account and Region (a quota AWS does not raise)


class SchedulesService:
    """Schedules in groups (the `default` group always exists), per account and Region; `on_change(ARN)` after
    anything that moves a fire time: a schedule's ARN for one schedule, None for many."""

    def __init__(self, docs: Documents, clock: Clock, changes: Changes) -> None:
        self.docs = docs
        self.clock = clock
        self.on_change = changes.schedule

    # schedules ------------------------------------------------------------
    def create(self, scope: Scope, schedule: Schedule) -> Schedule:
        group = self.group(scope, schedule.group_name)
        now = self.clock.now()
        saved = dataclasses.replace(
            schedule,
            arn=scope.arn("scheduler", f"schedule/{group.name}/{schedule.name}"),
            creation_date=now,
            last_modification_date=now,
            schedule_set_at=now,
            enabled_at=now,
        )
        with self.docs.db.transaction():  # the name check and the insert are one step for concurrent creates
            self.docs.db.serialize(f"scheduler.schedule:{scope.account}:{scope.region}:{schedule.key}")
            existing = self.docs.get(SCHEDULE, scope, schedule.key, Schedule)
            if existing is not None:
                if schedule.client_token and existing.client_token == schedule.client_token:
                    return existing  # the same request again (ClientToken): the schedule it created
                raise Conflict(f"Schedule {schedule.name} already exists.")
            _checked(schedule, now, None, "CreateSchedule")
            self.docs.delete(RETIRED, scope, saved.key)
            self.docs.put(SCHEDULE, scope, saved.key, saved, parent=group.name)
        self.on_change(saved.arn)
        return saved

    def update(self, scope: Scope, schedule: Schedule) -> Schedule:
        self.group(scope, schedule.group_name)
        previous = self.get(scope, schedule.group_name, schedule.name)
        if schedule.client_token and previous.client_token == schedule.client_token:
            return previous
        now = self.clock.now()
        _checked(schedule, now, previous, "UpdateSchedule")
        same_timing = (previous.schedule_expression, previous.start_date) == (
            schedule.schedule_expression,
            schedule.start_date,
        )
        saved = dataclasses.replace(
            schedule,
            arn=previous.arn,
            creation_date=previous.creation_date,
            last_modification_date=now,
            schedule_set_at=previous.schedule_set_at if same_timing else now,
            enabled_at=previous.enabled_at if previous.state == schedule.state == "ENABLED" else now,
        )
        self.docs.put(SCHEDULE, scope, saved.key, saved, parent=saved.group_name)
        self.on_change(saved.arn)
        return saved

    def get(self, scope: Scope, group_name: str | None, name: str) -> Schedule:
        found = self.docs.get(SCHEDULE, scope, f"{group_name or DEFAULT_GROUP}/{name}", Schedule)
        if found is None:
            raise NotFound(f"Schedule {name} does not exist.")
        return found

    def find(self, arn: str) -> Schedule | None:
        """The schedule an ARN names (in the ARN's account and Region), or None."""
        where = _schedule_key(arn)
        return None if where is None else self.docs.get(SCHEDULE, where[0], where[1], Schedule)

    def delete(self, scope: Scope, group_name: str | None, name: str) -> None:
        schedule = self.get(scope, group_name, name)
        self.docs.delete(SCHEDULE, scope, schedule.key)
        self.on_change(schedule.arn)

    def page(
        self,
        scope: Scope,
        group_name: str | None = None,
        prefix: str = "",
        state: str | None = None,
        after: str = "",
        limit: int = 100,
    ) -> tuple[list[Schedule], str | None]:
        """One page of schedules in (group, name) order; returns (page, next token or None). The token is the
        last schedule's GROUP/NAME; a name prefix is searched in the index, group by group."""
        if group_name:
            self.group(scope, group_name)
        groups = [group_name] if group_name else sorted({g.name for g in self.groups(scope)} | {DEFAULT_GROUP})
        after_group, _, after_name = after.partition("/")
        found: list[Schedule] = []
        for group in groups:
            if after and group < after_group:
                continue
            cursor = f"{group}/{after_name}" if after and group == after_group else ""
            if self._collect(scope, f"{group}/{prefix}", cursor, state, found, limit + 1):
                return found[:limit], found[limit - 1].key
        return found, None

    def _collect(
        self, scope: Scope, key_prefix: str, cursor: str, state: str | None, found: list[Schedule], want: int
    ) -> bool:
        """Append the schedules under `key_prefix` after `cursor` (in `state`) until `found` holds `want`."""
        while True:
            batch = self.docs.list(SCHEDULE, Schedule, scope, prefix=key_prefix, after=cursor, limit=want)
            for schedule in batch:
                if state in (None, schedule.state):
                    found.append(schedule)
                    if len(found) == want:
                        return True
            if len(batch) < want:
                return False
            cursor = batch[-1].key

    def all(self) -> list[Schedule]:
        """Every schedule of every account and Region."""
        return list(self.docs.iter_all(SCHEDULE, Schedule))

    def list_schedules(self, scope: Scope) -> list[Schedule]:
        """Every schedule of every group of one account and Region, in (group, name) order."""
        return self.docs.list(SCHEDULE, Schedule, scope)

    # completed schedules (ActionAfterCompletion DELETE) ---------------------
    def retire(self, schedule: Schedule) -> None:
        """Delete a completed schedule, keeping a tombstone so its last run's retries can still find its target;
        tombstones older than a day (the longest a retry may go on) are dropped."""
        now = self.clock.now()
        scope = scopes.of_arn(schedule.arn) or HOME
        with self.docs.db.transaction():
            self.docs.delete(SCHEDULE, scope, schedule.key)
            self.docs.put(RETIRED, scope, schedule.key, dataclasses.replace(schedule, last_modification_date=now))
        for old in self.docs.list(RETIRED, Schedule, scope):
            if old.last_modification_date < now - RETIRED_FOR:
                self.docs.delete(RETIRED, scope, old.key)
        self.on_change(schedule.arn)

    def retired(self, arn: str) -> Schedule | None:
        """A schedule deleted after completing, while its last run may still be retried."""
        where = _schedule_key(arn)
        return None if where is None else self.docs.get(RETIRED, where[0], where[1], Schedule)

    # groups ---------------------------------------------------------------
    def create_group(
        self, scope: Scope, name: str, tags: list[dict[str, str]], token: str | None = None
    ) -> ScheduleGroup:
        check_group_name(name)
        _check_tags(tags)
        now = self.clock.now()
        group = ScheduleGroup(
            arn=scope.arn("scheduler", f"schedule-group/{name}"),
            name=name,
            creation_date=now,
            last_modification_date=now,
            tags=list(tags),
            client_token=token,
        )
        with self.docs.db.transaction():
            self.docs.db.serialize("scheduler.groups")  # the name check, and the count against the quota
            existing = self._stored_group(scope, name)
            if existing is not None and token and existing.client_token == token:
                return existing
            if existing is not None or name == DEFAULT_GROUP:
                raise Conflict(f"Schedule group {name} already exists.")
            if len({g.name for g in self.groups(scope)} | {DEFAULT_GROUP}) >= MAX_GROUPS:
                raise AwsError(f"You can create at most {MAX_GROUPS} schedule groups.", "ServiceQuotaExceededException")
            self.docs.put(GROUP, scope, name, group)
        return group

    def group(self, scope: Scope, name: str | None) -> ScheduleGroup:
        name = name or DEFAULT_GROUP
        stored = self._stored_group(scope, name)
        if stored is not None:
            return stored
        if name == DEFAULT_GROUP:
            return self._default_group(scope)
        raise NotFound(f"Schedule group {name} does not exist.")

    def groups(self, scope: Scope) -> list[ScheduleGroup]:
        """The stored groups of one account and Region."""
        return self.docs.list(GROUP, ScheduleGroup, scope)

    def all_groups(self) -> list[ScheduleGroup]:
        """Every stored group of every account and Region."""
        return list(self.docs.iter_all(GROUP, ScheduleGroup))

    def _stored_group(self, scope: Scope, name: str) -> ScheduleGroup | None:
        return self.docs.get(GROUP, scope, name, ScheduleGroup)

    def _default_group(self, scope: Scope) -> ScheduleGroup:
        """The default group is always there; it is stored the first time it is asked for."""
        now = self.clock.now()
        group = ScheduleGroup(
            arn=scope.arn("scheduler", f"schedule-group/{DEFAULT_GROUP}"),
            name=DEFAULT_GROUP,
            creation_date=now,
            last_modification_date=now,
        )
        self.docs.put(GROUP, scope, DEFAULT_GROUP, group)
        return group

    def delete_group(self, scope: Scope, name: str) -> None:
        if name == DEFAULT_GROUP:
            raise ValidationError("You cannot delete the default schedule group.")
        self.group(scope, name)
        self.docs.delete_children(SCHEDULE, scope, name)
        self.docs.delete(GROUP, scope, name)
        self.on_change(None)

    def list_groups(
        self, scope: Scope, prefix: str = "", after: str = "", limit: int = 100
    ) -> tuple[list[ScheduleGroup], str | None]:
        self.group(scope, DEFAULT_GROUP)
        groups = self.docs.list(GROUP, ScheduleGroup, scope, prefix=prefix, after=after, limit=limit + 1)
        if len(groups) > limit:
            return groups[:limit], groups[limit - 1].name
        return groups, None

    # tags (schedule groups only, as on AWS) -------------------------------
    def tags(self, scope: Scope, resource_arn: str) -> list[dict[str, str]]:
        return self._group_of_arn(scope, resource_arn).tags

    def tag(self, scope: Scope, resource_arn: str, tags: list[dict[str, str]]) -> None:
        group = self._group_of_arn(scope, resource_arn)
        merged = {t["Key"]: t["Value"] for t in group.tags}
        merged.update({t["Key"]: t["Value"] for t in tags})
        self._set_tags(scope, group, [{"Key": k, "Value": v} for k, v in merged.items()])

    def untag(self, scope: Scope, resource_arn: str, keys: list[str]) -> None:
        group = self._group_of_arn(scope, resource_arn)
        self._set_tags(scope, group, [t for t in group.tags if t["Key"] not in set(keys)])

    def _set_tags(self, scope: Scope, group: ScheduleGroup, tags: list[dict[str, str]]) -> None:
        _check_tags(tags)
        self.docs.put(GROUP, scope, group.name, dataclasses.replace(group, tags=tags))
        self.on_change(None)  # tags such as cronbridge:no-overlap apply to the group's schedules

    def _group_of_arn(self, scope: Scope, resource_arn: str) -> ScheduleGroup:
        parsed = arns.parse(resource_arn)
        if (
            parsed is None or parsed.service != "scheduler" or not parsed.resource.startswith("schedule-group/")
            or not scope.owns(resource_arn)
        ):
            raise NotFound(f"Resource {resource_arn} does not exist.")
        name = parsed.resource.split("/", 1)[1]
        try:
            return self.group(scope, name)
        except AwsError as err:
            raise NotFound(f"Schedule group {name} does not exist.") from err


def _schedule_key(arn: str) -> tuple[Scope, str] | None:
    """(account and Region, GROUP/NAME) of a schedule ARN, or None when `arn` is not one."""
    parsed = arns.parse(arn)
    if parsed is None or parsed.service != "scheduler" or not parsed.resource.startswith("schedule/"):
        return None
    return Scope(parsed.account, parsed.region), parsed.resource.split("/", 1)[1]


def _check_tags(tags: list[dict[str, str]]) -> None:
    if len({t["Key"] for t in tags}) > MAX_TAGS:
        raise ValidationError(f"A resource can have at most {MAX_TAGS} tags.")
    if any(t["Key"].lower().startswith("aws:") for t in tags):
        raise ValidationError("Tag keys starting with 'aws:' are reserved for AWS use.")
