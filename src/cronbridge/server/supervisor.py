"""Several server processes on one port and one database (`cronbridge server --workers N`): the supervisor binds
the socket, prepares the database once (migrations, the administrator's key), then forks N workers, each once the
one before is ready (it has taken over what dead processes left, so no worker answers about a task before that),
that all accept on the inherited socket. It forwards SIGTERM/SIGINT (a clean stop) and SIGUSR1 (every worker's
stacks) to them, starts a worker again when one dies, and takes them with it if it is killed (PR_SET_PDEATHSIG).
How the workers share tasks, the scheduler and caches is docs/architecture.md's subject."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import random
import select
import signal
import socket
import sys
import time
from types import FrameType

from cronbridge.clock import SystemClock
from cronbridge.config import Settings
from cronbridge.identity.bootstrap import announcement, write_credentials
from cronbridge.identity.service import IdentityService
from cronbridge.scope import Scope
from cronbridge.store.database import open_database, shown
from cronbridge.system import AUTH_WORDS

log = logging.getLogger("cronbridge.server")
STOP_WAIT = 30.0  # seconds the workers get to stop their tasks before they are killed
RESPAWN_LIMIT = 5  # workers that die within RESPAWN_QUICK seconds of their start, in a row, before giving up
RESPAWN_QUICK = 2.0
READY_WAIT = 120.0  # seconds a worker may take to start before the next one is started anyway
PR_SET_PDEATHSIG = 1


class Supervisor:
    """Forks and watches the worker processes; returns when they have all stopped."""

    def __init__(self, settings: Settings, sock: socket.socket) -> None:
        self.settings = settings
        self.sock = sock
        self.port = sock.getsockname()[1]
        self.workers: dict[int, float] = {}  # pid -> when it started
        self.stopping = False
        self.quick_deaths = 0

    def run(self, announce: bool) -> None:
        self._prepare(announce)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        signal.signal(signal.SIGUSR1, self._forward)
        for _ in range(self.settings.workers):
            self._spawn()
        self._watch()

    def _prepare(self, announce: bool) -> None:
        """Migrate the database and make the administrator's key once, before any worker opens it."""
        settings = self.settings
        db = open_database(settings.database_url, home=Scope(settings.account_id, settings.region))
        try:
            identity = IdentityService(db, SystemClock(), settings.account_id, changed=lambda: None)
            key, new = identity.bootstrap(settings.admin_access_key_id, settings.admin_secret_access_key)
            write_credentials(settings.admin_credentials_path, key)
        finally:
            db.close()
        if announce:
            endpoint = f"http://{settings.host}:{self.port}"
            print(f"cronbridge listening on {endpoint}", flush=True)
            print(f"  workers: {settings.workers} server processes on this port and database", flush=True)
            print(f"  launcher: {settings.launcher}; state: {shown(settings.database_url)}; clock: system", flush=True)
            print(f"  auth: {settings.auth} ({AUTH_WORDS[settings.auth]})", flush=True)
            for line in announcement(key, new, settings.admin_credentials_path, endpoint):
                print(line, flush=True)
            if settings.allow_reset:
                print("  reset: enabled (POST /_cronbridge/reset wipes all state)", flush=True)

    def _spawn(self) -> None:
        """Fork a worker and wait until it is ready (or has died, or READY_WAIT passed)."""
        sys.stdout.flush()
        sys.stderr.flush()
        ready, told = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready)
            _worker(self.settings, self.sock, told)  # never returns
        os.close(told)
        self.workers[pid] = time.monotonic()
        try:
            _wait_readable(ready, READY_WAIT)  # a byte when it is ready; end of file if it died first
        finally:
            os.close(ready)

    def _watch(self) -> None:
        while self.workers:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            started = self.workers.pop(pid, None)
            if started is None or self.stopping:
                continue
            self._respawn(pid, status, started)

    def _respawn(self, pid: int, status: int, started: float) -> None:
        code = os.waitstatus_to_exitcode(status)
        self.quick_deaths = self.quick_deaths + 1 if time.monotonic() - started < RESPAWN_QUICK else 0
        if self.quick_deaths >= RESPAWN_LIMIT:
            log.error("worker %s exited (%s) %d times right after starting: stopping the server", pid, code,
                      self.quick_deaths)
            self._stop(signal.SIGTERM, None)
            return
        log.warning("worker %s exited (%s): starting another", pid, code)
        self._spawn()

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM/SIGINT: every worker stops its tasks and exits; one that does not within STOP_WAIT is killed."""
        if self.stopping:
            return
        self.stopping = True
        for pid in list(self.workers):
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT
        while self.workers and time.monotonic() < deadline:
            for pid in list(self.workers):
                if _reaped(pid):
                    self.workers.pop(pid, None)
            time.sleep(0.05)
        for pid in list(self.workers):
            _signal(pid, signal.SIGKILL)

    def _forward(self, signum: int, frame: FrameType | None) -> None:
        for pid in list(self.workers):
            _signal(pid, signum)


def _wait_readable(fd: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            readable, _, _ = select.select([fd], [], [], left)
        except InterruptedError:
            continue
        if readable:
            return


def _worker(settings: Settings, sock: socket.socket, told: int) -> None:
    """In the forked child: die with the supervisor, serve on the inherited socket, exit."""
    code = 0
    try:
        _die_with_parent()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
            signal.signal(signum, signal.SIG_DFL)
        random.seed()  # not the supervisor's sequence
        from cronbridge.server.process import run_process

        run_process(settings, sock, announce=False, ready=lambda: _tell(told))
    except BaseException:  # a worker must never return into the supervisor's code
        logging.getLogger("cronbridge.server").exception("worker failed")
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _tell(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, b"1")
        os.close(fd)


def _die_with_parent() -> None:
    """Killed with the supervisor (SIGKILL: a crash of the server is a crash of every worker)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the workers see the parent go at their next look
        return
    if os.getppid() == 1:
        os._exit(1)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _reaped(pid: int) -> bool:
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid
