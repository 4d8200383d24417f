"""The scheduler lease: of the server processes sharing one database, only the holder fires; another takes over
when the holder stops renewing. Also notices other processes' commits (Database.data_version) to re-plan."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from cronbridge.store.coordination import Leases
from cronbridge.store.database import ERRORS, Database

log = logging.getLogger("cronbridge.scheduler")
LEASE_NAME = "scheduler"
LEASE_SECONDS = 2.0  # the interval: a dead holder's lease runs out within it
RENEW_SECONDS = 0.5  # the holder renews, and a standby checks, this often


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class LeaseListener:
    """What the lease announces, and to whom."""

    gained: Callable[[], None] = _nothing
    resumed: Callable[[], None] = _nothing  # held again after a late renewal, nobody else held it
    lost: Callable[[], None] = _nothing
    external_change: Callable[[], None] = _nothing  # another process committed, and we hold the lease
    other_commit: Callable[[], None] = _nothing  # another process committed (holder or standby)


class SchedulerLease:
    """Renews (or waits for) the lease on a thread; `held` is true only while the lease is surely ours: we stop
    firing one renewal period before another process may take over. Times are wall-clock (time.time), never the
    scheduler's clock, which a test may hold still."""

    def __init__(
        self,
        db: Database,
        listener: LeaseListener,
        holder: str | None = None,
        ttl: float = LEASE_SECONDS,
        period: float = RENEW_SECONDS,
    ) -> None:
        self.db = db
        self.leases = Leases(db)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.ttl = ttl
        self.period = period
        self.listener = listener
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
            with contextlib.suppress(*ERRORS), self.db.urgent():
                self.leases.release(LEASE_NAME, self.holder)
                self.db.session_unlock(LEASE_NAME)
        self._valid_until = 0.0

    def tick(self) -> None:
        """Renew or try to take the lease; announce gains, losses and other processes' changes."""
        now = time.time()
        version = self._version
        try:
            with self.db.urgent():  # renewed on time however many threads wait for the database
                before = self.leases.current(LEASE_NAME)
                session = self.db.session_lock(LEASE_NAME)  # PostgreSQL: the holder's session holds it
                steal = self._dead_holder(now)
                if session and before not in (None, self.holder):
                    steal = before  # its session is gone (a crash, wherever it ran): taken at once, not at expiry
                if session is False and before == self.holder:
                    self._valid_until = 0.0  # our session lost it (a reconnection) and another took it: stop now
                elif self.leases.acquire(LEASE_NAME, self.holder, now, self.ttl, steal=steal):
                    self._valid_until = now + self.ttl - self.period
                    self._continued = before == self.holder  # nobody held it since our last renewal
                elif session:
                    self.db.session_unlock(LEASE_NAME)  # another standby took the row first: its turn
                version = self.db.data_version()
        except ERRORS as exc:
            log.warning("lease: %s", exc)
        held = self.held
        if held and not self._was_held and self._continued:
            log.warning("scheduler lease renewed late by %s (nobody else held it): firing resumes", self.holder)
            self._was_held = True
            self.listener.resumed()
        elif held and not self._was_held:
            log.info("scheduler lease taken by %s", self.holder)
            self._was_held = True
            self.listener.gained()
        elif self._was_held and not held:
            log.warning("scheduler lease lost by %s", self.holder)
            self._was_held = False
            self.listener.lost()
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
            self.listener.other_commit()
            if held:
                self.listener.external_change()

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.tick()
            except Exception:
                log.exception("lease tick failed")
