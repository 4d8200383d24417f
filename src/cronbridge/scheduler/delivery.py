"""How a claimed slot is launched, retried, dead-lettered and recorded: RunTask attempts (ECS targets) and deliveries
(SQS, another bus, a log group: events/targets.py) in batches on a pool, each retry's time stored before it waits,
the give-up and its dead letter written in one transaction."""

from __future__ import annotations

import hashlib
import heapq
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from cronbridge.clock import Clock
from cronbridge.ecs.runtime.runner import Recorded, Runner, RunTaskRequest, TaskStart
from cronbridge.errors import AwsError, StoreUnavailable
from cronbridge.events.targets import Forward, Invoker, Targets, target_service
from cronbridge.identity.authorizer import EVENTS, SCHEDULER, Authorizer
from cronbridge.model.events import Target
from cronbridge.schedule import parse
from cronbridge.scheduler.deadletter import DeadLetter, DeadLetterSink, iso
from cronbridge.scheduler.payloads import is_schedule, run_task_request, slot_event, slot_payload
from cronbridge.scheduler.policy import AGE_EXCEEDED, RetryRules, retryable, retryable_failure
from cronbridge.scheduler.sources import Plan
from cronbridge.store.database import Database
from cronbridge.store.invocations import Claim, Invocation, InvocationLog, Outcome

log = logging.getLogger("cronbridge.scheduler")
SAMPLED_EXPIRED = 100  # dead letters sent for one run of expired slots (the row counts them all)
COUNTED_EXPIRED = 10_000  # cron slots counted one by one in a run of expired slots, at most
LAUNCH_BATCH = 64  # claimed slots launched per transaction
LEASE_RECHECK = 0.5  # seconds before a slot held back by a late lease renewal is looked at again
START_HOLD = 0.5  # seconds a recorded task may wait for the rest of its burst to be recorded before it starts

Resolver = Callable[[Invocation], "tuple[Plan, Target] | AwsError"]
Launch = tuple[Plan, Target, Invocation]  # a claimed slot's target, ready for its RunTask


def slot_token(rule_arn: str, target_id: str, scheduled_at: float, manual: bool = False) -> str:
    """The RunTask clientToken of a slot: the same slot always gets the same token (64 hex characters)."""
    key = f"{rule_arn}|{target_id}|{scheduled_at:.3f}|{'manual' if manual else 'scheduled'}"
    return hashlib.sha256(key.encode()).hexdigest()


class _AlreadyDone(Exception):
    """Another process recorded the outcome first: roll back (the dead letter too)."""


class Faults:
    """A test hook (CRONBRIDGE_INJECT_RUNTASK_ERRORS="target:Code:N,..."): the first N attempts of every slot of
    that target fail with that error code before RunTask (or the delivery to another kind of target) is made (5xx for
    ServerException, InternalFailure and ServiceUnavailable, else 400)."""

    def __init__(self, spec: str) -> None:
        self.rules: dict[str, tuple[str, int]] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            target, code, count = item.rsplit(":", 2)
            self.rules[target] = (code, int(count))

    def check(self, target_id: str, attempt: int) -> None:
        rule = self.rules.get(target_id)
        if rule is not None and attempt <= rule[1]:
            status = 500 if rule[0] in ("ServerException", "InternalFailure", "ServiceUnavailable") else 400
            raise AwsError(f"injected failure {attempt} of {rule[1]}", rule[0], status)


