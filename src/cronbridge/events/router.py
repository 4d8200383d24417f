"""Routing: events put on a bus (PutEvents, ECS task state changes, alarms) matched against its rules and delivered
to their targets; every match and delivery recorded; failed deliveries retried, then dead-lettered."""

from __future__ import annotations

import json
import logging
import random
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from cronbridge.clock import Clock
from cronbridge.errors import AccessDenied, AwsError, NotFound, StoreUnavailable, ValidationError
from cronbridge.events.envelopes import Entry, ecs_task_state_change, entry_problem, from_entry, request_too_large
from cronbridge.events.pattern import FlatEvent, compile_pattern
from cronbridge.events.pattern.index import PatternIndex
from cronbridge.events.service import DEFAULT, EventsService, bus_name, rule_of_arn
from cronbridge.events.targets import Targets, compact, rule_invoker
from cronbridge.events.transform import Invocation, TransformFailed, target_input
from cronbridge.model.events import Rule, Target
from cronbridge.scheduler.deadletter import DeadLetterSink
from cronbridge.scheduler.policy import backoff, retryable
from cronbridge.scope import Scope
from cronbridge.store.coordination import Meta
from cronbridge.store.database import Database
from cronbridge.store.events import Delivery, EventLog, Match
from cronbridge.store.task_events import TaskEventLog

log = logging.getLogger("cronbridge.events")
MAX_HOPS = 5  # a bus target forwarding to a bus forwarding ... stops here
DEFAULT_ATTEMPTS = 185
DEFAULT_AGE = 86_400
TASK_CURSOR = "events.task_events_cursor"
TASK_POLL = 0.05  # seconds between looks at the task event log when it was empty
KEEP_SECONDS = 14 * 86400  # matches and finished deliveries are kept two weeks (as CloudWatch keeps metrics)
EXPIRE_EVERY = 3600.0
PERMANENT = (
    "AccessDenied",
    "AccessDeniedException",
    "ResourceNotFoundException",
    "NotFound",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
    "ClusterNotFoundException",
    "ClientException",
    "UnsupportedTarget",
    "TransformFailed",
)


@dataclass
class _BusIndex:
    version: int
    index: PatternIndex
    rules: dict[str, Rule]
    targets: dict[str, list[Target]]


