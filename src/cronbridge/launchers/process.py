"""Local processes as containers (the embedded default): entryPoint + command run on the host; the image is unused.
Limits bind through cgroups where the machine lets us write them, else through rlimits; each task says which.
Each process runs under a monitor of its own (launchers/monitor.py) that outlives the server: it holds the pipes,
spools the output and records the exit, and the next server follows the spool again (launchers/spool.py)."""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from cronbridge.errors import LaunchError
from cronbridge.launchers.base import (
    HOST_NETWORK,
    ContainerSink,
    ContainerSpec,
    ExitInfo,
    Instance,
    Limits,
    Network,
    this_machine,
)
from cronbridge.launchers.cgroups import Cgroup, CgroupTree
from cronbridge.launchers.health import HealthProbe
from cronbridge.launchers.spool import Spool

MONITOR = Path(__file__).with_name("monitor.py")
START_WAIT = 10.0  # seconds a monitor has to start its process (it is a small Python program)
_RLIMITS = {
    "core": resource.RLIMIT_CORE,
    "cpu": resource.RLIMIT_CPU,
    "data": resource.RLIMIT_DATA,
    "fsize": resource.RLIMIT_FSIZE,
    "memlock": resource.RLIMIT_MEMLOCK,
    "nofile": resource.RLIMIT_NOFILE,
    "nproc": resource.RLIMIT_NPROC,
    "rss": resource.RLIMIT_RSS,
    "stack": resource.RLIMIT_STACK,
}


def start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (clock ticks since boot): with the pid, a process's identity."""
    try:
        stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115 - one short read
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def process_id(pid: int, started: str) -> str:
    """A process's runtime id: its pid and kernel start time (a pid reused later is another process)."""
    return f"process-{pid}-{started}"


def reap_orphan(runtime: str | None) -> str:
    """After a server restart: end the process a dead runner left behind, if it is still the same process.
    Returns what happened, for the task's stopped reason."""
    parts = (runtime or "").split("-")
    if len(parts) != 3 or parts[0] != "process" or not parts[1].isdigit():
        return "its process is unknown"
    pid = int(parts[1])
    if start_time(pid) != parts[2]:
        return f"its process {pid} had already ended (exit code unknown)"
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    return f"its orphaned process {pid} was killed"


class ProcessHandle:
    """A task process under its monitor: stopped through its process group, ended when its monitor says so."""

    def __init__(self, pid: int, started: str, limits: Limits) -> None:
        self.pid = pid
        self.runtime_id = process_id(pid, started)
        self.limits = limits
        self.node: str | None = None
        self.probe: HealthProbe | None = None
        self.exited = threading.Event()

    def stop(self, timeout: float) -> None:
        threading.Thread(target=self._stop, args=(timeout,), daemon=True).start()

    def _stop(self, timeout: float) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGTERM)
        if not self.exited.wait(timeout):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)

    def health(self) -> str:
        return self.probe.status if self.probe is not None else "UNKNOWN"


