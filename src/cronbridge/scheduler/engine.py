"""The scheduler: a heap of next fire times and one wake-up signal; every slot is claimed in the invocation log
before its launch, so a slot launches at most once, even across crashes (the launch's clientToken is the slot's).
Launching, retries and dead letters are scheduler/delivery.py's; only the holder of the lease fires."""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cronbridge import arn as arns
from cronbridge.clock import Clock
from cronbridge.ecs.runtime.runner import Runner
from cronbridge.errors import AwsError, NotFound, StoreUnavailable
from cronbridge.events.targets import Forward, Targets
from cronbridge.identity.authorizer import Authorizer
from cronbridge.model.events import Rule, Target
from cronbridge.scheduler import overlap
from cronbridge.scheduler.changes import Changes
from cronbridge.scheduler.deadletter import DeadLetterSink, iso
from cronbridge.scheduler.delivery import LAUNCH_BATCH, Delivery, Faults, Launch, slot_token
from cronbridge.scheduler.lease import LeaseListener, SchedulerLease
from cronbridge.scheduler.payloads import parse_input, run_task_request
from cronbridge.scheduler.policy import DEFAULT_MAX_AGE, RetryRules
from cronbridge.scheduler.sources import PLAN_PAGE, Plan, RuleSource, Source, rule_next_fire
from cronbridge.scope import Scope
from cronbridge.store.database import Database
from cronbridge.store.invocations import Invocation, InvocationLog, Outcome

log = logging.getLogger("cronbridge.scheduler")
__all__ = ["Scheduler", "next_fire", "parse_input", "run_task_request", "slot_token"]


def next_fire(rule: Rule, after: float) -> float | None:
    """The rule's first fire time strictly after `after` (rates count from when the schedule was set)."""
    return rule_next_fire(rule, after)


CLAIM_BATCH = 256  # due slots claimed per transaction
PREPARE_AHEAD = 2.0  # seconds before a slot its launches are prepared (IAM decided)
OVERLAP_POLL = 0.1  # seconds between looks at the previous runs' tasks while launches are queued (no-overlap)


class Unread:
    """A plan's last recorded slot, not read yet (`_first_slot` reads it)."""


UNREAD = Unread()

# a heap entry: (launch instant, plan key, generation of the plan's entry, the slot's scheduled instant)
Entry = tuple[float, str, int, float]


@dataclass
class Undo:
    """What firing one heap entry changed in memory, to put back if its claim's transaction fails."""

    entry: Entry
    ready: tuple[int, Plan] | None
    follower: Entry | None = None


