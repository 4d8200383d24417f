"""Write-behind of task lifecycle steps: durable steps commit at once, the others are coalesced by one writer thread."""

from __future__ import annotations

import collections
import json
import logging
import threading
from typing import Any

from cronbridge.codec import encode
from cronbridge.model.ecs import Task
from cronbridge.store.db import Database
from cronbridge.store.task_events import SOURCE, TaskEventLog
from cronbridge.store.tasks import TaskStore, task_row

log = logging.getLogger("cronbridge.store")
FLUSH_INTERVAL = 0.005  # how long the writer gathers deferred steps before it commits them in one transaction
COMMIT_WAIT = 5.0  # seconds a durable step waits for the writer before committing itself


class TaskWrites:
    """Each step of a task's lifecycle is encoded once (the task's row and its "ECS Task State Change" record share
    the body). One writer thread commits the steps: a deferred step waits a few milliseconds in memory, where only
    the latest row of each task is kept (every event is); a durable step is committed at once, together with every
    step waiting then (group commit), and `write` returns only after that commit. So a thousand tasks changing
    state at once cost a few commits, and their threads sleep instead of contending for the database. A step
    written by a thread that holds the database (RunTask recording its tasks inside its transaction) joins that
    transaction. Readers of tasks and task events call `Database.settle()`, which commits what waits, so they
    never see an older state than the one in memory."""

    def __init__(self, db: Database, tasks: TaskStore, events: TaskEventLog, interval: float = FLUSH_INTERVAL) -> None:
        self.db = db
        self.tasks = tasks
        self.events = events
        self.interval = interval
        self._lock = threading.Lock()  # never held while waiting for the database lock
        self._waiters: collections.deque[tuple[int, threading.Event]] = collections.deque()  # durable steps, in order
        self._rows: dict[str, tuple[Any, ...]] = {}
        self._pending: list[tuple[float, str, str, str]] = []
        self._written = 0  # steps handed to write()
        self._wake = threading.Event()
        self._hurry = threading.Event()  # a durable step waits: stop gathering
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        db.settlers.append(self.flush)

    def write(self, task: Task, at: float, durable: bool) -> None:
        body = json.dumps(encode(task), separators=(",", ":"))
        row = task_row(task, body)
        if durable and self.db.lock.owned():
            self._write_now(task.task_arn, row, (at, SOURCE, task.task_arn, body))
            return
        committed = threading.Event() if durable else None
        with self._lock:
            self._rows[task.task_arn] = row
            self._pending.append((at, SOURCE, task.task_arn, body))
            self._written += 1
            if committed is not None:
                self._waiters.append((self._written, committed))
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._loop, daemon=True, name="task-writes")
                self._thread.start()
        self._wake.set()
        if committed is not None:
            self._hurry.set()
        while committed is not None and not committed.wait(COMMIT_WAIT):
            self.flush()  # the writer is slow, stuck or gone: commit what waits here (errors reach the caller)

    def _write_now(self, task_arn: str, row: tuple[Any, ...], event: tuple[float, str, str, str]) -> None:
        """A durable step of a thread inside a transaction: this task's steps join it (and stand or fall with it)."""
        with self.db.transaction(), self._lock:
            self._rows.pop(task_arn, None)
            events = [event]
            if self._pending:
                events = [e for e in self._pending if e[2] == task_arn] + events
                self._pending = [e for e in self._pending if e[2] != task_arn]
            self.tasks.write_rows([row])
            self.events.write(events)

    def flush(self) -> None:
        """Commit every waiting step now (cheap when nothing waits); if the commit fails, the steps wait again."""
        if not self._pending:
            return
        taken: tuple[dict[str, tuple[Any, ...]], list[tuple[float, str, str, str]]] = ({}, [])
        try:
            with self.db.transaction():  # taken under the database lock: steps of one task reach the table in order
                with self._lock:
                    taken = (self._rows, self._pending)
                    self._rows, self._pending = {}, []
                    step = self._written
                if taken[0]:
                    self.tasks.write_rows(list(taken[0].values()))
                if taken[1]:
                    self.events.write(taken[1])
                self.db.after_commit(lambda: self._mark_committed(step))
        except BaseException:
            with self._lock:  # put them back, behind nothing newer of the same tasks
                self._rows = {**taken[0], **self._rows}
                self._pending = taken[1] + self._pending
            raise

    def _mark_committed(self, step: int) -> None:
        """Wake the durable steps committed now (each waits on an event of its own: no herd on one lock)."""
        woken: list[threading.Event] = []
        with self._lock:
            while self._waiters and self._waiters[0][0] <= step:
                woken.append(self._waiters.popleft()[1])
        for event in woken:
            event.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            self._hurry.wait(self.interval)  # gather deferred steps; a durable one cuts it short
            self._hurry.clear()
            try:
                self.flush()
            except Exception:  # kept for the next flush (a durable step, a reader, close)
                log.exception("task writes failed")
                self._stop.wait(self.interval)
                self._wake.set()

    def close(self) -> None:
        """Stop the writer and commit what waits."""
        self._stop.set()
        self._wake.set()
        self._hurry.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)
        self.flush()
