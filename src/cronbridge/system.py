"""The composition root: builds the database, services, runner, launcher and scheduler from Settings."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from cronbridge.clock import Clock, FakeClock, SystemClock
from cronbridge.config import Settings
from cronbridge.ecs.runtime.runner import STOP_TASK, Runner
from cronbridge.ecs.service import EcsService
from cronbridge.errors import ValidationError
from cronbridge.events.router import EventRouter
from cronbridge.events.service import EventsService
from cronbridge.events.targets import Targets
from cronbridge.identity.authorizer import authorizer_for
from cronbridge.identity.bootstrap import write_credentials
from cronbridge.identity.service import IdentityService
from cronbridge.launchers.base import Launcher
from cronbridge.launchers.select import choose_launcher
from cronbridge.logs.insights.service import InsightsService
from cronbridge.logs.metric_filters import MetricFilters
from cronbridge.logs.service import LogService
from cronbridge.metrics.alarms import AlarmsService
from cronbridge.metrics.service import MetricsService
from cronbridge.peers import caches
from cronbridge.peers.caches import Freshness
from cronbridge.peers.group import PeerGroup
from cronbridge.peers.inbox import Inbox
from cronbridge.scheduler.changes import Changes
from cronbridge.scheduler.delivery import Faults
from cronbridge.scheduler.engine import Scheduler
from cronbridge.scheduler.sources import RuleSource
from cronbridge.schedules.service import SchedulesService
from cronbridge.schedules.source import ScheduleSource
from cronbridge.scope import Regional, Scope
from cronbridge.server.watchdog import LoopBeat, Watchdog
from cronbridge.sqs.arrivals import Arrivals
from cronbridge.sqs.service import QueuesByArn, SqsService
from cronbridge.store.coordination import Meta
from cronbridge.store.database import ERRORS as STORE_ERRORS
from cronbridge.store.database import Database, open_database
from cronbridge.store.documents import Documents
from cronbridge.store.events import AlarmHistory
from cronbridge.store.metrics import MetricStore
from cronbridge.store.peers import (
    ControlRequest,
    TableCacheGenerations,
    TableControlRequests,
    TablePeers,
    TableTaskOwners,
    shared_secret,
)

log = logging.getLogger("cronbridge")
MANUAL_CLOCK = "manual_clock"
TASK_TOKEN_KEY = "task-token-key"
PAUSE, RESUME = "pause", "resume"  # what a reset asks the other processes on the database
RESET_WAIT = 30.0  # seconds a reset waits for the other processes to stop their tasks


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
        self.home = Scope(settings.account_id, settings.region)  # where calls that name no Region act (console)
        self.db = open_database(settings.database_url, home=self.home)
        self.clock: Clock = clock or (_manual_clock(self.db) if settings.manual_clock else SystemClock())
        self.docs = Documents(self.db)
        spool = settings.data_dir / "spool"  # process tasks' output and exits, kept by their monitors
        self.launcher = launcher or choose_launcher(settings.launcher, settings.docker_host, spool)
        generations = TableCacheGenerations(self.db)  # other processes drop their caches when these move
        self.identity = IdentityService(
            self.db, self.clock, settings.account_id, changed=lambda: generations.bump(caches.IAM)
        )
        self.admin_key, self.admin_key_new = self.identity.bootstrap(
            settings.admin_access_key_id, settings.admin_secret_access_key
        )
        write_credentials(settings.admin_credentials_path, self.admin_key)
        token_key = shared_secret(self.db, TASK_TOKEN_KEY).encode()  # task-role tokens any process can check
        self.authorizer = authorizer_for(self.identity, self.clock, settings, token_key)  # IAM enforcement
        self.logs: Regional[LogService] = Regional(self._log_service)  # one per account and Region used
        self.insights = InsightsService(self.db, self.clock)
        self.ecs = EcsService(self.db, self.docs, self.clock, changed=lambda: generations.bump(caches.ECS))
        requests = TableControlRequests(self.db)
        self.peers = PeerGroup(TablePeers(self.db), TableTaskOwners(self.db), requests, on_beat=self._beat)
        self.runner = Runner(
            self.ecs, self.logs, self.launcher, self.clock, self.authorizer, settings.task_retention, self.peers
        )
        changes = Changes()  # rules and schedules that moved: the scheduler re-plans them
        self.events = EventsService(self.docs, self.clock, changes)
        self.schedules = SchedulesService(self.docs, self.clock, changes)
        self.metrics: Regional[MetricsService] = Regional(lambda scope: MetricsService(self.db, self.clock, scope))
        self.arrivals = Arrivals()  # SQS long polling: receivers waiting on a queue of any Region, woken by a send
        self.sqs: Regional[SqsService] = Regional(
            lambda scope: SqsService(self.db, self.clock, scope, self.arrivals)
        )
        self.queues = QueuesByArn(self.sqs)  # a queue named by its ARN, in the Region the ARN names
        faults = os.environ.get("CRONBRIDGE_INJECT_RUNTASK_ERRORS")
        targets = Targets(self.db, self.sqs, self.logs, self.runner, self.authorizer)  # every kind of target
        self.router = EventRouter(
            self.db,
            self.events,
            targets,
            self.queues,
            self.runner.task_events,
            self.clock,
            active=lambda: self.scheduler.lease.held,  # one server follows task changes and retries
        )
        self.freshness = Freshness(
            generations,
            {
                caches.ECS: self.ecs.forget_cached,
                caches.IAM: self.identity.forget_cached,
                caches.EVENTS: self.router.forget_cached,
            },
        )
        self.scheduler = Scheduler(
            self.db,
            self.runner,
            self.clock,
            sources=[RuleSource(self.events), ScheduleSource(self.schedules)],
            changes=changes,
            authorizer=self.authorizer,
            dead_letters=self.queues,
            on_other_commit=self.freshness.check,  # another process's commit: cached answers may be stale
            targets=targets,  # scheduled rules and schedules deliver to SQS, buses and log groups too
            forward=self.router.forward,  # a bus target's event is routed on that bus
            faults=Faults(faults) if faults else None,
        )
        self.alarms = AlarmsService(
            self.docs,
            AlarmHistory(self.db),
            lambda scope, metric, start, end: self.metrics.at(scope).samples(metric, start, end),
            self.router.route,  # state changes go on the default bus of the alarm's Region
            self.clock,
            active=lambda: self.scheduler.lease.held,  # one server evaluates
        )
        self.inbox = Inbox(  # what other processes on the database ask of this one
            requests, self.db.change_feed(), self.peers.id,
            {STOP_TASK: self.runner.stop_requested, PAUSE: self._pause, RESUME: self._resume},
        )
        self.peers.join()
        self.loop_beat = LoopBeat()  # started by the server on its event loop
        self.watchdog = Watchdog(
            settings.watchdog_seconds,
            {
                "the event loop": self.loop_beat.stalled_for,
                "the task writer": self.runner.writes.stalled_for,
                "the database lock": self.db.stalled_for,
            },
        )
        self._lock = threading.Lock()

    def _log_service(self, scope: Scope) -> LogService:
        """CloudWatch Logs of one account and Region, with the metric filters of its log groups."""
        filters = MetricFilters(self.docs, MetricStore(self.db, scope), scope)
        return LogService(self.db, self.clock, filters, scope)

    def start(self) -> None:
        """Take over the tasks that dead processes left running, then start firing schedules (when this process
        takes the scheduler lease: at once, unless another live server on the same database holds it)."""
        self.runner.recover()  # what dead processes left (a crash, a restart) is settled before anything is served
        self.peers.start()
        self.inbox.start()
        self.scheduler.start()
        self.runner.start_sweeper()
        self.router.start()
        self.alarms.start()
        self.watchdog.start()
        log.info("cronbridge: launcher=%s data=%s", self.launcher.name, self.db.location)
        log.info("cronbridge: auth=%s (%s)", self.settings.auth, AUTH_WORDS[self.settings.auth])

    def close(self) -> None:
        self.watchdog.stop()
        self.alarms.stop()
        self.router.stop()
        self.insights.close()
        self.scheduler.stop()
        self.inbox.stop()
        self.runner.close()
        try:
            self.peers.leave()
        except STORE_ERRORS as exc:  # the database is away (or closed): the others see the heartbeats stop instead
            log.warning("leaving the peers: %s", exc)
        self.db.close()

    def reset(self) -> None:
        """Wipe all state (only with --allow-reset): every process on the database pauses its scheduler and stops
        its tasks, then every table is emptied (but what the processes share), then they resume."""
        with self._lock:
            others = [p.id for p in self.peers.others()]
            if not self.peers.wait([self.peers.send(p, PAUSE) for p in others], RESET_WAIT):
                log.warning("reset: another server process did not stop its tasks within %.0f s", RESET_WAIT)
            self._pause()
            self.db.wipe()
            self.freshness.changed(caches.ECS)
            self.freshness.changed(caches.IAM)
            self.freshness.changed(caches.EVENTS)
            self.ecs.forget_cached()
            self.router.forget_cached()
            self.identity.forget_cached()
            self.identity.bootstrap(self.admin_key.access_key_id, self.admin_key.secret_access_key)
            for peer in others:
                self.peers.send(peer, RESUME)
            self._resume()

    def _pause(self, request: ControlRequest | None = None) -> None:
        """Fire nothing, run nothing (a reset is under way)."""
        self.scheduler.pause()
        self.runner.stop_all()

    def _resume(self, request: ControlRequest | None = None) -> None:
        self.freshness.check()
        self.scheduler.resume()

    def _beat(self) -> None:
        """After each heartbeat: the scheduler lease holder takes over the tasks of processes that died."""
        if self.scheduler.lease.held:
            self.runner.recover_from_dead_peers()

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
        """The health check's answer, from memory only (no database, no lock): it answers during any stall."""
        verdict = self.watchdog.verdict()
        full_since = self.db.disk_full_since
        degraded = verdict.status != "ok" or full_since is not None
        return {
            "status": "degraded" if degraded else "ok",
            "stalls": list(verdict.reasons),
            **({} if full_since is None else {"degraded": "disk full", "diskFullSince": full_since}),
            "launcher": self.launcher.name,
            "database": self.db.location,
            "clock": "manual" if isinstance(self.clock, FakeClock) else "system",
            "scheduler": "holder" if self.scheduler.lease.held else "standby",
            "auth": self.settings.auth,
            "workers": self.settings.workers,
            "process": self.peers.id,
            "now": self.clock.now(),
        }
