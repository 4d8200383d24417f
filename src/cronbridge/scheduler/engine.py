"""The scheduler: a heap of next fire times and one wake-up signal; every slot is claimed in the invocation log
before its launch, so a slot launches at most once, even across crashes (the launch's clientToken is the slot's)."""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cronbridge.clock import Clock
from cronbridge.codec import camel, decode
from cronbridge.errors import AwsError, ValidationError
from cronbridge.events.service import EventsService
from cronbridge.model.ecs import Tag, TaskOverride
from cronbridge.model.events import EcsParameters, Rule, Target
from cronbridge.runner import Runner, RunTaskRequest
from cronbridge.scheduler.sources import Plan, RuleSource, Source, rule_next_fire
from cronbridge.store.db import Database
from cronbridge.store.invocations import Invocation, InvocationLog

log = logging.getLogger("cronbridge.scheduler")
DEFAULT_MAX_AGE = 86400
DEFAULT_MAX_ATTEMPTS = 185
RETRYABLE_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException"})


def slot_token(rule_arn: str, target_id: str, scheduled_at: float, manual: bool = False) -> str:
    """The RunTask clientToken of a slot: the same slot always gets the same token (64 hex characters)."""
    key = f"{rule_arn}|{target_id}|{scheduled_at:.3f}|{'manual' if manual else 'scheduled'}"
    return hashlib.sha256(key.encode()).hexdigest()


def next_fire(rule: Rule, after: float) -> float | None:
    """The rule's first fire time strictly after `after` (rates count from when the schedule was set)."""
    return rule_next_fire(rule, after)


# a heap entry: (launch instant, plan key, generation of the plan's entry, the slot's scheduled instant)
Entry = tuple[float, str, int, float]


