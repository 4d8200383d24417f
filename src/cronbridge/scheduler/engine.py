"""The scheduler: a heap of next fire times and one wake-up signal; every slot is claimed in the invocation log
before its launch, so a slot launches at most once, even across crashes (the launch's clientToken is the slot's).
Launching, retries and dead letters are scheduler/delivery.py's; only the holder of the lease fires."""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable

from cronbridge.clock import Clock
from cronbridge.errors import AwsError
from cronbridge.events.service import EventsService
from cronbridge.model.events import Rule, Target
from cronbridge.runner import Runner
from cronbridge.scheduler import overlap
from cronbridge.scheduler.deadletter import DeadLetterSink, iso
from cronbridge.scheduler.delivery import Delivery, Faults, Launch, parse_input, run_task_request, slot_token
from cronbridge.scheduler.lease import SchedulerLease
from cronbridge.scheduler.policy import DEFAULT_MAX_AGE, RetryRules
from cronbridge.scheduler.sources import Plan, RuleSource, Source, rule_next_fire
from cronbridge.store.db import Database
from cronbridge.store.invocations import Invocation, InvocationLog, Outcome

log = logging.getLogger("cronbridge.scheduler")
__all__ = ["Scheduler", "next_fire", "parse_input", "run_task_request", "slot_token"]


def next_fire(rule: Rule, after: float) -> float | None:
    """The rule's first fire time strictly after `after` (rates count from when the schedule was set)."""
    return rule_next_fire(rule, after)


CLAIM_BATCH = 256  # due slots claimed per transaction
LAUNCH_BATCH = 64  # claimed slots launched per transaction (the database lock is held ~0.3 ms per slot)
PREPARE_AHEAD = 2.0  # seconds before a slot its launches are prepared (IAM decided)
OVERLAP_POLL = 0.1  # seconds between looks at the previous runs' tasks while launches are queued (no-overlap)

# a heap entry: (launch instant, plan key, generation of the plan's entry, the slot's scheduled instant)
Entry = tuple[float, str, int, float]


