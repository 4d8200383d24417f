"""Local processes as containers (the embedded default): entryPoint + command run on the host; the image is unused.
Limits bind through cgroups where the machine lets us write them, else through rlimits; each task says which."""

from __future__ import annotations

import contextlib
import os
import pwd
import resource
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from cronbridge.errors import LaunchError
from cronbridge.launchers.base import HOST_NETWORK, ContainerSink, ContainerSpec, ExitInfo, Limits, Network, Stream
from cronbridge.launchers.cgroups import Cgroup, CgroupTree
from cronbridge.launchers.health import HealthProbe
from cronbridge.launchers.zygote import ZygotePool, command_line

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


def runtime_id(pid: int) -> str:
    return f"process-{pid}-{start_time(pid) or 0}"


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
    def __init__(self, proc: subprocess.Popen[bytes], limits: Limits) -> None:
        self.proc = proc
        self.runtime_id = runtime_id(proc.pid)
        self.limits = limits
        self.probe: HealthProbe | None = None
        self.exited = threading.Event()

    def stop(self, timeout: float) -> None:
        threading.Thread(target=self._stop, args=(timeout,), daemon=True).start()

    def _stop(self, timeout: float) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        if not self.exited.wait(timeout):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def health(self) -> str:
        return self.probe.status if self.probe is not None else "UNKNOWN"


class ProcessLauncher:
    """Runs each container as a process group on this host."""

    name = "process"

    def __init__(self, use_cgroups: bool = True) -> None:
        self.cgroups = CgroupTree.detect() if use_cgroups else None
        self.pool = ZygotePool(self.cgroups) if self.cgroups is not None else None

    def network(self, task_id: str, task_arn: str, public: bool) -> Network:
        return HOST_NETWORK

    def prepare(self, spec: ContainerSpec) -> None:
        if not (spec.entry_point or spec.command):
            raise LaunchError(
                "CannotStartContainerError", "no entryPoint or command (the process launcher has no image to ask)"
            )

    def start(self, spec: ContainerSpec, sink: ContainerSink) -> ProcessHandle:
        self.prepare(spec)
        argv = list(spec.entry_point or ()) + list(spec.command or ())
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **dict(spec.environment)}
        if not _executable(argv[0], env["PATH"], spec.working_directory):
            raise LaunchError("CannotStartContainerError", f'exec: "{argv[0]}": executable file not found in $PATH')
        if spec.working_directory and not os.path.isdir(spec.working_directory):
            raise LaunchError(
                "CannotStartContainerError", f"chdir to cwd ({spec.working_directory!r}): no such directory"
            )
        proc, cgroup = self._warm(spec, argv, env) or self._spawn(spec, argv, env)
        limits = Limits(enforced=list(cgroup.enforced) if cgroup else _rlimit_names(spec))
        handle = ProcessHandle(proc, limits)
        if spec.health_check is not None:
            handle.probe = HealthProbe(
                spec.health_check, env, spec.working_directory, alive=lambda: not handle.exited.is_set()
            )
        readers = [
            threading.Thread(target=_pump, args=(proc.stdout, "stdout", sink), daemon=True),
            threading.Thread(target=_pump, args=(proc.stderr, "stderr", sink), daemon=True),
        ]
        for r in readers:
            r.start()
        threading.Thread(target=_wait, args=(handle, readers, sink, cgroup), daemon=True).start()
        return handle

    def adopt(self, spec: ContainerSpec, sink: ContainerSink, since: float | None) -> ProcessHandle | None:
        """A process's output went to the dead server's pipes: it cannot be followed again."""
        return None

    def cleanup(self, task_id: str) -> None:
        return None

    def abandon(self, task_id: str, name: str, runtime_id: str | None) -> str:
        return reap_orphan(runtime_id)

    def _warm(
        self, spec: ContainerSpec, argv: list[str], env: dict[str, str]
    ) -> tuple[subprocess.Popen[bytes], Cgroup] | None:
        """The common case (limits, no ulimits, no user) through a zygote already in its cgroup."""
        if self.pool is None or not (spec.cpu or spec.memory or spec.memory_reservation):
            return None
        line = command_line(argv, env, spec.working_directory)
        if line is None or spec.ulimits or _user(spec) is not None:
            return None
        zygote = self.pool.take()
        if zygote is None:
            return None
        try:
            zygote.cgroup.limit(spec.cpu, spec.memory, spec.memory_reservation)
            zygote.launch(line)
        except OSError:
            zygote.discard()
            return None
        finally:
            self.pool.replenish()
        return zygote.proc, zygote.cgroup

    def _spawn(
        self, spec: ContainerSpec, argv: list[str], env: dict[str, str]
    ) -> tuple[subprocess.Popen[bytes], Cgroup | None]:
        cgroup = self._cgroup(spec)
        preexec = _preexec(spec, cgroup, _user(spec))
        if cgroup is not None and preexec is None:
            argv = _joining(cgroup, argv)  # no preexec_fn: the server is not forked, the child shell joins
        try:
            proc = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=spec.working_directory or None,
                start_new_session=True,
                preexec_fn=preexec,
            )
        except (OSError, subprocess.SubprocessError, ValueError, KeyError) as exc:
            if cgroup is not None:
                cgroup.remove()
            raise LaunchError("CannotStartContainerError", str(exc)) from exc
        return proc, cgroup

    def _cgroup(self, spec: ContainerSpec) -> Cgroup | None:
        if self.cgroups is None or not (spec.cpu or spec.memory or spec.memory_reservation):
            return None
        return self.cgroups.create(f"{spec.task_id}-{spec.name}", spec.cpu, spec.memory, spec.memory_reservation)


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