class ProcessLauncher:
    """Runs each container as a process group on this host, under a monitor whose spool lives in `spool_root`."""

    name = "process"
    start_can_hang = False
    outlives_server = True  # its spool is followed again

    def __init__(self, spool_root: Path, use_cgroups: bool = True) -> None:
        self.spool_root = spool_root
        self.cgroups = CgroupTree.detect() if use_cgroups else None
        self.monitors = MonitorPool()

    def network(self, task_id: str, task_arn: str, public: bool) -> Network:
        return HOST_NETWORK

    def instances(self) -> list[Instance]:
        return [this_machine()]

    def prepare(self, spec: ContainerSpec) -> None:
        if not (spec.entry_point or spec.command):
            raise LaunchError(
                "CannotStartContainerError", "no entryPoint or command (the process launcher has no image to ask)"
            )

    def spool(self, task_id: str, name: str) -> Spool:
        return Spool(self.spool_root / task_id / re.sub(r"[^A-Za-z0-9_.-]", "_", name))

    def start(self, spec: ContainerSpec, sink: ContainerSink) -> ProcessHandle:
        """Start the container under its monitor; one a previous server already started for this very task (its
        launch cut short by a restart) is followed instead, so a task's container never runs twice."""
        self.prepare(spec)
        spool = self.spool(spec.task_id, spec.name)
        if spool.exists():
            found = self._follow(spool, spec, sink)
            if found is not None:
                return found
            spool.remove()  # its monitor never started the process: start afresh
        argv = list(spec.entry_point or ()) + list(spec.command or ())
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **dict(spec.environment)}
        if not _executable(argv[0], env["PATH"], spec.working_directory):
            raise LaunchError("CannotStartContainerError", f'exec: "{argv[0]}": executable file not found in $PATH')
        if spec.working_directory and not os.path.isdir(spec.working_directory):
            raise LaunchError(
                "CannotStartContainerError", f"chdir to cwd ({spec.working_directory!r}): no such directory"
            )
        cgroup = self._cgroup(spec)
        self._launch(spool, _monitor_spec(spec, argv, env, cgroup), cgroup)
        handle = self._follow(spool, spec, sink)
        if handle is None:
            raise LaunchError("CannotStartContainerError", "the process's monitor did not start it")
        return handle

    def _launch(self, spool: Spool, spec: dict[str, Any], cgroup: Cgroup | None) -> None:
        """Write the spool's spec, start the monitor (a session of its own: it outlives this server) and wait
        until it has started the process; LaunchError when it cannot."""
        try:
            spool.create(spec)
            if not self.monitors.hand(spool.folder):
                _monitor([str(spool.folder)], stdin=subprocess.DEVNULL)
        except OSError as exc:
            spool.remove()
            if cgroup is not None:
                cgroup.remove()
            raise LaunchError("CannotStartContainerError", f"cannot start the process's monitor: {exc}") from exc
        started = spool.wait_started(START_WAIT)
        if not isinstance(started, tuple):
            spool.remove()
            if cgroup is not None:
                cgroup.remove()
            raise LaunchError("CannotStartContainerError", started or "the process's monitor did not start it in time")

    def _follow(self, spool: Spool, spec: ContainerSpec, sink: ContainerSink) -> ProcessHandle | None:
        """Follow a spool whose monitor has started the process; None when it never did."""
        started = spool.wait_started(START_WAIT if spool.monitor_alive() else 0)
        if not isinstance(started, tuple):
            return None
        recorded = spool.spec()
        cgroup = _cgroup_of(recorded)
        limits = Limits(enforced=list(recorded.get("enforced") or []))
        handle = ProcessHandle(started[0], started[1], limits)
        if spec.health_check is not None:
            handle.probe = HealthProbe(
                spec.health_check, dict(recorded["env"]), spec.working_directory,
                alive=lambda: not handle.exited.is_set(),
            )
        threading.Thread(target=_tail, args=(spool, handle, sink, cgroup), daemon=True,
                         name=f"spool-{spec.name}").start()
        return handle

    def adopt(self, spec: ContainerSpec, sink: ContainerSink, since: float | None) -> ProcessHandle | None:
        """After a restart: follow the process's spool again from its start (the sink skips what is stored)."""
        spool = self.spool(spec.task_id, spec.name)
        return self._follow(spool, spec, sink) if spool.exists() else None

    def cleanup(self, task_id: str) -> None:
        shutil.rmtree(self.spool_root / task_id, ignore_errors=True)

    def abandon(self, task_id: str, name: str, runtime_id: str | None) -> str:
        spool = self.spool(task_id, name)
        started = spool.task_pid() if spool.exists() else None
        if started is not None:
            runtime_id = process_id(*started)
        return reap_orphan(runtime_id)

    def _cgroup(self, spec: ContainerSpec) -> Cgroup | None:
        if self.cgroups is None or not (spec.cpu or spec.memory or spec.memory_reservation):
            return None
        return self.cgroups.create(f"{spec.task_id}-{spec.name}", spec.cpu, spec.memory, spec.memory_reservation)