class Delivery:
    """Launches claimed slots on a pool, keeps retries in a heap backed by the invocation log, dead-letters."""

    def __init__(
        self,
        db: Database,
        log_: InvocationLog,
        runner: Runner,
        clock: Clock,
        authorizer: Authorizer,
        dead_letters: DeadLetterSink,
        resolve: Resolver,
        active: Callable[[], bool],
        targets: Targets,
        forward: Forward,
        faults: Faults | None = None,
        workers: int = 32,
    ) -> None:
        self.db = db
        self.targets = targets  # SQS, another bus, a log group (ECS targets launch through the runner, in batches)
        self.forward = forward  # a bus target's event, routed on its bus (events/router.py)
        self.log = log_
        self.runner = runner
        self.clock = clock
        self.authorizer = authorizer  # IAM: the target's role must be assumable and allowed to launch
        self.dead_letters = dead_letters
        self.resolve = resolve  # an invocation's plan and target now (None: gone)
        self.active = active  # whether this process may launch (it holds the scheduler lease)
        self.faults = faults
        self.rng = random.Random()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="launch")
        self._retries: list[tuple[float, int]] = []
        self._due: dict[int, float] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="retries")
        self._launching = 0  # batches submitted and not yet recorded
        self._lease_epoch = 0  # changes when the lease is lost: slots waiting for it are then forgotten
        self._held: list[TaskStart] = []  # recorded tasks waiting for the burst's last batch
        self._held_since: float | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.pool.shutdown(wait=False, cancel_futures=True)

    # claiming -------------------------------------------------------------
    def fire(self, plan: Plan, slot: float, manual: bool = False) -> list[Invocation]:
        """Claim the slot for every target at once (targets past their maximum event age are recorded as
        expired instead); returns the invocations claimed now, to launch once the claim has committed."""
        now = self.clock.now()
        born = plan.launch_at(slot)  # an event is as old as its planned launch (a flexible window delays it)
        live = [t for t in plan.targets if manual or not RetryRules.of(t).expired(born, now)]
        expired = [t for t in plan.targets if t not in live]
        claims = [Claim(t.id, slot_token(plan.arn, t.id, slot, manual)) for t in live]
        with self.db.transaction():
            claimed = self.log.claim_slot(plan.arn, plan.name, slot, claims, now, manual)
            for target in expired:
                self._expire(plan, target, slot, slot, 1, [slot], now)
        return claimed

    def expire_range(self, plan: Plan, after: float, boundary: float, now: float) -> None:
        """Slots after `after` up to `boundary` are past every target's maximum event age (downtime): one summary
        row per target, and dead letters for the first ones; costs nothing per minute of downtime."""
        first = plan.next_slot(after)
        if first is None or first > boundary or not plan.targets:
            return
        sample, count = _expired_slots(plan, first, boundary)
        with self.db.transaction():
            for target in plan.targets:
                self._expire(plan, target, first, boundary, count, sample, now)
        log.warning(
            "%s: %d slot(s) from %s to %s passed the maximum event age while cronbridge was down: recorded as expired",
            plan.key,
            count,
            iso(first),
            iso(boundary),
        )

    def _expire(
        self, plan: Plan, target: Target, first: float, until: float, count: int, sample: Sequence[float], now: float
    ) -> None:
        token = slot_token(plan.arn, target.id, first)
        what = f"{count} slots up to {iso(until)}" if count > 1 else "the slot"
        message = (
            f"{what} passed the target's maximum event age ({RetryRules.of(target).max_age:.0f} s)"
            " before it could be launched"
        )
        outcome = Outcome("FAILED", (), AGE_EXCEEDED, message, AGE_EXCEEDED)
        row = self.log.record_expired(plan.arn, plan.name, target.id, first, until, count, token, now, outcome)
        if row is None or not _dead_letter_arn(target):
            return
        results = [
            self._send(
                plan,
                target,
                DeadLetter(
                    plan.arn,
                    is_schedule(plan),
                    target,
                    slot,
                    slot_token(plan.arn, target.id, slot),
                    0,
                    AGE_EXCEEDED,
                    message,
                    AGE_EXCEEDED,
                ),
            )
            for slot in sample
        ]
        sent = sum(1 for state, _ in results if state == "SENT")
        state = "SENT" if sent == len(results) else "FAILED"
        detail = results[-1][1] if state == "FAILED" else f"{sent} message(s)" if count > 1 else results[0][1]
        if count > len(sample):
            detail = f"{detail}; {len(sample)} of {count} slots sent"
        self.log.set_dead_letter(row.id, state, detail)

    def prepare(self, plan: Plan, slot: float) -> None:
        """Ahead of a slot: decide its launches' IAM questions now, so that at the instant only the RunTasks are
        left to do (the decisions are remembered until the identity store changes; a refusal is decided again,
        and recorded, when the slot fires)."""
        for target in plan.targets:
            if not is_ecs(target):
                continue
            placeholder = Invocation(0, plan.arn, plan.name, target.id, slot, False, "PENDING", "")
            try:
                self._authorize(plan, target, run_task_request(plan, target, placeholder))
            except AwsError:
                continue

    def _authorize(self, plan: Plan, target: Target, request: RunTaskRequest) -> None:
        """IAM along the chain: the target's role assumable by the service, and allowed to make this RunTask."""
        service = SCHEDULER if is_schedule(plan) else EVENTS
        self.authorizer.authorize_rule_launch(self.runner.ecs, plan.arn, target.role_arn, request, service)

    # attempts -------------------------------------------------------------
    def attempt(self, plan: Plan, target: Target, invocation: Invocation) -> None:
        """One RunTask attempt; its outcome is recorded, or the next attempt's time stored and scheduled.
        A manual (run-now) invocation is attempted, and retried, by whichever server was asked."""
        self.launch_batch([(plan, target, invocation)])

    def submit(self, items: Sequence[Launch]) -> None:
        """Launch a batch of claimed slots on the pool. The tasks of a burst start once every batch of it is
        recorded (or, looked at as each batch is recorded, once the first has waited START_HOLD seconds): their
        containers' lifecycles do not slow the RunTasks still to come."""
        with self._lock:
            self._launching += 1
        self.runner.bookkeeping.launch_begun()  # lifecycle steps give way until the batch is recorded
        self.pool.submit(self._launch_submitted, items)

    def _launch_submitted(self, items: Sequence[Launch]) -> None:
        starts: list[TaskStart] = []
        try:
            starts = self.record_batch(items)
        finally:
            self.runner.bookkeeping.launch_ended()
            with self._lock:
                self._launching -= 1
                self._held.extend(starts)
                if self._held and self._held_since is None:
                    self._held_since = time.monotonic()
                due = self._launching == 0 or time.monotonic() - (self._held_since or 0.0) >= START_HOLD
                if due:
                    starts, self._held, self._held_since = self._held, [], None
            if due:
                self.runner.start_tasks(starts)

    def launch_batch(self, items: Sequence[Launch]) -> None:
        """record_batch, then start the recorded tasks."""
        self.runner.start_tasks(self.record_batch(items))

    def record_batch(self, items: Sequence[Launch]) -> list[TaskStart]:
        """One RunTask attempt for each item, all recorded in one transaction: attempt counts, task rows and
        outcomes commit together (a crash leaves every slot of the batch to be resumed, none half-done; the
        slots' client tokens make the resumed RunTasks return the tasks of any that did commit). Returns the
        recorded tasks, whose containers are to start now that it has committed."""
        items = self._while_held(items)
        starts: list[TaskStart] = []
        launched: list[tuple[int, Outcome]] = []
        with self.db.transaction():
            attempts = self.log.attempt_many([invocation.id for _, _, invocation in items], self.clock.now())
            asked = [(item, attempts.get(item[2].id, 1)) for item in items]
            requests = [(item, attempt, self._request(*item, attempt)) for item, attempt in asked if is_ecs(item[1])]
            ready = [(item, attempt, request) for item, attempt, request in requests if request is not None]
            answers = self.runner.record_batch([request for _, _, request in ready])
            for (item, attempt, _), answer in zip(ready, answers, strict=True):
                starts.extend(self._recorded(*item, attempt, answer, launched))
            for item, attempt in asked:
                if not is_ecs(item[1]):
                    self._deliver(*item, attempt, launched)
            self.log.complete_many(launched, self.clock.now())
        return starts

    def _deliver(
        self, plan: Plan, target: Target, invocation: Invocation, attempt: int, launched: list[tuple[int, Outcome]]
    ) -> None:
        """One delivery to a target other than ECS (SQS, another bus, a log group), in a savepoint of the batch: a
        success is appended to `launched`, a failure recorded (retry or give-up) with nothing of it left behind."""
        try:
            if self.faults is not None:
                self.faults.check(target.id, attempt)
            payload = slot_payload(plan, target, invocation, attempt)
            with self.db.savepoint():
                delivered = self.targets.deliver(
                    invoker_of(plan), target, payload, slot_event(plan, invocation), self.forward, 0
                )
        except AwsError as err:
            self._failed(plan, target, invocation, attempt, err, retryable(err))
            return
        except Exception as exc:  # a bug of ours: record it rather than lose the slot silently
            log.exception("delivery of %s to %s failed", plan.key, target.arn)
            internal = AwsError(f"internal error: {exc}", "InternalFailure", 500)
            self._give_up(plan, target, invocation, attempt, internal, None)
            return
        launched.append((invocation.id, Outcome("SUCCEEDED", delivered.task_arns, delivered=delivered.detail)))

    def _while_held(self, items: Sequence[Launch]) -> list[Launch]:
        """The items to launch now. While the lease is not surely ours (a renewal running late), scheduled slots wait
        and are looked at again LEASE_RECHECK seconds later (real time: the lease's clock is the wall clock); if the
        lease is lost meanwhile, they are forgotten here and the new holder resumes them from the log. None is
        dropped in between."""
        if self.active():
            return list(items)
        waiting = [item for item in items if not item[2].manual]
        if waiting:
            timer = threading.Timer(LEASE_RECHECK, self._recheck, args=(waiting, self._lease_epoch))
            timer.daemon = True
            timer.start()
        return [item for item in items if item[2].manual]

    def _recheck(self, items: Sequence[Launch], epoch: int) -> None:
        if epoch != self._lease_epoch or self._stop.is_set():
            return
        unfinished = [item for item in items if (found := self.log.get(item[2].id)) and found.state == "PENDING"]
        if unfinished:  # (another holder may have launched them meanwhile)
            self.submit(unfinished)

    def _request(self, plan: Plan, target: Target, invocation: Invocation, attempt: int) -> RunTaskRequest | None:
        """The slot's RunTask, authorized; None when it cannot be made (the failure is recorded: retry or give-up)."""
        try:
            if self.faults is not None:
                self.faults.check(target.id, attempt)
            request = run_task_request(plan, target, invocation, attempt)
            self._authorize(plan, target, request)
            return request
        except AwsError as err:
            self._failed(plan, target, invocation, attempt, err, retryable(err))
        except Exception as exc:  # a bug of ours: record it rather than lose the slot silently
            log.exception("launch of %s failed", plan.key)
            internal = AwsError(f"internal error: {exc}", "InternalFailure", 500)
            self._give_up(plan, target, invocation, attempt, internal, None)
        return None

    def _recorded(
        self,
        plan: Plan,
        target: Target,
        invocation: Invocation,
        attempt: int,
        answer: Recorded | AwsError,
        launched: list[tuple[int, Outcome]],
    ) -> list[TaskStart]:
        """A slot's RunTask answer: a success is appended to `launched`, a failure recorded (retry or give-up)."""
        if isinstance(answer, AwsError):
            self._failed(plan, target, invocation, attempt, answer, retryable(answer))
            return []
        if answer.task_arns:
            launched.append((invocation.id, Outcome("SUCCEEDED", answer.task_arns)))
            return answer.starts
        reasons = [f.reason + (f" ({f.detail})" if f.detail else "") for f in answer.failures]
        failure = AwsError("; ".join(reasons) or "no task was started", "RunTaskFailures")
        self._failed(plan, target, invocation, attempt, failure, any(retryable_failure(r) for r in reasons))
        return []

    def _failed(
        self, plan: Plan, target: Target, invocation: Invocation, attempt: int, err: AwsError, retry: bool
    ) -> None:
        exhausted = None
        if retry:
            following = RetryRules.of(target).next_attempt(
                attempt, plan.launch_at(invocation.scheduled_at), self.clock.now(), self.rng
            )
            if isinstance(following, float):
                self.log.retry_at(invocation.id, following, err.code, err.message)
                self.schedule(invocation.id, following)
                return
            exhausted = following
        self._give_up(plan, target, invocation, attempt, err, exhausted)

    def _give_up(
        self, plan: Plan, target: Target, invocation: Invocation, attempts: int, err: AwsError, exhausted: str | None
    ) -> None:
        letter = DeadLetter(
            plan.arn,
            is_schedule(plan),
            target,
            invocation.scheduled_at,
            invocation.client_token,
            attempts,
            err.code,
            err.message,
            exhausted,
        )
        try:
            with self.db.savepoint():
                state, detail = self._send(plan, target, letter) if _dead_letter_arn(target) else (None, None)
                outcome = Outcome("FAILED", (), err.code, err.message, exhausted, state, detail)
                if not self.log.complete(invocation.id, self.clock.now(), outcome):
                    raise _AlreadyDone
        except _AlreadyDone:
            return

    def _send(self, plan: Plan, target: Target, letter: DeadLetter) -> tuple[str, str]:
        queue = _dead_letter_arn(target) or ""
        try:
            message_id = self.dead_letters.send_by_arn(queue, letter.body(), letter.attributes())
        except AwsError as err:
            log.warning("%s: dead letter to %s failed: %s", plan.key, queue, err.message)
            return "FAILED", f"{err.code}: {err.message} ({queue})"
        return "SENT", message_id

    def orphan(self, invocation: Invocation, err: AwsError) -> None:
        """The rule, schedule or target is gone: nothing to launch, nowhere to dead-letter; record why."""
        self.log.complete(invocation.id, self.clock.now(), Outcome("FAILED", (), err.code, err.message))

    # retries and resumption ------------------------------------------------
    def schedule(self, invocation_id: int, when: float) -> None:
        with self._lock:
            self._due[invocation_id] = when
            heapq.heappush(self._retries, (when, invocation_id))
        self._wake.set()

    def resume(self, pending: Sequence[Invocation]) -> None:
        """Slots claimed but not finished (a crash, a take-over): each at its stored retry time, or now (in batches:
        a lease regained in the middle of a burst resumes thousands of slots)."""
        now = self.clock.now()
        due: list[Invocation] = []
        for invocation in pending:
            if invocation.next_attempt_at is not None and invocation.next_attempt_at > now:
                self.schedule(invocation.id, invocation.next_attempt_at)
            else:
                due.append(invocation)
        self._resume_many(due)

    def _resume_many(self, invocations: Sequence[Invocation]) -> None:
        """Launch unfinished slots again, LAUNCH_BATCH per transaction, with their plans and targets as they are now
        (a slot whose rule, schedule or target is gone is recorded as failed, saying why)."""
        ready: list[Launch] = []
        for invocation in invocations:
            resolved = self.resolve(invocation)
            if isinstance(resolved, AwsError):
                self.orphan(invocation, resolved)
            else:
                ready.append((resolved[0], resolved[1], invocation))
        for start in range(0, len(ready), LAUNCH_BATCH):
            self.submit(ready[start : start + LAUNCH_BATCH])

    def clear(self) -> None:
        """Forget scheduled retries and slots waiting for the lease (it was lost: the new holder resumes them from
        the log)."""
        with self._lock:
            self._retries, self._due = [], {}
            self._lease_epoch += 1

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            with self._lock:
                deadline = self._retries[0][0] if self._retries else self.clock.now() + 3600
            if self.clock.wait_until(deadline, self._wake) or self._stop.is_set():
                continue
            try:
                self._run_due()
            except StoreUnavailable as exc:  # the retries wait in the database: looked at again once it is back
                log.warning("retry step: %s", exc)
                self._stop.wait(1.0)
                self._wake.set()
            except Exception:
                log.exception("retry step failed")

    def _run_due(self) -> None:
        now = self.clock.now()
        due: list[int] = []
        with self._lock:
            while self._retries and self._retries[0][0] <= now:
                when, invocation_id = heapq.heappop(self._retries)
                if self._due.get(invocation_id) == when:
                    del self._due[invocation_id]
                    due.append(invocation_id)
        ready: list[Invocation] = []
        try:
            for invocation_id in due:
                invocation = self.log.get(invocation_id)
                if invocation is None or invocation.state != "PENDING":
                    continue
                if self.active() or invocation.manual:
                    ready.append(invocation)
                else:  # a renewal running late: looked at again (a lost lease forgets it; the holder resumes it)
                    self.schedule(invocation_id, self.clock.now() + LEASE_RECHECK)
        except StoreUnavailable:  # the database is away: every one of them is looked at again (the log has them)
            for invocation_id in due:
                self.schedule(invocation_id, self.clock.now() + LEASE_RECHECK)
            raise
        self._resume_many(ready)