_JOIN = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done; exec "$@"'


def _joining(cgroup: Cgroup, argv: list[str]) -> list[str]:
    """argv behind a tiny shell that moves itself into the cgroup, then execs (same pid, same start time).
    A preexec_fn would fork the whole server (tens of ms); posix_spawn/vfork of `sh` costs about one."""
    paths = [str(path / "cgroup.procs") for path in cgroup.paths.values()]
    return ["/bin/sh", "-c", _JOIN, "cronbridge-join", str(len(paths)), *paths, *argv]


def _preexec(spec: ContainerSpec, cgroup: Cgroup | None, user: tuple[int, int] | None) -> Callable[[], None] | None:
    """What the child does before exec when it must (ulimits, a user, rlimits without cgroups): join its cgroup
    (or bound its address space), set the ulimits, and only then become `user` (who could no longer join)."""
    rlimits = [(_RLIMITS[n], soft, hard) for n, soft, hard in spec.ulimits if n in _RLIMITS]
    if cgroup is None and spec.memory:
        size = spec.memory * 1024 * 1024
        rlimits.append((resource.RLIMIT_AS, size, size))
    if not rlimits and user is None:
        return None

    def child() -> None:
        if cgroup is not None:
            cgroup.join()
        for kind, soft, hard in rlimits:
            resource.setrlimit(kind, (soft, hard))
        if user is not None:
            os.setgroups([])
            os.setgid(user[1])
            os.setuid(user[0])

    return child


def _pump(pipe: IO[bytes], stream: Stream, sink: ContainerSink) -> None:
    """Lines in order; a last line without its newline is delivered too."""
    for raw in iter(pipe.readline, b""):
        sink.log(stream, time.time(), raw.removesuffix(b"\n").decode("utf-8", "replace"))


def _wait(handle: ProcessHandle, readers: list[threading.Thread], sink: ContainerSink, cgroup: Cgroup | None) -> None:
    code = handle.proc.wait()
    finished = time.time()
    handle.exited.set()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(handle.proc.pid, signal.SIGKILL)  # as when a container's PID 1 exits: the rest goes too
    for r in readers:
        r.join()
    if handle.probe is not None:
        handle.probe.stop()
    oom = cgroup.oom_killed() if cgroup is not None else False
    if cgroup is not None:
        cgroup.remove()
    sink.exited(ExitInfo(exit_code=128 - code if code < 0 else code, oom=oom, finished_at=finished))
