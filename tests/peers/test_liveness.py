"""Whether a server process is alive: on this host by its pid and start time, on another by its heartbeat."""

from __future__ import annotations

import os
import subprocess
import sys

from cronbridge.peers.liveness import PEER_TTL, is_alive, process_start, this_process
from cronbridge.store.peers import Peer


def test_this_process_is_alive_and_an_exited_one_is_not() -> None:
    me = this_process()
    assert me.pid == os.getpid() and is_alive(me, 0.0)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = process_start(child.pid)
    child.wait()
    gone = Peer(f"{me.host}:{child.pid}:x", me.host, child.pid, started or "")
    assert not is_alive(gone, 0.0)
    assert not is_alive(None, 0.0)  # no row: gone


def test_a_later_process_with_the_same_pid_is_not_the_peer() -> None:
    me = this_process()
    impostor = Peer(me.id, me.host, me.pid, str(int(me.started or "0") + 1))  # what the row said at its start
    assert not is_alive(impostor, 0.0)


def test_a_process_of_another_host_is_alive_while_it_beats() -> None:
    far = Peer("elsewhere:7:x", "elsewhere", 7, "1", seen_at=1000.0)
    assert is_alive(far, 1000.0 + PEER_TTL - 1)
    assert not is_alive(far, 1000.0 + PEER_TTL + 1)
