"""Warm starts for the process launcher: a shell already moved into a fresh cgroup waits for the command to exec.
Moving a process between cgroups costs milliseconds (the kernel waits for an RCU grace period); done ahead of time
it is off the task's start path. The shell execs the task's command, so the pid is the task's."""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
import uuid
from collections.abc import Sequence
from shlex import quote

from cronbridge.launchers.cgroups import Cgroup, CgroupTree

_SCRIPT = (
    'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done; '
    'IFS= read -r line || exit 0; eval "$line"'
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def command_line(argv: Sequence[str], env: dict[str, str], cwd: str | None) -> str | None:
    """One shell line that sets up and execs the command; None when the environment cannot be said in sh."""
    if not all(_NAME.match(name) for name in env):
        return None
    if any("\n" in text or "\r" in text for text in (*argv, *env.values(), cwd or "")):
        return None  # the zygote reads one line: a multi-line argument takes the ordinary spawn
    parts = [f"cd {quote(cwd)} || exit 125"] if cwd else []
    if env:
        parts.append("export " + " ".join(f"{name}={quote(value)}" for name, value in env.items()))
    parts.append("exec " + " ".join(quote(arg) for arg in argv))
    return "; ".join(parts)


class Zygote:
    """One waiting shell and its (still unlimited) cgroup."""

    def __init__(self, proc: subprocess.Popen[bytes], cgroup: Cgroup) -> None:
        self.proc = proc
        self.cgroup = cgroup

    def launch(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode("utf-8") + b"\n")
        self.proc.stdin.close()

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        self.cgroup.remove()


class ZygotePool:
    """Keeps one zygote ready; the next one is made in the background after each take."""

    def __init__(self, tree: CgroupTree) -> None:
        self.tree = tree
        self._lock = threading.Lock()
        self._ready: Zygote | None = None
        self._refill()

    def take(self) -> Zygote | None:
        """The ready zygote, if any; call `replenish` once the task's command is on its way."""
        with self._lock:
            zygote, self._ready = self._ready, None
        if zygote is None or zygote.proc.poll() is not None:
            self.replenish()
            return None
        return zygote

    def replenish(self) -> None:
        threading.Thread(target=self._refill, daemon=True, name="zygote").start()

    def _refill(self) -> None:
        zygote = self._spawn()
        if zygote is None:
            return
        with self._lock:
            if self._ready is None:
                self._ready, zygote = zygote, None
        if zygote is not None:
            zygote.discard()

    def _spawn(self) -> Zygote | None:
        cgroup = self.tree.create(f"warm-{uuid.uuid4().hex[:16]}", None, None, None)
        if cgroup is None:
            return None
        paths = [str(path / "cgroup.procs") for path in cgroup.paths.values()]
        try:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", _SCRIPT, "cronbridge-zygote", str(len(paths)), *paths],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={},
                start_new_session=True,
            )
        except OSError:
            cgroup.remove()
            return None
        return Zygote(proc, cgroup)