class Scheduler:
    """Fires enabled rules and schedules (its Sources' plans) on time; never blocks on a launch; records every outcome.
    Planning (which slot, when) is by plan key; launching (claim, RunTask, retries) takes a Plan."""

    def __init__(
        self,
        db: Database,
        runner: Runner,
        clock: Clock,
        sources: list[Source],
        changes: Changes,
        authorizer: Authorizer,
        dead_letters: DeadLetterSink,
        on_other_commit: Callable[[], None],
        targets: Targets,
        forward: Forward,
        faults: Faults | None = None,
        workers: int = 32,
    ) -> None:
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
        self._ready: dict[str, tuple[int, Plan]] = {}  # plans read while preparing, by key: (generation, plan)
        self._generation: dict[str, int] = {}
        self.sources: dict[str, Source] = {source.kind: source for source in sources}
        self.lease = SchedulerLease(
            db,
            LeaseListener(
                gained=self._lease_gained,
                resumed=self._lease_resumed,
                lost=self._lease_lost,
                external_change=self.wake,
                other_commit=on_other_commit,
            ),
        )
        self.delivery = Delivery(
            db, self.log, runner, clock, authorizer, dead_letters, self._resolve, lambda: self.lease.held,
            targets, forward, faults, workers,
        )
        self._waiting = overlap.Waiting(self._overlaps, self._launch_queued, OVERLAP_POLL)
        changes.listen(self.wake_key)
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
        self.runner.recover()  # tasks a dead process left unfinished, before its unfinished slots resume
        self.delivery.resume(self.log.pending())
        self._wake.set()

    def _lease_resumed(self) -> None:
        """Ours again after a late renewal that nobody else used: the plan still holds (no re-plan, no recovery of
        tasks); the slots skipped or retries forgotten meanwhile resume from the log."""
        self.delivery.resume(self.log.pending())
        self._wake.set()

    def _lease_lost(self) -> None:
        self.delivery.clear()

    def wake(self) -> None:
        """Something changed that may move any fire time (the clock): re-plan everything."""
        self.wake_key(None)

    def wake_key(self, key: str | None = None) -> None:
        """Something changed: one plan ("rule:ARN", "schedule:ARN"), or with no key, everything."""
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
            except StoreUnavailable as exc:  # the database is away: the lease lapses; try again in a second
                log.warning("scheduler step: %s", exc)
                self.clock.wait_until(self.clock.now() + 1, self._stop)
            except Exception:  # keep firing other rules whatever one of them does
                log.exception("scheduler step failed")
                self.clock.wait_until(self.clock.now() + 1, self._stop)

    def _step(self) -> None:
        if self._paused.is_set() or not self.lease.held:
            self._wake.wait(0.1)
            self._wake.clear()
            return
        self._wake.clear()  # before the changes are read: one announced after this point wakes the wait below
        if self._dirty:
            self._dirty = False
            self._rebuild()
        self._replan_changed()
        deadline = self._heap[0][0] if self._heap else self.clock.now() + 3600
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
            if generation != self._generation.get(key) or key in self._ready:
                continue
            plan = self._current(key)
            if plan is not None:
                self._ready[key] = (generation, plan)  # fired from memory: no read of the rule at its instant
                self.delivery.prepare(plan, slot)
        self._prepared_until = until

    def _rebuild(self) -> None:
        with self._changed_lock:
            self._changed.clear()
        now = self.clock.now()
        self._heap, self._generation, self._ready = [], {}, {}
        for source in list(self.sources.values()):
            page: list[Plan] = []
            for plan in source.plans():
                page.append(plan)
                if len(page) == PLAN_PAGE:
                    self._plan_page(page, now)
                    page = []
            self._plan_page(page, now)
        heapq.heapify(self._heap)

    def _plan_page(self, plans: list[Plan], now: float) -> None:
        """Plan a page of plans, the last recorded slot of each read in one query."""
        lasts = self.log.last_slots([p.arn for p in plans])
        for plan in plans:
            self._plan(plan, now, last=lasts.get(plan.arn))

    def _replan_changed(self) -> None:
        with self._changed_lock:
            keys, self._changed = self._changed, set()
        now = self.clock.now()
        for key in keys:
            self._generation[key] = self._generation.get(key, 0) + 1  # retires the plan's old heap entry
            self._ready.pop(key, None)
            plan = self._current(key)
            if plan is not None:
                self._plan(plan, now, push=True)

    def _plan(self, plan: Plan, now: float, push: bool = False, last: float | None | Unread = UNREAD) -> None:
        slot = self._first_slot(plan, now, last)
        if slot is None:
            return
        entry = (plan.launch_at(slot), plan.key, self._generation.setdefault(plan.key, 0), slot)
        if push:
            heapq.heappush(self._heap, entry)
        else:
            self._heap.append(entry)

    def _first_slot(self, plan: Plan, now: float, last: float | None | Unread = UNREAD) -> float | None:
        """The oldest slot still owed: after the last one recorded (clamped to now when the clock stepped back),
        not before the plan was (re)enabled; slots older than every target's maximum event age are recorded as
        expired in one summary row, and the search starts from the first younger one (no minute-by-minute walk)."""
        if isinstance(last, Unread):
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
        with self.runner.bookkeeping.launching():  # lifecycle steps give way to the claims, then to the launches
            try:
                self._claim_due(now, launches)
            finally:
                self._submit(launches)  # every due slot is claimed before the first launch takes the database

    def _claim_due(self, now: float, launches: list[Launch]) -> None:
        """Claim every due entry, CLAIM_BATCH per transaction, ahead of launches and readers. A batch whose
        transaction fails (the database away, busy or full) leaves the heap as it found it: its slots are claimed
        by the next step, not lost to a rolled-back claim."""
        while self._due(now):
            claimed: list[Launch] = []
            undo: list[Undo] = []
            try:
                with self.log.db.urgent(), self.log.db.transaction():
                    for _ in range(CLAIM_BATCH):
                        if not self._due(now) or not self._fire_next(claimed, undo):
                            break
            except BaseException:
                self._undo(undo)
                raise
            launches.extend(claimed)  # only once its claims have committed

    def _undo(self, undo: list[Undo]) -> None:
        """Put back what a failed claim batch took off the heap (and the followers it put on)."""
        followers = {u.follower for u in undo if u.follower is not None}
        if followers:
            self._heap = [e for e in self._heap if e not in followers]
        for u in reversed(undo):
            self._heap.append(u.entry)
            if u.ready is not None:
                self._ready.setdefault(u.entry[1], u.ready)
        heapq.heapify(self._heap)

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

    def _fire_next(self, launches: list[Launch], undo: list[Undo] | None = None) -> bool:
        """Pop and fire the earliest entry (its launches appended to `launches`, how to put it back to `undo`); False
        when the lease is not ours (stop firing)."""
        entry = heapq.heappop(self._heap)
        _when, key, generation, slot = entry
        if generation != self._generation.get(key):
            return True
        ready = self._ready.pop(key, None)
        plan = ready[1] if ready is not None and ready[0] == generation else self._current(key)
        if plan is None:
            return True
        if not self.lease.held:  # fired when the lease is ours again (re-planned first if another server had it)
            heapq.heappush(self._heap, entry)
            return False
        record = Undo(entry, ready)
        if undo is not None:
            undo.append(record)
        launches.extend(self._claim(plan, slot))
        following = plan.next_slot(slot)
        if following is not None:
            record.follower = (plan.launch_at(following), key, generation, following)
            heapq.heappush(self._heap, record.follower)
        else:
            self.sources[key.split(":", 1)[0]].completed(plan)
        return True

    def _current(self, key: str) -> Plan | None:
        kind, _, arn = key.partition(":")
        source = self.sources.get(kind)
        return source.plan(arn) if source is not None else None

    def _plan_of_arn(self, arn: str) -> Plan | None:
        for source in self.sources.values():
            if source.owns(arn):
                return source.plan(arn)
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

    def run_now(self, rule_arn: str) -> list[Invocation]:
        """Launch every target of the rule now, as a manual invocation, and return the recorded outcomes."""
        rules = self.sources["rule"]
        assert isinstance(rules, RuleSource)
        rule = rules.events.rule_of_arn(rule_arn)
        if rule is None:
            raise NotFound(f"Rule {arns.resource_name(rule_arn, 'rule')} does not exist on EventBus default.")
        return self.run_plan_now(rules.plan_of(rule))

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
    def invocations(
        self, rule_arn: str | None = None, limit: int = 100, scope: Scope | None = None
    ) -> list[Invocation]:
        """The latest invocations, newest first: of one rule or schedule (by ARN), or of those of `scope` (or all)."""
        return self.log.recent(rule_arn, limit, scope=scope)


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
