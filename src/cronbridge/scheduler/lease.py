"""The scheduler lease: of the server processes sharing one database, only the holder fires; another takes over
when the holder stops renewing. Also notices other processes' commits (SQLite's data_version) to re-plan."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable

from cronbridge.store.coordination import Leases
from cronbridge.store.db import Database

log = logging.getLogger("cronbridge.scheduler")
LEASE_NAME = "scheduler"
LEASE_SECONDS = 2.0  # the interval: a dead holder's lease runs out within it
RENEW_SECONDS = 0.5  # the holder renews, and a standby checks, this often


def _nothing() -> None:
    return None


class SchedulerLease:
    """Renews (or waits for) the lease on a thread; `held` is true only while the lease is surely ours: we stop
    firing one renewal period before another process may take over. Times are wall-clock (time.time), never the
    scheduler's clock, which a test may hold still."""

    def __init__(
        self, db: Database, holder: str | None = None, ttl: float = LEASE_SECONDS, period: float = RENEW_SECONDS
    ) -> None:
        self.db = db
        self.leases = Leases(db)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.ttl = ttl
        self.period = period
        self.on_gained: Callable[[], None] = _nothing
        self.on_resumed: Callable[[], None] = _nothing  # held again after a late renewal, nobody else held it
        self.on_lost: Callable[[], None] = _nothing
        self.on_external_change: Callable[[], None] = _nothing  # another process committed, and we hold the lease
        self.on_other_commit: Callable[[], None] = _nothing  # another process committed (holder or standby)
        self._valid_until = 0.0
        self._was_held = False
        self._continued = False
        self._version = db.data_version()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="lease")

    @property
    def held(self) -> bool:
        return time.time() < self._valid_until

    def start(self) -> None:
        self.tick()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        if self._was_held:
            with contextlib.suppress(sqlite3.Error):
                self.leases.release(LEASE_NAME, self.holder)
        self._valid_until = 0.0

    def tick(self) -> None:
        """Renew or try to take the lease; announce gains, losses and other processes' changes."""
        now = time.time()
        version = self._version
        try:
            with self.db.urgent():  # renewed on time however many threads wait for the database
                before = self.leases.current(LEASE_NAME)
                if self.leases.acquire(LEASE_NAME, self.holder, now, self.ttl, steal=self._dead_holder(now)):
                    self._valid_until = now + self.ttl - self.period
                    self._continued = before == self.holder  # nobody held it since our last renewal
                version = self.db.data_version()
        except sqlite3.Error as exc:
            log.warning("lease: %s", exc)
        held = self.held
        if held and not self._was_held and self._continued:
            log.warning("scheduler lease renewed late by %s (nobody else held it): firing resumes", self.holder)
            self._was_held = True
            self.on_resumed()
        elif held and not self._was_held:
            log.info("scheduler lease taken by %s", self.holder)
            self._was_held = True
            self.on_gained()
        elif self._was_held and not held:
            log.warning("scheduler lease lost by %s", self.holder)
            self._was_held = False
            self.on_lost()
        self._check_version(held, version)

    def _dead_holder(self, now: float) -> str | None:
        """The current holder when it is a process of this host that no longer exists (a crash, then a restart):
        its lease is taken at once instead of after it runs out."""
        holder = self.leases.holder(LEASE_NAME, now)
        if holder is None or holder == self.holder:
            return None
        host, _, rest = holder.partition(":")
        pid = rest.partition(":")[0]
        if host != socket.gethostname() or not pid.isdigit():
            return None
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return holder
        except OSError:
            return None
        return None

    def _check_version(self, held: bool, version: int) -> None:
        if version != self._version:
            self._version = version
            self.on_other_commit()
            if held:
                self.on_external_change()

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.tick()
            except Exception:
                log.exception("lease tick failed")
