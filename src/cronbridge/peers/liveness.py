"""Whether a server process is alive: on this host, its pid runs and started when the process did (so a later
process given the same pid is not mistaken for it); on another host, it beat within the last `ttl` seconds."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

from cronbridge.store.peers import Peer

PEER_TTL = 30.0  # seconds without a heartbeat after which a process of another host counts as dead


def process_start(pid: int) -> str | None:
    """When process `pid` started, in its host's clock ticks since boot (/proc/<pid>/stat); None when no such
    process runs; "" when this host does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return _exists(pid)
    fields = stat.rsplit(")", 1)[1].split()
    return fields[19] if len(fields) > 19 else ""


def _exists(pid: int) -> str | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except OSError:
        return ""
    return ""


def this_process() -> Peer:
    """This server process, named host:pid:nonce."""
    host, pid = socket.gethostname(), os.getpid()
    return Peer(f"{host}:{pid}:{uuid.uuid4().hex[:8]}", host, pid, process_start(pid) or "")


def is_alive(peer: Peer | None, now: float, ttl: float = PEER_TTL) -> bool:
    """A peer with no row is gone; one of this host is alive while its process runs; another host's while it beats."""
    if peer is None:
        return False
    if peer.host == socket.gethostname():
        started = process_start(peer.pid)
        return started is not None and (not peer.started or not started or started == peer.started)
    return now - peer.seen_at < ttl