def _dead_letter_arn(target: Target) -> str | None:
    return target.dead_letter_config.arn if target.dead_letter_config else None


def _expired_slots(plan: Plan, first: float, boundary: float) -> tuple[list[float], int]:
    """The first expired slots (to dead-letter) and how many there are: computed for rates, counted (at most
    COUNTED_EXPIRED) for cron."""
    sample: list[float] = []
    slot: float | None = first
    count = 0
    schedule = parse(plan.expression, allow_at=True)
    while slot is not None and slot <= boundary and count < COUNTED_EXPIRED:
        if len(sample) < SAMPLED_EXPIRED:
            sample.append(slot)
        elif schedule.kind == "rate":
            period = float(getattr(schedule, "period", 0.0)) or 1.0
            return sample, int((boundary - first) // period) + 1
        count += 1
        slot = plan.next_slot(slot)
    return sample, count


def is_ecs(target: Target) -> bool:
    """ECS targets launch through the runner in batches; every other kind is delivered by events/targets.py."""
    return target_service(target.arn) == "ecs"


def invoker_of(plan: Plan) -> Invoker:
    """The rule or schedule a plan stands for, as a target's invoker."""
    return Invoker(plan.arn, plan.name, SCHEDULER if is_schedule(plan) else EVENTS, plan.started_by)
