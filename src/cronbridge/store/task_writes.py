"""Write-behind of task lifecycle steps: durable steps commit at once, the others are coalesced by one writer thread."""

from __future__ import annotations

import collections
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from cronbridge.codec import encode
from cronbridge.errors import StoreUnavailable
from cronbridge.model.ecs import Task
from cronbridge.store.database import Database
from cronbridge.store.faults import disk_full
from cronbridge.store.task_events import SOURCE, TaskEventLog
from cronbridge.store.task_outcomes import TaskOutcomes, outcome_row
from cronbridge.store.tasks import TaskStore, task_row

log = logging.getLogger("cronbridge.store")
FLUSH_INTERVAL = 0.005  # how long the writer gathers deferred steps before it commits them in one transaction
COMMIT_WAIT = 5.0  # seconds a durable step waits for the writer before committing itself
DISK_FULL_RETRY = 0.5  # seconds between tries while the disk is full
DISK_FULL_LOG_EVERY = 10.0


class Pending:
    """A queued durable step: `wait` returns once it is committed (it commits what waits itself when the writer is
    slow, and raises the commit's error rather than waiting forever)."""

    def __init__(self, committed: threading.Event | None, flush: Callable[[], None]) -> None:
        self._committed = committed
        self._flush = flush

    def wait(self) -> None:
        while self._committed is not None and not self._committed.wait(COMMIT_WAIT):
            try:
                self._flush()  # the writer is slow, stuck or gone: commit what waits here (errors reach the caller)
            except StoreUnavailable as exc:  # the database is away: the step waits in the queue until it is back
                log.warning("a durable task step waits for the database: %s", exc)


DONE = Pending(None, lambda: None)


