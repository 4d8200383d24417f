"""One server process: uvicorn around the app (every AWS service on one port), in the foreground or on a thread; the
event loop's heartbeat for the watchdog; every thread's stack on SIGUSR1. `serve` runs several processes on one
port when Settings.workers asks for more than one (server/supervisor.py)."""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable

import uvicorn

from cronbridge.api.app import create_app
from cronbridge.config import Settings
from cronbridge.identity.bootstrap import announcement
from cronbridge.memory import keep_memory_returnable
from cronbridge.system import AUTH_WORDS, System

log = logging.getLogger("cronbridge.server")


KEEP_ALIVE = 75  # seconds an idle kept-alive connection stays open (uvicorn's 5 s made busy clients reconnect)
ACCESS_FORMAT = '%(asctime)s %(client_addr)s "%(request_line)s" %(status_code)s'


def _config(system: System) -> uvicorn.Config:
    app = create_app(system)
    access = system.settings.access_log
    config = uvicorn.Config(
        app, host=system.settings.host, port=system.settings.port, log_level="warning",
        access_log=bool(access), lifespan="off", log_config=None,
        timeout_keep_alive=KEEP_ALIVE,
    )
    if access:  # after uvicorn has set its loggers' levels
        _access_logger(access)
    return config


def _access_logger(target: str) -> None:
    """uvicorn's access lines (client, request line, status) to stderr ("-") or appended to a file."""
    from uvicorn.logging import AccessFormatter

    handler: logging.Handler = logging.StreamHandler() if target == "-" else logging.FileHandler(target)
    handler.setFormatter(AccessFormatter(ACCESS_FORMAT, use_colors=False))
    logger = logging.getLogger("uvicorn.access")
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


def bind(settings: Settings) -> socket.socket:
    """Bind the listening socket first, so port 0 resolves to a real port before anything starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # without this, a response's second write waits ~40 ms for the client's delayed ACK on kept-alive connections
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((settings.host, settings.port))
    sock.listen(1024)
    return sock


def serve(settings: Settings, announce: bool = True) -> None:
    """Serve until interrupted (SIGINT/SIGTERM), then stop the scheduler and tasks cleanly; with more than one
    worker, a supervisor runs that many server processes on the one socket."""
    keep_memory_returnable()  # inherited by forked workers
    sock = bind(settings)
    if settings.workers > 1:
        from cronbridge.server.supervisor import Supervisor

        Supervisor(settings, sock).run(announce)
        return
    run_process(settings, sock, announce)


def run_process(
    settings: Settings, sock: socket.socket, announce: bool, ready: Callable[[], None] = lambda: None
) -> None:
    """One server process on an already bound socket, until SIGINT/SIGTERM; `ready` is called once it has started
    (before it serves)."""
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)  # `kill -USR1`: every thread's stack
    port = sock.getsockname()[1]
    system = System(settings.with_(port=port))
    system.start()
    ready()
    if announce:
        _announce(system, port)
    server = uvicorn.Server(_config(system))
    try:
        asyncio.run(_serve(server, system, sock))
    finally:
        system.close()


async def _serve(server: uvicorn.Server, system: System, sock: socket.socket) -> None:
    system.loop_beat.start(asyncio.get_running_loop())
    await server.serve(sockets=[sock])


def _announce(system: System, port: int) -> None:
    s = system.settings
    clock = "manual (tests move it via POST /_cronbridge/clock)" if s.manual_clock else "system"
    print(f"cronbridge listening on http://{s.host}:{port}", flush=True)
    print(f"  launcher: {system.launcher.name}; state: {system.db.location}; clock: {clock}", flush=True)
    print(f"  auth: {s.auth} ({AUTH_WORDS[s.auth]})", flush=True)
    for line in announcement(system.admin_key, system.admin_key_new, s.admin_credentials_path,
                             f"http://{s.host}:{port}"):
        print(line, flush=True)
    if s.allow_reset:
        print("  reset: enabled (POST /_cronbridge/reset wipes all state)", flush=True)
    if s.workers > 1:
        print(f"  workers: {s.workers} server processes on this port and database", flush=True)


class BackgroundServer:
    """A server on a thread of this process (the demo uses it)."""

    def __init__(self, settings: Settings) -> None:
        self.sock = bind(settings)
        self.port = self.sock.getsockname()[1]
        self.system = System(settings.with_(port=self.port))
        self.server = uvicorn.Server(_config(self.system))
        self.thread = threading.Thread(target=self._run, daemon=True, name="cronbridge-server")

    @property
    def endpoint(self) -> str:
        return f"http://{self.system.settings.host}:{self.port}"

    def _run(self) -> None:
        asyncio.run(_serve(self.server, self.system, self.sock))

    def start(self) -> BackgroundServer:
        self.system.start()
        self.thread.start()
        while not self.server.started:
            threading.Event().wait(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.system.close()
