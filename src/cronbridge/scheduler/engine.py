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

from cronbridge.authorizer import Authorizer
from cronbridge.clock import Clock
from cronbridge.codec import camel, decode
from cronbridge.errors import AwsError, ValidationError
from cronbridge.events.service import EventsService
from cronbridge.model.ecs import Tag, TaskOverride
from cronbridge.model.events import EcsParameters, Rule, Target
from cronbridge.runner import Runner, RunTaskRequest
from cronbridge.schedule import parse
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
    if not rule.schedule_expression:
        return None
    schedule = parse(rule.schedule_expression, allow_at=False)
    start = rule.schedule_set_at if schedule.kind == "rate" else None
    return schedule.next_after(after, "UTC", start=start)


class Scheduler:
    """Fires enabled scheduled rules on time; never blocks on a launch; records every outcome."""

    def __init__(self, db: Database, events: EventsService, runner: Runner, clock: Clock, workers: int = 8) -> None:
        self.events = events
        self.runner = runner
        self.clock = clock
        self.log = InvocationLog(db)
        self.authorizer: Authorizer | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._dirty = True
        self._changed: set[str] = set()
        self._changed_lock = threading.Lock()
        self._heap: list[tuple[float, str, int]] = []
        self._generation: dict[str, int] = {}
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

    def wake(self, rule_name: str | None = None) -> None:
        """Something changed: one rule (re-plan just it) or, with no name, everything."""
        if rule_name is None:
            self._dirty = True
        else:
            with self._changed_lock:
                self._changed.add(rule_name)
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
        for rule in self.events.all_rules():
            self._plan(rule, now)
        heapq.heapify(self._heap)

    def _replan_changed(self) -> None:
        with self._changed_lock:
            names, self._changed = self._changed, set()
        now = self.clock.now()
        for name in names:
            self._generation[name] = self._generation.get(name, 0) + 1  # retires the rule's old heap entry
            rule = self._current(name)
            if rule is not None:
                self._plan(rule, now, push=True)

    def _plan(self, rule: Rule, now: float, push: bool = False) -> None:
        if rule.state != "ENABLED" or not rule.schedule_expression:
            return
        when = self._first_slot(rule, now)
        if when is None:
            return
        entry = (when, rule.name, self._generation.setdefault(rule.name, 0))
        if push:
            heapq.heappush(self._heap, entry)
        else:
            self._heap.append(entry)

    def _first_slot(self, rule: Rule, now: float) -> float | None:
        """The oldest slot still owed: after the last one recorded, not before the rule was (re)enabled,
        and not older than the event age a target accepts (older ones are skipped, saying so)."""
        cursor = max(self.log.last_slot(rule.arn) or 0.0, rule.enabled_at, rule.schedule_set_at)
        oldest_owed = now - self._max_age(rule)
        if cursor < oldest_owed:
            log.warning("rule %s: slots before %s are past the maximum event age: skipped", rule.name, oldest_owed)
            cursor = oldest_owed
        return next_fire(rule, cursor)

    def _max_age(self, rule: Rule) -> float:
        ages = [
            (t.retry_policy.maximum_event_age_in_seconds if t.retry_policy else None) or DEFAULT_MAX_AGE
            for t in self.events.targets(rule.name)
        ]
        return float(max(ages, default=DEFAULT_MAX_AGE))

    def _fire_due(self) -> None:
        now = self.clock.now()
        while self._heap and self._heap[0][0] <= now and not self._dirty:
            when, name, generation = heapq.heappop(self._heap)
            if generation != self._generation.get(name):
                continue
            rule = self._current(name)
            if rule is None:
                continue
            self.fire(rule, when)
            following = next_fire(rule, when)
            if following is not None:
                heapq.heappush(self._heap, (following, name, generation))

    def _current(self, name: str) -> Rule | None:
        try:
            rule = self.events.rule(name)
        except AwsError:
            return None
        return rule if rule.state == "ENABLED" else None

    # firing ---------------------------------------------------------------
    def fire(self, rule: Rule, scheduled_at: float, manual: bool = False) -> list[Invocation]:
        """Claim the slot for every target and hand each launch to the pool; returns the claimed invocations."""
        claimed: list[Invocation] = []
        for target in self.events.targets(rule.name):
            token = slot_token(rule.arn, target.id, scheduled_at, manual)
            invocation = self.log.claim(rule.arn, rule.name, target.id, scheduled_at, token, manual)
            if invocation is not None:
                claimed.append(invocation)
                if not manual:
                    self._pool.submit(self._launch, rule, target, invocation)
        return claimed

    def run_now(self, rule_name: str) -> list[Invocation]:
        """Launch every target of the rule now, as a manual invocation, and return the recorded outcomes."""
        rule = self.events.rule(rule_name)
        claimed = self.fire(rule, self.clock.now(), manual=True)
        targets = {t.id: t for t in self.events.targets(rule.name)}
        for invocation in claimed:
            self._launch(rule, targets[invocation.target_id], invocation)
        return [self.log.get(i.id) or i for i in claimed]

    def _resume(self, invocation: Invocation) -> None:
        """A slot claimed by a process that died before recording its outcome: launch it again, same token."""
        try:
            rule = self.events.rule(invocation.rule_name)
        except AwsError:
            self._record_failure(invocation, AwsError("The rule was deleted before its target ran.", "RuleNotFound"))
            return
        target = next((t for t in self.events.targets(rule.name) if t.id == invocation.target_id), None)
        if target is None:
            self._record_failure(invocation, AwsError("The target was removed before it ran.", "TargetNotFound"))
            return
        self._pool.submit(self._launch, rule, target, invocation)

    def _launch(self, rule: Rule, target: Target, invocation: Invocation) -> None:
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
                request = run_task_request(rule, target, invocation)
                if self.authorizer is not None:  # IAM: assume the target's role, authorize RunTask as it
                    self.authorizer.authorize_rule_launch(self.runner.ecs, rule.arn, target.role_arn, request)
                result = self.runner.run_task(request)
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


def run_task_request(rule: Rule, target: Target, invocation: Invocation) -> RunTaskRequest:
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
        overrides=parse_input(target.input), started_by=f"events-rule/{rule.name}"[:128],
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
