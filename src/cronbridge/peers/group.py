"""This process among the server processes on its database: it joins, beats, and leaves; it tells who is alive,
which process owns (runs) a task, and sends another process a request and waits until it has acted."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from cronbridge.errors import StoreUnavailable
from cronbridge.peers.liveness import is_alive, this_process
from cronbridge.store.faults import disk_full
from cronbridge.store.peers import ControlRequests, Peer, Peers, TaskOwners

log = logging.getLogger("cronbridge.peers")
BEAT_SECONDS = 1.0  # a heartbeat, and the holder's look for tasks whose owner died, this often
ASK_POLL = 0.005  # seconds between looks at whether an asked process has acted


class PeerGroup:
    """This process (`me`) and the others. `on_beat` runs on the heartbeat thread after every beat (the scheduler
    lease holder's look for orphaned tasks)."""

    def __init__(
        self,
        peers: Peers,
        owners: TaskOwners,
        requests: ControlRequests,
        me: Peer | None = None,
        on_beat: Callable[[], None] = lambda: None,
        period: float = BEAT_SECONDS,
    ) -> None:
        self.peers = peers
        self.owners = owners
        self.requests = requests
        self.me = me or this_process()
        self.on_beat = on_beat
        self.period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="peers")

    @property
    def id(self) -> str:
        return self.me.id

    # membership -------------------------------------------------------------------------------------------------
    def join(self) -> None:
        self.peers.join(self.me, time.time())

    def start(self) -> None:
        self._thread.start()

    def leave(self) -> None:
        """Stop beating and take this process off the list (its tasks were stopped)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5)
        self.peers.leave(self.me.id)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.peers.beat(self.me, time.time())
                self.on_beat()
            except Exception as exc:  # the next beat tries again
                if disk_full(exc):  # a state the health check reports, not a bug: no traceback
                    log.warning("peer heartbeat not written: the disk is full")
                elif isinstance(exc, StoreUnavailable):  # the database is away: the next beat tries again
                    log.warning("peer heartbeat not written: %s", exc)
                else:
                    log.exception("peer heartbeat failed")

    def is_alive(self, peer_id: str) -> bool:
        return peer_id == self.me.id or is_alive(self.peers.get(peer_id), time.time())

    def others(self) -> list[Peer]:
        """The other live processes."""
        now = time.time()
        return [p for p in self.peers.all() if p.id != self.me.id and is_alive(p, now)]

    def dead(self) -> list[str]:
        """Processes that own tasks or have a row but are no longer alive."""
        now = time.time()
        rows = {p.id: p for p in self.peers.all()}
        named = set(rows) | self.owners.owners()
        return sorted(p for p in named if p != self.me.id and not is_alive(rows.get(p), now))

    def forget(self, peer_id: str) -> None:
        """A dead process whose tasks were settled: its row and unanswered requests go."""
        self.requests.drop_for(peer_id)
        self.peers.leave(peer_id)

    # tasks ------------------------------------------------------------------------------------------------------
    def claim(self, task_arns: Sequence[str]) -> None:
        """This process runs these tasks (inside the transaction that records them)."""
        self.owners.claim(task_arns, self.me.id)

    def owner(self, task_arn: str) -> str | None:
        return self.owners.owner(task_arn)

    def take_over(self, task_arn: str, previous: str | None) -> bool:
        """Own a task whose owner died (first comer wins); requests about it come here from now on."""
        if not self.owners.take_over(task_arn, previous, self.me.id):
            return False
        self.requests.retarget(task_arn, self.me.id)
        return True

    # requests ---------------------------------------------------------------------------------------------------
    def send(self, target: str, kind: str, subject: str = "", body: dict[str, Any] | None = None) -> int:
        return self.requests.send(target, kind, subject, body or {}, time.time())

    def wait(self, request_ids: Sequence[int], timeout: float) -> bool:
        """Until every request was acted on (True), or `timeout` seconds, or its target died (False)."""
        deadline = time.monotonic() + timeout
        waiting = list(request_ids)
        while waiting:
            waiting = [r for r in waiting if not self.requests.is_done(r)]
            if not waiting:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(ASK_POLL)
        return True

    def ask(self, target: str, kind: str, subject: str, body: dict[str, Any], timeout: float) -> bool:
        """Send a request and wait until the target has acted on it (False after `timeout`)."""
        return self.wait([self.send(target, kind, subject, body)], timeout)
