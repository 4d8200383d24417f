"""Run the one server (every AWS service on one port) with uvicorn, in the foreground or on a thread."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import uvicorn

from cronbridge.api.app import create_app
from cronbridge.config import Settings
from cronbridge.identity.bootstrap import announcement
from cronbridge.system import AUTH_WORDS, System

log = logging.getLogger("cronbridge.server")


def _config(system: System, sock: socket.socket | None = None) -> uvicorn.Config:
    app = create_app(system)
    return uvicorn.Config(
        app, host=system.settings.host, port=system.settings.port, log_level="warning",
        access_log=False, lifespan="off",
    )


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
    """Serve until interrupted (SIGINT/SIGTERM), then stop the scheduler and tasks cleanly."""
    sock = bind(settings)
    port = sock.getsockname()[1]
    system = System(settings.with_(port=port))
    system.start()
    if announce:
        _announce(system, port)
    server = uvicorn.Server(_config(system))
    try:
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        system.close()


def _announce(system: System, port: int) -> None:
    s = system.settings
    clock = "manual (tests move it via POST /_cronbridge/clock)" if s.manual_clock else "system"
    print(f"cronbridge listening on http://{s.host}:{port}", flush=True)
    print(f"  launcher: {system.launcher.name}; state: {s.db_path}; clock: {clock}", flush=True)
    print(f"  auth: {s.auth} ({AUTH_WORDS[s.auth]})", flush=True)
    for line in announcement(system.admin_key, system.admin_key_new, s.admin_credentials_path,
                             f"http://{s.host}:{port}"):
        print(line, flush=True)
    if s.allow_reset:
        print("  reset: enabled (POST /_cronbridge/reset wipes all state)", flush=True)


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
        asyncio.run(self.server.serve(sockets=[self.sock]))

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
