"""The composition root: builds the database, services, runner, launcher and scheduler from Settings."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from cronbridge.authorizer import authorizer_for
from cronbridge.clock import Clock, FakeClock, SystemClock
from cronbridge.config import Settings
from cronbridge.ecs.service import EcsService
from cronbridge.errors import ValidationError
from cronbridge.events.service import EventsService
from cronbridge.identity.bootstrap import write_credentials
from cronbridge.identity.service import IdentityService
from cronbridge.launchers.base import Launcher
from cronbridge.launchers.select import choose_launcher
from cronbridge.logs.service import LogService
from cronbridge.metrics.service import MetricsService
from cronbridge.runner import Runner
from cronbridge.scheduler.delivery import Faults
from cronbridge.scheduler.engine import Scheduler
from cronbridge.schedules.service import SchedulesService
from cronbridge.schedules.source import ScheduleSource
from cronbridge.sqs.service import SqsService
from cronbridge.store.coordination import Meta
from cronbridge.store.db import Database
from cronbridge.store.documents import Documents

log = logging.getLogger("cronbridge")
MANUAL_CLOCK = "manual_clock"


def _manual_clock(db: Database) -> FakeClock:
    """A manual clock resumes where it was when the server stopped (a restart is not a clock step)."""
    stored = Meta(db).get(MANUAL_CLOCK)
    return FakeClock(float(stored)) if stored else FakeClock()
AUTH_WORDS = {
    "enforce": "every AWS request must carry a valid SigV4 signature of a known key",
    "open": "any well-formed signature is accepted and acts as the administrator",
}


class System:
    """Everything one cronbridge server runs, wired once."""

    def __init__(self, settings: Settings, clock: Clock | None = None, launcher: Launcher | None = None) -> None:
        self.settings = settings
        self.db = Database(settings.db_path)
        self.clock: Clock = clock or (_manual_clock(self.db) if settings.manual_clock else SystemClock())
        self.docs = Documents(self.db)
        self.launcher = launcher or choose_launcher(settings.launcher, settings.docker_host)
        self.logs = LogService(self.db, self.clock, region=settings.region, account=settings.account_id)
        self.ecs = EcsService(self.db, self.docs, self.clock)
        self.runner = Runner(self.ecs, self.logs, self.launcher, self.clock)
        self.events = EventsService(self.docs, self.clock)
        self.metrics = MetricsService(self.db, self.clock)
        self.sqs = SqsService(self.db, self.clock, region=settings.region, account=settings.account_id)
        faults = os.environ.get("CRONBRIDGE_INJECT_RUNTASK_ERRORS")
        self.scheduler = Scheduler(self.db, self.events, self.runner, self.clock, dead_letters=self.sqs,
                                   faults=Faults(faults) if faults else None)
        self.events.on_change = self.scheduler.wake
        self.schedules = SchedulesService(self.docs, self.clock)
        self.scheduler.add_source(ScheduleSource(self.schedules))
        self.schedules.on_change = lambda key: self.scheduler.wake_key(None if key is None else f"schedule:{key}")
        self.identity = IdentityService(self.db, self.clock, settings.account_id)
        self.admin_key, self.admin_key_new = self.identity.bootstrap(
            settings.admin_access_key_id, settings.admin_secret_access_key
        )
        write_credentials(settings.admin_credentials_path, self.admin_key)
        self.authorizer = authorizer_for(self.identity, self.clock, settings)  # IAM enforcement
        self.runner.authorizer = self.scheduler.delivery.authorizer = self.authorizer
        self.scheduler.lease.on_other_commit = self.identity.forget_cached  # its IAM answers may have changed
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start firing schedules; on taking the scheduler lease (at once, unless another live server on the same
        database holds it), tasks left running by a dead process are recovered before unfinished slots resume."""
        self.scheduler.before_resume = self.runner.recover
        self.scheduler.start()
        log.info("cronbridge: launcher=%s data=%s", self.launcher.name, self.settings.db_path)
        log.info("cronbridge: auth=%s (%s)", self.settings.auth, AUTH_WORDS[self.settings.auth])

    def close(self) -> None:
        self.scheduler.stop()
        self.runner.close()
        self.db.close()

    def reset(self) -> None:
        """Wipe all state (only with --allow-reset): stop running tasks, empty every table."""
        with self._lock:
            self.scheduler.pause()
            self.runner.stop_all()
            self.db.wipe()
            self.ecs.forget_cached()
            self.identity.forget_cached()
            self.identity.bootstrap(self.admin_key.access_key_id, self.admin_key.secret_access_key)
            self.scheduler.resume()

    def move_clock(self, advance: float | None = None, to: float | None = None) -> None:
        if not isinstance(self.clock, FakeClock):
            raise ValidationError("the clock can be moved only when the server runs with --manual-clock")
        if to is not None:
            self.clock.set(float(to))
        elif advance is not None:
            self.clock.advance(float(advance))
        Meta(self.db).put(MANUAL_CLOCK, repr(self.clock.now()))
        self.scheduler.wake()

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "launcher": self.launcher.name,
            "database": str(self.settings.db_path),
            "clock": "manual" if isinstance(self.clock, FakeClock) else "system",
            "scheduler": "holder" if self.scheduler.lease.held else "standby",
            "auth": self.settings.auth,
            "now": self.clock.now(),
        }