class Scheduler:
    """Fires enabled rules and schedules (its Sources' plans) on time; never blocks on a launch; records every outcome.
    Planning (which slot, when) is by plan key; launching (claim, RunTask, retries) takes a Plan."""

    def __init__(self, db: Database, events: EventsService, runner: Runner, clock: Clock, workers: int = 8) -> None:
        self.events = events
        self.runner = runner
        self.clock = clock
        self.log = InvocationLog(db)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._dirty = True
        self._changed: set[str] = set()
        self._changed_lock = threading.Lock()
        self._heap: list[Entry] = []
        self._generation: dict[str, int] = {}
        self.sources: dict[str, Source] = {}
        self.add_source(RuleSource(events))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="launch")
        self._thread = threading.Thread(target=self._loop, daemon=True, name="scheduler")

    # control --------------------------------------------------------------
    def start(self) -> None:
        for invocation in self.log.pending():
            self._resume(invocation)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def add_source(self, source: Source) -> None:
        self.sources[source.kind] = source
        self._dirty = True

    def wake(self, rule_name: str | None = None) -> None:
        """Something changed: one rule (re-plan just it) or, with no name, everything."""
        self.wake_key(None if rule_name is None else f"rule:{rule_name}")

    def wake_key(self, key: str | None = None) -> None:
        """Something changed: one plan ("rule:NAME", "schedule:GROUP/NAME"), or with no key, everything."""
        if key is None:
            self._dirty = True
        else:
            with self._changed_lock:
                self._changed.add(key)
        self._wake.set()

    def pause(self) -> None:
        self._paused.set()
        self._wake.set()

    def resume(self) -> None:
        self._paused.clear()
        self.wake()

    # the loop -------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:  # keep firing other rules whatever one of them does
                log.exception("scheduler step failed")
                self.clock.wait_until(self.clock.now() + 1, self._stop)

    def _step(self) -> None:
        if self._paused.is_set():
            self._wake.wait(0.1)
            self._wake.clear()
            return
        if self._dirty:
            self._dirty = False
            self._rebuild()
        self._replan_changed()
        deadline = self._heap[0][0] if self._heap else self.clock.now() + 3600
        self._wake.clear()
        if self.clock.wait_until(deadline, self._wake) or self._stop.is_set():
            return
        self._fire_due()

    def _rebuild(self) -> None:
        with self._changed_lock:
            self._changed.clear()
        now = self.clock.now()
        self._heap, self._generation = [], {}
        for source in list(self.sources.values()):
            for plan in source.plans():
                self._plan(plan, now)
        heapq.heapify(self._heap)

    def _replan_changed(self) -> None:
        with self._changed_lock:
            keys, self._changed = self._changed, set()
        now = self.clock.now()
        for key in keys:
            self._generation[key] = self._generation.get(key, 0) + 1  # retires the plan's old heap entry
            plan = self._current(key)
            if plan is not None:
                self._plan(plan, now, push=True)

    def _plan(self, plan: Plan, now: float, push: bool = False) -> None:
        slot = self._first_slot(plan, now)
        if slot is None:
            return
        entry = (plan.launch_at(slot), plan.key, self._generation.setdefault(plan.key, 0), slot)
        if push:
            heapq.heappush(self._heap, entry)
        else:
            self._heap.append(entry)

    def _first_slot(self, plan: Plan, now: float) -> float | None:
        """The oldest slot still owed: after the last one recorded, not before the plan was (re)enabled,
        and not older than the event age a target accepts (older ones are skipped, saying so)."""
        cursor = max(self.log.last_slot(plan.arn) or 0.0, plan.not_before)
        oldest_owed = now - self._max_age(plan)
        if cursor < oldest_owed:
            log.warning("%s: slots before %s are past the maximum event age: skipped", plan.key, oldest_owed)
            cursor = oldest_owed
        return plan.next_slot(cursor)

    def _max_age(self, plan: Plan) -> float:
        ages = [
            (t.retry_policy.maximum_event_age_in_seconds if t.retry_policy else None) or DEFAULT_MAX_AGE
            for t in plan.targets
        ]
        return float(max(ages, default=DEFAULT_MAX_AGE))

    def _fire_due(self) -> None:
        now = self.clock.now()
        while self._heap and self._heap[0][0] <= now and not self._dirty:
            _when, key, generation, slot = heapq.heappop(self._heap)
            if generation != self._generation.get(key):
                continue
            plan = self._current(key)
            if plan is None:
                continue
            self.fire(plan, slot)
            following = plan.next_slot(slot)
            if following is not None:
                heapq.heappush(self._heap, (plan.launch_at(following), key, generation, following))
            else:
                self.sources[key.split(":", 1)[0]].completed(plan)

    def _current(self, key: str) -> Plan | None:
        kind, _, name = key.partition(":")
        source = self.sources.get(kind)
        return source.plan(name) if source is not None else None

    def _plan_of_arn(self, arn: str) -> Plan | None:
        for source in self.sources.values():
            name = source.name_of_arn(arn)
            if name is not None:
                return source.plan(name)
        return None

    # firing ---------------------------------------------------------------
    def fire(self, plan: Plan, scheduled_at: float, manual: bool = False) -> list[Invocation]:
        """Claim the slot for every target and hand each launch to the pool; returns the claimed invocations."""
        claimed: list[Invocation] = []
        for target in plan.targets:
            token = slot_token(plan.arn, target.id, scheduled_at, manual)
            invocation = self.log.claim(plan.arn, plan.name, target.id, scheduled_at, token, manual)
            if invocation is not None:
                claimed.append(invocation)
                if not manual:
                    self._pool.submit(self._launch, plan, target, invocation)
        return claimed

    def run_now(self, rule_name: str) -> list[Invocation]:
        """Launch every target of the rule now, as a manual invocation, and return the recorded outcomes."""
        rule = self.events.rule(rule_name)
        return self.run_plan_now(RuleSource(self.events).plan_of(rule))

    def run_plan_now(self, plan: Plan) -> list[Invocation]:
        """Launch every target of a plan now (enabled or not), as a manual invocation; returns the outcomes."""
        claimed = self.fire(plan, self.clock.now(), manual=True)
        targets = {t.id: t for t in plan.targets}
        for invocation in claimed:
            self._launch(plan, targets[invocation.target_id], invocation)
        return [self.log.get(i.id) or i for i in claimed]

    def _resume(self, invocation: Invocation) -> None:
        """A slot claimed by a process that died before recording its outcome: launch it again, same token."""
        plan = self._plan_of_arn(invocation.rule_arn)
        if plan is None:
            self._record_failure(invocation, AwsError("The rule was deleted before its target ran.", "RuleNotFound"))
            return
        target = next((t for t in plan.targets if t.id == invocation.target_id), None)
        if target is None:
            self._record_failure(invocation, AwsError("The target was removed before it ran.", "TargetNotFound"))
            return
        self._pool.submit(self._launch, plan, target, invocation)

    def _launch(self, rule: Plan, target: Target, invocation: Invocation) -> None:
        policy = target.retry_policy
        retries = DEFAULT_MAX_ATTEMPTS
        if policy is not None and policy.maximum_retry_attempts is not None:
            retries = policy.maximum_retry_attempts
        max_attempts = 1 + retries
        max_age = (policy.maximum_event_age_in_seconds if policy else None) or DEFAULT_MAX_AGE
        attempt = 0
        while True:
            attempt += 1
            self.log.attempt(invocation.id, self.clock.now())
            try:
                result = self.runner.run_task(run_task_request(rule, target, invocation))
            except AwsError as err:
                if not _retryable(err) or attempt >= max_attempts or self._too_old(invocation, max_age, attempt):
                    self._record_failure(invocation, err)
                    return
                self.clock.wait_until(self.clock.now() + _backoff(attempt), self._stop)
                continue
            except Exception as exc:  # a bug of ours: record it rather than lose the slot silently
                log.exception("launch of %s failed", rule.name)
                self._record_failure(invocation, AwsError(f"internal error: {exc}", "InternalFailure", 500))
                return
            self._record_result(invocation, [t.task_arn for t in result.tasks], result.failures)
            return

    def _too_old(self, invocation: Invocation, max_age: float, attempt: int) -> bool:
        return self.clock.now() + _backoff(attempt) > invocation.scheduled_at + max_age

    def _record_result(self, invocation: Invocation, task_arns: list[str], failures: list[Any]) -> None:
        now = self.clock.now()
        if task_arns:
            self.log.finish(invocation.id, "SUCCEEDED", now, task_arns)
        else:
            reasons = "; ".join(f"{f.reason}" + (f" ({f.detail})" if f.detail else "") for f in failures)
            self.log.finish(invocation.id, "FAILED", now, [], "RunTaskFailures", reasons or "no task was started")

    def _record_failure(self, invocation: Invocation, err: AwsError) -> None:
        self.log.finish(invocation.id, "FAILED", self.clock.now(), [], err.code, err.message)

    # queries --------------------------------------------------------------
    def invocations(self, rule_name: str | None = None, limit: int = 100) -> list[Invocation]:
        return self.log.recent(rule_name, limit)