class Scheduler:
    """Fires enabled rules and schedules (its Sources' plans) on time; never blocks on a launch; records every outcome.
    Planning (which slot, when) is by plan key; launching (claim, RunTask, retries) takes a Plan."""

    def __init__(self, db: Database, events: EventsService, runner: Runner, clock: Clock, workers: int = 32,
                 dead_letters: DeadLetterSink | None = None, faults: Faults | None = None) -> None:
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
        self._prepared_until = 0.0  # launches of the entries due by then were prepared
        self._generation: dict[str, int] = {}
        self.sources: dict[str, Source] = {}
        self.add_source(RuleSource(events))
        self.delivery = Delivery(db, self.log, runner, clock, dead_letters, faults, workers)
        self.delivery.resolve = self._resolve
        self._waiting = overlap.Waiting(self._overlaps, self._launch_queued, OVERLAP_POLL)
        self.lease = SchedulerLease(db)
        self.delivery.active = lambda: self.lease.held
        self.lease.on_gained = self._lease_gained
        self.lease.on_resumed = self._lease_resumed
        self.lease.on_lost = self.delivery.clear
        self.lease.on_external_change = self.wake
        self.before_resume: Callable[[], None] = lambda: None
        self._thread = threading.Thread(target=self._loop, daemon=True, name="scheduler")

    # control --------------------------------------------------------------
    def start(self) -> None:
        """Take the lease if no other process holds it (then resume unfinished slots), and start firing."""
        self.delivery.start()
        self.lease.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._waiting.stop()
        self.delivery.stop()
        self.lease.stop()

    def _lease_gained(self) -> None:
        """Ours now (start, or a take-over): re-plan everything and resume the slots left unfinished."""
        self._dirty = True
        self.before_resume()
        self.delivery.resume(self.log.pending())
        self._wake.set()

    def _lease_resumed(self) -> None:
        """Ours again after a late renewal that nobody else used: the plan still holds (no re-plan, no recovery of
        tasks); the slots skipped or retries forgotten meanwhile resume from the log."""
        self.delivery.resume(self.log.pending())
        self._wake.set()

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
        if self._paused.is_set() or not self.lease.held:
            self._wake.wait(0.1)
            self._wake.clear()
            return
        if self._dirty:
            self._dirty = False
            self._rebuild()
        self._replan_changed()
        deadline = self._heap[0][0] if self._heap else self.clock.now() + 3600
        self._wake.clear()
        if deadline - self.clock.now() > PREPARE_AHEAD:
            self.clock.wait_until(deadline - PREPARE_AHEAD, self._wake)
            return  # planned again: something may have changed meanwhile
        self._prepare(self.clock.now() + PREPARE_AHEAD, deadline)
        if self.clock.wait_until(deadline, self._wake) or self._stop.is_set():
            return
        self._fire_due()

    def _prepare(self, until: float, deadline: float) -> None:
        """Prepare the launches of the slots due by `until` that were not prepared yet (see Delivery.prepare);
        preparing never delays firing: it stops when the first of them comes due (the rest decide at launch)."""
        if until <= self._prepared_until:
            return
        for _when, key, generation, slot in _entries_until(self._heap, self._prepared_until, until):
            if self.clock.now() >= deadline or self._wake.is_set():
                return
            plan = self._current(key) if generation == self._generation.get(key) else None
            if plan is not None:
                self.delivery.prepare(plan, slot)
        self._prepared_until = until

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
        """The oldest slot still owed: after the last one recorded (clamped to now when the clock stepped back),
        not before the plan was (re)enabled; slots older than every target's maximum event age are recorded as
        expired in one summary row, and the search starts from the first younger one (no minute-by-minute walk)."""
        last = self.log.last_slot(plan.arn)
        if last is not None and last > now:
            log.warning("%s: the last recorded slot %s is after now %s (the clock stepped back): clamped to now;"
                        " slots already claimed will not run again", plan.key, iso(last), iso(now))
            last = now - 0.001  # a slot due right now is still owed
        cursor = max(last or 0.0, plan.not_before)
        oldest_owed = now - self._max_age(plan)
        if cursor < oldest_owed:
            self.delivery.expire_range(plan, cursor, oldest_owed, now)
            cursor = oldest_owed
        return plan.next_slot(cursor)

    def _max_age(self, plan: Plan) -> float:
        return max((RetryRules.of(t).max_age for t in plan.targets), default=float(DEFAULT_MAX_AGE))

    def _fire_due(self) -> None:
        """Fire every due entry; claims are committed CLAIM_BATCH slots at a time (one WAL commit, one lock hold),
        so a thousand slots due in the same second are claimed in milliseconds; then the pool launches them,
        LAUNCH_BATCH slots per transaction."""
        now = self.clock.now()
        launches: list[Launch] = []
        try:
            while self._due(now):
                claimed: list[Launch] = []
                with self.log.db.urgent(), self.log.db.transaction():  # claims go ahead of launches and readers
                    for _ in range(CLAIM_BATCH):
                        if not self._due(now) or not self._fire_next(claimed):
                            break
                launches.extend(claimed)  # only once its claims have committed
        finally:
            self._submit(launches)  # every due slot is claimed before the first launch takes the database

    def _submit(self, launches: list[Launch]) -> None:
        """Hand claimed (committed) slots to the pool: LAUNCH_BATCH per transaction, each slot of a
        `cronbridge:no-overlap` plan on its own (it may have to wait for the previous run)."""
        plain: list[Launch] = []
        for item in launches:
            if overlap.mode(item[0]):
                self.delivery.pool.submit(self._launch_unless_overlapping, *item)
            else:
                plain.append(item)
        for start in range(0, len(plain), LAUNCH_BATCH):
            self.delivery.submit(plain[start : start + LAUNCH_BATCH])

    def _due(self, now: float) -> bool:
        return bool(self._heap) and self._heap[0][0] <= now and not self._dirty

    def _fire_next(self, launches: list[Launch]) -> bool:
        """Pop and fire the earliest entry (its launches appended to `launches`); False when the lease is not
        ours (stop firing)."""
        _when, key, generation, slot = heapq.heappop(self._heap)
        if generation != self._generation.get(key):
            return True
        plan = self._current(key)
        if plan is None:
            return True
        if not self.lease.held:  # fired when the lease is ours again (re-planned first if another server had it)
            heapq.heappush(self._heap, (_when, key, generation, slot))
            return False
        launches.extend(self._claim(plan, slot))
        following = plan.next_slot(slot)
        if following is not None:
            heapq.heappush(self._heap, (plan.launch_at(following), key, generation, following))
        else:
            self.sources[key.split(":", 1)[0]].completed(plan)
        return True

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
    def _claim(self, plan: Plan, slot: float, manual: bool = False) -> list[Launch]:
        """Claim a slot for every target; their launches, to submit once the claim has committed."""
        claimed = self.delivery.fire(plan, slot, manual)
        targets = {t.id: t for t in plan.targets}
        return [(plan, targets[i.target_id], i) for i in claimed]

    def _launch_unless_overlapping(self, plan: Plan, target: Target, invocation: Invocation) -> None:
        """Honour `cronbridge:no-overlap`: skip the slot, or queue it until the previous run's tasks stop."""
        policy = overlap.mode(plan)
        why = self._overlaps(invocation) if policy else None
        if why is not None and policy == "skip":
            note = f"skipped (cronbridge:no-overlap=skip): {why}"
            self.log.set_note(invocation.id, note)
            self.log.complete(invocation.id, self.clock.now(), Outcome("SKIPPED", (), "PreviousRunStillRunning", note))
        elif why is not None:
            self.log.set_note(invocation.id, f"queued (cronbridge:no-overlap=queue): {why}")
            self._waiting.add(plan, target, invocation)
        else:
            self.delivery.attempt(plan, target, invocation)

    def _overlaps(self, invocation: Invocation) -> str | None:
        return overlap.blocker(self.log, self.runner.ecs.tasks, invocation)

    def _launch_queued(self, plan: Plan, target: Target, invocation: Invocation) -> None:
        note = self.log.notes([invocation.id]).get(invocation.id, "")
        self.log.set_note(invocation.id, f"{note}; launched {iso(self.clock.now())} when it stopped")
        self.delivery.pool.submit(self.delivery.attempt, plan, target, invocation)

    def run_now(self, rule_name: str) -> list[Invocation]:
        """Launch every target of the rule now, as a manual invocation, and return the recorded outcomes."""
        rule = self.events.rule(rule_name)
        return self.run_plan_now(RuleSource(self.events).plan_of(rule))

    def run_plan_now(self, plan: Plan) -> list[Invocation]:
        """Launch every target of a plan now (enabled or not), as a manual invocation; returns the outcomes."""
        launches = self._claim(plan, self.clock.now(), manual=True)
        self.delivery.launch_batch(launches)
        return [self.log.get(i.id) or i for _plan, _target, i in launches]

    def _resolve(self, invocation: Invocation) -> tuple[Plan, Target] | AwsError:
        """The plan and target of an unfinished slot, as they are now (retries use the current target)."""
        plan = self._plan_of_arn(invocation.rule_arn)
        if plan is None:
            return AwsError("The rule or schedule was deleted or disabled before its target ran.", "RuleNotFound")
        target = next((t for t in plan.targets if t.id == invocation.target_id), None)
        if target is None:
            return AwsError("The target was removed before it ran.", "TargetNotFound")
        return plan, target

    # queries --------------------------------------------------------------
    def invocations(self, rule_name: str | None = None, limit: int = 100) -> list[Invocation]:
        return self.log.recent(rule_name, limit)


def _entries_until(heap: list[Entry], after: float, until: float) -> list[Entry]:
    """The heap's entries due in (after, until], found without looking at the later ones (a heap's children are
    never earlier than their parent)."""
    found: list[Entry] = []
    stack = [0] if heap else []
    while stack:
        index = stack.pop()
        entry = heap[index]
        if entry[0] > until:
            continue
        if entry[0] > after:
            found.append(entry)
        stack.extend(child for child in (2 * index + 1, 2 * index + 2) if child < len(heap))
    return found