class TaskWrites:
    """Each step of a task's lifecycle is encoded once (the task's row and its "ECS Task State Change" record share
    the body). One writer thread commits the steps: a deferred step waits a few milliseconds in memory, where only
    the latest row of each task is kept (every event is); a durable step is committed at once, together with every
    step waiting then (group commit), and `write` returns only after that commit. So a thousand tasks changing
    state at once cost a few commits, and their threads sleep instead of contending for the database. A step
    written by a thread that holds the database (RunTask recording its tasks inside its transaction) joins that
    transaction. Readers of tasks and task events call `Database.settle()`, which commits what waits, so they
    never see an older state than the one in memory."""

    def __init__(self, db: Database, tasks: TaskStore, events: TaskEventLog, outcomes: TaskOutcomes,
                 interval: float = FLUSH_INTERVAL) -> None:
        self.db = db
        self.tasks = tasks
        self.events = events
        self.outcomes = outcomes  # a stopped task's outcome, recorded in the transaction that records STOPPED
        self.interval = interval
        self._full_logged = -DISK_FULL_LOG_EVERY  # when the writer last said the disk is full
        self._lock = threading.Lock()  # never held while waiting for the database lock
        self._waiters: collections.deque[tuple[int, threading.Event]] = collections.deque()  # durable steps, in order
        self._rows: dict[str, tuple[Any, ...]] = {}
        self._stops: dict[str, tuple[Any, ...]] = {}  # outcome rows of tasks that stopped
        self._pending: list[tuple[float, str, str, str]] = []
        self._written = 0  # steps handed to write()
        self._waiting_since: float | None = None  # when the oldest step not yet committed was queued (monotonic)
        self._wake = threading.Event()
        self._hurry = threading.Event()  # a durable step waits: stop gathering
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        db.settlers.append(self.flush)

    def write(self, task: Task, at: float, durable: bool) -> None:
        """Queue a step and, if durable, wait until it is committed."""
        self.enqueue(task, at, durable).wait()

    def enqueue(self, task: Task, at: float, durable: bool) -> Pending:
        """Queue a step (cheap: no database wait); a durable one is committed once the returned Pending is waited
        for. A thread inside a transaction writes it into that transaction at once instead."""
        body = json.dumps(encode(task), separators=(",", ":"))
        row = task_row(task, body)
        stop = outcome_row(task)
        if durable and self.db.in_transaction():
            self._write_now(task.task_arn, row, (at, SOURCE, task.task_arn, body), stop)
            return DONE
        committed = threading.Event() if durable else None
        with self._lock:
            if self._waiting_since is None:
                self._waiting_since = time.monotonic()
            self._rows[task.task_arn] = row
            if stop is not None:
                self._stops[task.task_arn] = stop
            self._pending.append((at, SOURCE, task.task_arn, body))
            self._written += 1
            if committed is not None:
                self._waiters.append((self._written, committed))
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._loop, daemon=True, name="task-writes")
                self._thread.start()
        self._wake.set()
        if committed is None:
            return DONE
        self._hurry.set()
        return Pending(committed, self.flush)

    def record_new(self, tasks: Sequence[Task], at: float) -> None:
        """New tasks' first step, written into the caller's transaction (RunTask's durable record): one statement
        for their rows and one for their "ECS Task State Change" records, each body encoded once."""
        bodies = [json.dumps(encode(task), separators=(",", ":")) for task in tasks]
        with self.db.transaction():
            self.tasks.write_rows([task_row(task, body) for task, body in zip(tasks, bodies, strict=True)])
            self.events.write([(at, SOURCE, task.task_arn, body) for task, body in zip(tasks, bodies, strict=True)])

    def _write_now(self, task_arn: str, row: tuple[Any, ...], event: tuple[float, str, str, str],
                   stop: tuple[Any, ...] | None) -> None:
        """A durable step of a thread inside a transaction: this task's steps join it (and stand or fall with it:
        if it rolls back, the task's earlier steps taken from the queue go back to it)."""
        with self.db.transaction(), self._lock:
            earlier_row = self._rows.pop(task_arn, None)
            earlier_stop = self._stops.pop(task_arn, None)
            stop = stop or earlier_stop
            events = [event]
            earlier = [e for e in self._pending if e[2] == task_arn]
            if earlier:
                events = earlier + events
                self._pending = [e for e in self._pending if e[2] != task_arn]
            self.db.after_rollback(lambda: self._put_back({task_arn: earlier_row} if earlier_row else {}, earlier,
                                                          {task_arn: earlier_stop} if earlier_stop else {}))
            self.tasks.write_rows([row])
            self.events.write(events)
            if stop is not None:
                self.outcomes.write([stop])

    def flush(self) -> None:
        """Commit every waiting step now (cheap when nothing waits). Inside another transaction the steps join it;
        if it (or the commit) fails, the steps go back to the queue and their waiters go on waiting for them."""
        if not self._pending:
            return
        with self.db.ordered_transaction():  # one flush at a time: steps of one task reach the table in order
            with self._lock:
                rows, events, stops = self._rows, self._pending, self._stops
                self._rows, self._pending, self._stops = {}, [], {}
                step = self._written
            self.db.after_rollback(lambda: self._put_back(rows, events, stops))
            if rows:
                self.tasks.write_rows(list(rows.values()))
            if events:
                self.events.write(events)
            if stops:
                self.outcomes.write(list(stops.values()))
            self.db.after_commit(lambda: self._mark_committed(step))

    def _put_back(self, rows: dict[str, tuple[Any, ...]], events: list[tuple[float, str, str, str]],
                  stops: dict[str, tuple[Any, ...]]) -> None:
        """Steps whose transaction rolled back wait again, behind nothing newer of the same tasks."""
        with self._lock:
            self._rows = {**rows, **self._rows}
            self._stops = {**stops, **self._stops}
            self._pending = events + self._pending
        self._wake.set()

    def _mark_committed(self, step: int) -> None:
        """Wake the durable steps committed now (each waits on an event of its own: no herd on one lock)."""
        woken: list[threading.Event] = []
        with self._lock:
            self._waiting_since = time.monotonic() if self._pending else None  # progress: later steps wait anew
            while self._waiters and self._waiters[0][0] <= step:
                woken.append(self._waiters.popleft()[1])
        for event in woken:
            event.set()

    def stalled_for(self) -> float:
        """Seconds the oldest queued step has waited for its commit (the watchdog's measure; 0.0 when none waits)."""
        since = self._waiting_since
        return 0.0 if since is None else max(0.0, time.monotonic() - since)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            self._hurry.wait(self.interval)  # gather deferred steps; a durable one cuts it short
            self._hurry.clear()
            try:
                self.flush()
            except Exception as exc:  # kept for the next flush (a durable step, a reader, close)
                self._stop.wait(self._failed(exc))
                self._wake.set()

    def _failed(self, exc: Exception) -> float:
        """Say why the steps could not be written (a full disk or the database away: a line now and then, no
        traceback); the pause before the next try."""
        away = isinstance(exc, StoreUnavailable)
        if not away and not disk_full(exc):
            log.exception("task writes failed")
            return self.interval
        now = time.monotonic()
        if now - self._full_logged >= DISK_FULL_LOG_EVERY:
            self._full_logged = now
            why = "the database is away" if away else "the disk is full"
            log.warning("task writes wait: %s (%s); retrying", why, exc)
        return DISK_FULL_RETRY

    def close(self) -> None:
        """Stop the writer and commit what waits."""
        self._stop.set()
        self._wake.set()
        self._hurry.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)
        self.flush()
