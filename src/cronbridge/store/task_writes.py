"""Write-behind of task lifecycle steps: durable steps commit at once, the others are coalesced by one writer thread."""

from __future__ import annotations

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


class TaskWrites:
    """Each step of a task's lifecycle is encoded once (the task's row and its "ECS Task State Change" record share
    the body). A durable step commits before `write` returns, together with every deferred step before it; a
    deferred step waits a few milliseconds in memory, where only the latest row of each task is kept (every event
    is). Readers of tasks and task events call `Database.settle()`, which commits what waits, so they never see an
    older state than the one in memory."""

    def __init__(self, db: Database, tasks: TaskStore, events: TaskEventLog, interval: float = FLUSH_INTERVAL) -> None:
        self.db = db
        self.tasks = tasks
        self.events = events
        self.interval = interval
        self._lock = threading.Lock()  # never held while waiting for the database lock
        self._rows: dict[str, tuple[Any, ...]] = {}
        self._pending: list[tuple[float, str, str, str]] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        db.settlers.append(self.flush)

    def write(self, task: Task, at: float, durable: bool) -> None:
        body = json.dumps(encode(task), separators=(",", ":"))
        row = task_row(task, body)
        if durable:
            with self.db.transaction():
                self._drain()
                self.tasks.write_rows([row])
                self.events.write([(at, SOURCE, task.task_arn, body)])
            return
        with self._lock:
            self._rows[task.task_arn] = row
            self._pending.append((at, SOURCE, task.task_arn, body))
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._loop, daemon=True, name="task-writes")
                self._thread.start()
        self._wake.set()

    def flush(self) -> None:
        """Commit every deferred step now (cheap when nothing waits)."""
        if not self._pending:
            return
        with self.db.transaction():
            self._drain()

    def _drain(self) -> None:
        """Inside a transaction (so under the database lock: steps of one task reach the table in order)."""
        with self._lock:
            rows, self._rows = self._rows, {}
            events, self._pending = self._pending, []
        if rows:
            self.tasks.write_rows(list(rows.values()))
        if events:
            self.events.write(events)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            self._stop.wait(self.interval)
            try:
                self.flush()
            except Exception:  # kept for the next flush (a durable step, a reader, close)
                log.exception("deferred task writes failed")

    def close(self) -> None:
        """Stop the writer and commit what waits."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)
        self.flush()