def _monitor(args: list[str], stdin: int) -> subprocess.Popen[bytes]:
    """A monitor in a session of its own (it outlives this server), its output nowhere (no pipe to this server)."""
    return subprocess.Popen([sys.executable, "-I", "-S", str(MONITOR), *args], stdin=stdin,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


class MonitorPool:
    """One monitor kept started ahead (`--wait`): a task's start does not wait for an interpreter to start."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: subprocess.Popen[bytes] | None = None
        self._refill()

    def hand(self, folder: Path) -> bool:
        """Give the waiting monitor its spool folder; False when none is ready (the caller starts one)."""
        with self._lock:
            ready, self._ready = self._ready, None
        threading.Thread(target=self._refill, daemon=True, name="monitor-pool").start()
        if ready is None or ready.poll() is not None or ready.stdin is None:
            return False
        try:
            ready.stdin.write(str(folder).encode() + b"\n")
            ready.stdin.close()
        except OSError:
            return False
        return True

    def _refill(self) -> None:
        try:
            fresh: subprocess.Popen[bytes] | None = _monitor(["--wait"], stdin=subprocess.PIPE)
        except OSError:
            return
        with self._lock:
            if self._ready is None:
                self._ready, fresh = fresh, None
        if fresh is not None and fresh.stdin is not None:
            fresh.stdin.close()  # one was ready already: this one ends at once


def _monitor_spec(
    spec: ContainerSpec, argv: list[str], env: dict[str, str], cgroup: Cgroup | None
) -> dict[str, Any]:
    """What the monitor starts: argv, env, cwd; the cgroup to join, the rlimits and the user, in that order."""
    rlimits = [[_RLIMITS[n], soft, hard] for n, soft, hard in spec.ulimits if n in _RLIMITS]
    if cgroup is None and spec.memory:
        size = spec.memory * 1024 * 1024
        rlimits.append([resource.RLIMIT_AS, size, size])
    recorded = {"version": cgroup.version, "paths": {k: str(v) for k, v in cgroup.paths.items()}} if cgroup else None
    return {
        "argv": argv, "env": env, "cwd": spec.working_directory, "rlimits": rlimits, "user": _user(spec),
        "cgroup_procs": [str(path / "cgroup.procs") for path in cgroup.paths.values()] if cgroup else [],
        "cgroup": recorded, "enforced": list(cgroup.enforced) if cgroup else _rlimit_names(spec),
    }


def _cgroup_of(recorded: dict[str, Any]) -> Cgroup | None:
    found = recorded.get("cgroup")
    if not found:
        return None
    return Cgroup(int(found["version"]), {k: Path(v) for k, v in found["paths"].items()})


def _tail(spool: Spool, handle: ProcessHandle, sink: ContainerSink, cgroup: Cgroup | None) -> None:
    """Deliver the spool's lines, then the exit as the monitor recorded it (OOM read from the cgroup)."""
    try:
        info = spool.follow(sink.log, stopped=lambda: False)
    except (OSError, ValueError) as exc:  # the spool is gone or garbled: say so rather than lose the exit
        info = ExitInfo(exit_code=None, reason=f"CannotInspectContainerError: {exc}", finished_at=time.time())
    handle.exited.set()
    if handle.probe is not None:
        handle.probe.stop()
    oom = cgroup.oom_killed() if cgroup is not None else False
    if cgroup is not None:
        cgroup.remove()
    sink.exited(ExitInfo(exit_code=info.exit_code, reason=info.reason, oom=oom or info.oom,
                         finished_at=info.finished_at))


def _rlimit_names(spec: ContainerSpec) -> list[str]:
    return ["memory:rlimit-as"] if spec.memory else []


def _user(spec: ContainerSpec) -> tuple[int, int] | None:
    """(uid, gid) for `user` (`name`, `uid` or `uid:gid`) when the server may switch users (root); else None."""
    if not spec.user or os.geteuid() != 0:
        return None
    name, _, group = spec.user.partition(":")
    if name.isdigit():
        uid, gid = int(name), int(name)
    else:
        try:
            entry = pwd.getpwnam(name)
        except KeyError as exc:
            raise LaunchError("CannotStartContainerError", f"unable to find user {name}: no matching entries") from exc
        uid, gid = entry.pw_uid, entry.pw_gid
    return uid, int(group) if group.isdigit() else gid


def _executable(program: str, path: str, cwd: str | None) -> bool:
    """Whether exec would find `program` (a path is taken relative to the working directory)."""
    if "/" in program:
        candidate = Path(cwd or ".") / program
        return candidate.is_file() and os.access(candidate, os.X_OK)
    return shutil.which(program, path=path) is not None