class EventRouter:
    """Matches events against the rules of a bus (of one account and Region) and delivers them. Only the scheduler
    lease's holder follows the task event log and retries (`active`), so each is done once however many servers share
    the database."""

    def __init__(
        self,
        db: Database,
        events: EventsService,
        targets: Targets,
        dead_letters: DeadLetterSink,
        task_events: TaskEventLog,
        clock: Clock,
        active: Callable[[], bool],
    ) -> None:
        self.db = db
        self.events = events
        self.targets = targets
        self.dead_letters = dead_letters
        self.task_events = task_events
        self.clock = clock
        self.active = active
        self.log = EventLog(db)
        self.meta = Meta(db)
        self._indexes: dict[tuple[Scope, str], _BusIndex] = {}
        self._lock = threading.Lock()
        self._rng = random.Random()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._expired_at = 0.0

    def forget_cached(self) -> None:
        """Drop the buses' rule indexes (after a reset: the change counter starts again from zero)."""
        with self._lock:
            self._indexes.clear()

    # PutEvents -------------------------------------------------------------------------------------------------
    def put_events(self, entries: Sequence[Entry], scope: Scope) -> list[dict[str, str]]:
        """Each entry's EventId, or its ErrorCode and ErrorMessage; the rest of the request goes on. The buses are
        those of the request's account and Region."""
        if request_too_large(entries):
            raise ValidationError("Total size of the entries in the request is over the limit.")
        results: list[dict[str, str]] = []
        received = self.clock.now()
        with self.db.transaction():
            for entry in entries:
                problem = entry_problem(entry)
                if problem is not None:
                    results.append({"ErrorCode": problem[0], "ErrorMessage": problem[1]})
                    continue
                event_id = str(uuid.uuid4())
                event = from_entry(entry, event_id, scope.account, scope.region, received)
                bus = bus_name(entry.event_bus_name)
                if self.events.bus_exists(scope, bus):  # an unknown bus takes the event and nothing matches (AWS)
                    self.route(event, scope, bus)
                results.append({"EventId": event_id})
        return results

    def test_pattern(self, pattern: str, event_text: str) -> bool:
        """TestEventPattern: the event must be JSON with EventBridge's envelope fields."""
        try:
            event = json.loads(event_text)
        except ValueError:
            raise ValidationError("Parameter Event is not valid.") from None
        required = ("id", "account", "source", "time", "region", "detail-type")
        if not isinstance(event, dict) or any(k not in event for k in required):
            raise ValidationError("Parameter Event is not valid.")
        return compile_pattern(pattern).matches_text(event_text)

    # routing ---------------------------------------------------------------------------------------------------
    def route(self, event: dict[str, Any], scope: Scope, bus: str = DEFAULT, hops: int = 0) -> int:
        """Deliver an event to the targets of every enabled rule on the bus (of that account and Region) it matches;
        the number of rules."""
        if hops > MAX_HOPS:
            log.warning("event %s dropped: more than %d buses forwarded it", event.get("id"), MAX_HOPS)
            return 0
        state = self._index(scope, bus)
        flat = FlatEvent.from_document(event)
        matched = 0
        now = self.clock.now()
        text = compact(event)
        with self.db.transaction():
            for key in state.index.matching(flat):
                rule = state.rules[str(key)]
                if rule.state != "ENABLED":
                    continue
                matched += 1
                targets = state.targets.get(rule.name, [])
                self.log.record_match(Match(now, bus, rule.name, rule.arn, str(event.get("id")), len(targets), text))
                for target in targets:
                    self._invoke(rule, target, event, text, bus, hops, now)
        return matched

    def _index(self, scope: Scope, bus: str) -> _BusIndex:
        version = self.log.rules_version()
        with self._lock:
            cached = self._indexes.get((scope, bus))
            if cached is not None and cached.version == version:
                return cached
        rules = {r.name: r for r in self.events.rules_on(scope, bus) if r.event_pattern}
        patterns = []
        for rule in rules.values():
            try:
                patterns.append((rule.name, compile_pattern(rule.event_pattern or "")))
            except AwsError:
                log.warning("rule %s has a pattern that no longer compiles; it matches nothing", rule.arn)
        on_bus = self.events.targets_on(scope, bus)
        targets = {name: on_bus.get(name, []) for name in rules}
        built = _BusIndex(version, PatternIndex.of(patterns), rules, targets)
        with self._lock:
            self._indexes[(scope, bus)] = built
        return built

    # delivery --------------------------------------------------------------------------------------------------
    def _invoke(
        self, rule: Rule, target: Target, event: dict[str, Any], text: str, bus: str, hops: int, now: float
    ) -> None:
        delivery = Delivery(
            0, now, str(event.get("id")), bus, rule.name, rule.arn, target.id, target.arn, "PENDING", 0, "", text
        )
        try:
            payload = target_input(
                Invocation(rule.arn, rule.name, event, _iso(now)),
                target.input,
                target.input_path,
                target.input_transformer,
            )
        except TransformFailed as failed:
            self._finish(rule, target, delivery, AwsError(str(failed), "TransformFailed"), now)
            return
        self._attempt(rule, target, replace(delivery, payload=payload), event, hops)

    def _attempt(self, rule: Rule, target: Target, delivery: Delivery, event: dict[str, Any], hops: int) -> None:
        """One delivery attempt; its outcome recorded (a first attempt's row is written with it, in one insert)."""
        now = self.clock.now()
        delivery = replace(delivery, attempts=delivery.attempts + 1)
        try:
            with self.db.savepoint():
                invoker = rule_invoker(rule)
                delivered = self.targets.deliver(invoker, target, delivery.payload, event, self.forward, hops)
        except AwsError as err:
            self._failed(rule, target, delivery, err, now)
            return
        except Exception as exc:  # a bug of ours: recorded, not lost
            log.exception("delivery to %s failed", target.arn)
            self._failed(rule, target, delivery, AwsError(f"internal error: {exc}", "InternalFailure", 500), now)
            return
        self._save(
            replace(
                delivery,
                state="SUCCEEDED",
                finished_at=now,
                next_attempt_at=None,
                task_arns=delivered.task_arns,
                delivered=delivered.detail,
            )
        )

    def _save(self, delivery: Delivery) -> None:
        if delivery.id:
            self.log.update_delivery(delivery)
        else:
            self.log.record_delivery(delivery)

    def forward(self, event: dict[str, Any], scope: Scope, bus: str, hops: int) -> None:
        """An event put on a bus (of that account and Region) by a target (a rule's, a scheduled rule's or a
        schedule's): routed there."""
        if not self.events.bus_exists(scope, bus):
            raise NotFound(f"Event bus {bus} does not exist.")
        self.route(event, scope, bus, hops)

    def _failed(self, rule: Rule, target: Target, delivery: Delivery, err: AwsError, now: float) -> None:
        policy = target.retry_policy
        attempts = policy.maximum_retry_attempts if policy and policy.maximum_retry_attempts is not None else None
        age = policy.maximum_event_age_in_seconds if policy and policy.maximum_event_age_in_seconds else DEFAULT_AGE
        limit = DEFAULT_ATTEMPTS if attempts is None else attempts
        transient = retryable(err) or not _permanent(err)
        when = now + backoff(delivery.attempts, self._rng)
        if transient and delivery.attempts <= limit and when - delivery.at < age:
            failed = replace(
                delivery, state="PENDING", next_attempt_at=when, error_code=err.code, error_message=err.message
            )
            self._save(failed)
            self._wake.set()
            return
        self._finish(rule, target, delivery, err, now)

    def _finish(self, rule: Rule, target: Target, delivery: Delivery, err: AwsError, now: float) -> None:
        """Give up: FailedInvocations counts it, and the dead-letter queue (if any) gets the event."""
        dead_letter = None
        arn = target.dead_letter_config.arn if target.dead_letter_config else None
        if arn:
            attributes = {
                "RULE_ARN": rule.arn,
                "TARGET_ARN": target.arn,
                "ERROR_CODE": err.code,
                "ERROR_MESSAGE": err.message[:256],
                "RETRY_ATTEMPTS": str(max(delivery.attempts - 1, 0)),
            }
            try:
                self.dead_letters.send_by_arn(arn, delivery.event, attributes)
                dead_letter = "SENT"
            except AwsError:
                dead_letter = "FAILED"
        done = replace(
            delivery,
            state="FAILED",
            finished_at=now,
            next_attempt_at=None,
            error_code=err.code,
            error_message=err.message,
            dead_letter=dead_letter,
        )
        self._save(done)
        log.info("delivery of event %s to %s failed: %s", delivery.event_id, target.arn, err.message)

    # background: retries and the task event log ---------------------------------------------------------------
    def start(self) -> None:
        for target in (self._retries, self._follow_tasks):
            thread = threading.Thread(target=target, name=f"events-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(5)

    def _retries(self) -> None:
        while not self._stop.is_set():
            due = self.log.next_due() if self.active() else None
            deadline = min(due, self.clock.now() + 1.0) if due is not None else self.clock.now() + 1.0
            self._wake.clear()
            self.clock.wait_until(deadline, self._wake)
            if self._stop.is_set():
                return
            if self.active():
                self._run_due()
                self._expire()

    def _expire(self) -> None:
        now = self.clock.now()
        if now - self._expired_at >= EXPIRE_EVERY:
            self._expired_at = now
            self.log.expire(now - KEEP_SECONDS)

    def _run_due(self) -> None:
        for delivery in self.log.due(self.clock.now()):
            found = self._rule_and_target(delivery)
            if found is None:
                self.log.update_delivery(
                    replace(
                        delivery,
                        state="FAILED",
                        finished_at=self.clock.now(),
                        error_code="ResourceNotFoundException",
                        error_message="The rule or target no longer exists.",
                    )
                )
                continue
            with self.db.transaction():
                self._attempt(*found, delivery, json.loads(delivery.event), 0)

    def _rule_and_target(self, delivery: Delivery) -> tuple[Rule, Target] | None:
        """The rule (in the account and Region of its ARN) and target a retry is for; None when either is gone."""
        where = rule_of_arn(delivery.rule_arn)
        if where is None:
            return None
        scope = where[0]
        rule = self.events.find(scope, delivery.rule_name, delivery.bus)
        if rule is None:
            return None
        targets = self.events.targets(scope, rule.name, delivery.bus)
        return next(((rule, t) for t in targets if t.id == delivery.target_id), None)

    def _follow_tasks(self) -> None:
        """ECS Task State Change: every transition the task event log records, onto the default bus of the task's
        account and Region."""
        while not self._stop.is_set():
            moved = False
            try:
                moved = self.active() and self.emit_task_events()
            except StoreUnavailable as exc:  # the database is away: followed again once it is back
                log.warning("routing task state changes: %s", exc)
            except Exception:  # keep following: one bad row must not stop the stream
                log.exception("routing task state changes failed")
            if not moved:
                self._stop.wait(TASK_POLL)

    def emit_task_events(self, limit: int = 200) -> bool:
        """Route the task state changes recorded since the last call; True when there were some."""
        stored = self.meta.get(TASK_CURSOR)
        if stored is None:  # first start: only what happens from now on
            self.meta.put(TASK_CURSOR, str(self.task_events.last_id()))
            return False
        found = self.task_events.list(after_id=int(stored), limit=limit)
        if not found:
            return False
        with self.db.transaction():
            for row in found:
                parts = row.task.task_arn.split(":")
                event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"task-event/{row.id}"))
                event = ecs_task_state_change(row.task, row.at, event_id, parts[4], parts[3])
                self.route(event, Scope(parts[4], parts[3]), DEFAULT)
            self.meta.put(TASK_CURSOR, str(found[-1].id))
        return True


def _permanent(err: AwsError) -> bool:
    """Missing permissions, a target that no longer exists, a bad request: AWS does not retry them."""
    if isinstance(err, NotFound | AccessDenied):
        return True
    return (
        err.code in PERMANENT
        or err.code in ("ValidationException", "InvalidParameterException")
        or err.status == 400
        and err.code.endswith("NotFoundException")
    )


def _iso(instant: float) -> str:
    return datetime.fromtimestamp(int(instant), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