def _retryable(err: AwsError) -> bool:
    return err.status >= 500 or err.code in RETRYABLE_CODES


def _backoff(attempt: int) -> float:
    return float(min(2 ** (attempt - 1), 60)) * (0.5 + random.random() / 2)


def run_task_request(rule: Plan, target: Target, invocation: Invocation) -> RunTaskRequest:
    """What EventBridge asks ECS for: the target's EcsParameters, its Input as overrides, the slot's token."""
    ecs = target.ecs_parameters or EcsParameters()
    vpc = ecs.network_configuration.awsvpc_configuration if ecs.network_configuration else None
    network = None
    if vpc is not None:
        network = {"awsvpc_configuration": {
            "subnets": vpc.subnets, "security_groups": vpc.security_groups or [],
            "assign_public_ip": vpc.assign_public_ip or "DISABLED"}}
    return RunTaskRequest(
        region=rule.region, account=rule.account, task_definition=ecs.task_definition_arn,
        cluster=target.arn, count=ecs.task_count or 1, launch_type=ecs.launch_type,
        platform_version=ecs.platform_version, network_configuration=network,
        overrides=parse_input(target.input), started_by=rule.started_by,
        group=ecs.group, client_token=invocation.client_token,
        enable_execute_command=bool(ecs.enable_execute_command),
        tags=[Tag(t.get("key") or t.get("Key"), t.get("value") or t.get("Value")) for t in ecs.tags or []] or None,
        propagate_tags=ecs.propagate_tags,
    )


def parse_input(text: str | None) -> TaskOverride | None:
    """A target's Input for an ECS target: the RunTask overrides object ({"containerOverrides": [...]})."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"Target Input is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValidationError("Target Input for an ECS target must be a JSON object of task overrides.")
    return decode(TaskOverride, value, camel)
