"""Control groups for the process launcher: cpu quota and shares, memory hard and soft limits, the OOM record.
cgroup v1 (memory and cpu hierarchies) or v2, below the server's own cgroup, only where the machine lets us write."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

CPU_PERIOD_US = 100_000


@dataclass
class Cgroup:
    """One container's control groups (v1: one per controller; v2: one) and the limits written into them."""

    version: int
    paths: dict[str, Path]
    enforced: list[str] = field(default_factory=list)

    def join(self) -> None:
        """Move the calling process in (called in the child between fork and exec)."""
        pid = str(os.getpid())
        for path in self.paths.values():
            with open(path / "cgroup.procs", "w") as procs:
                procs.write(pid)

    def oom_killed(self) -> bool:
        """The kernel's own record: `oom_kill` in memory.oom_control (v1) or memory.events (v2)."""
        memory = self.paths.get("memory")
        if memory is None:
            return False
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            text = (memory / name).read_text()
        except OSError:
            return False
        counts = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
        return int(counts.get("oom_kill", "0")) > 0

    def limit(self, cpu: int | None, memory: int | None, reservation: int | None) -> None:
        """Write the limits (raises OSError when the kernel refuses) and note them in `enforced`."""
        cpu_path, memory_path = self.paths.get("cpu", self.paths["memory"]), self.paths["memory"]
        if cpu:
            _write_cpu(self.version, cpu_path, cpu)
            self.enforced += ["cpu:cgroup-quota", "cpu:cgroup-shares"]
        if memory:
            _write_memory(self.version, memory_path, memory)
            self.enforced.append("memory:cgroup-hard")
        if reservation:
            soft = "memory.soft_limit_in_bytes" if self.version == 1 else "memory.low"
            (memory_path / soft).write_text(str(reservation * 1024 * 1024))
            self.enforced.append("memory:cgroup-soft")

    def remove(self) -> None:
        for path in self.paths.values():
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


class CgroupTree:
    """Where this server may create cgroups: `<own cgroup>/cronbridge` in each hierarchy it can write."""

    def __init__(self, version: int, roots: dict[str, Path]) -> None:
        self.version = version
        self.roots = roots

    @staticmethod
    def detect() -> CgroupTree | None:
        """cgroup v1 when the memory and cpu hierarchies are writable, else v2 when its controllers can be
        delegated, else None (the process launcher falls back to rlimits)."""
        own = _own_cgroups()
        mounts = _cgroup_mounts()
        v1: dict[str, Path] = {
            c: mounts[c] / own[c].lstrip("/") / "cronbridge" for c in ("memory", "cpu") if c in mounts and c in own
        }
        if len(v1) == 2 and all(_writable(p) for p in v1.values()):
            return CgroupTree(1, _per_server(v1))
        if "" in mounts and "" in own:
            root = mounts[""] / own[""].lstrip("/") / "cronbridge"
            if _writable(root) and _delegate_v2(root):
                mine = _per_server({"unified": root})
                return CgroupTree(2, mine) if _delegate_v2(mine["unified"]) else None
        return None

    def create(self, name: str, cpu: int | None, memory: int | None, reservation: int | None) -> Cgroup | None:
        """A cgroup with the limits written; None when the kernel refuses."""
        try:
            return self._create(name, cpu, memory, reservation)
        except OSError:
            return None

    def _create(self, name: str, cpu: int | None, memory: int | None, reservation: int | None) -> Cgroup:
        if self.version == 1:
            paths = {"memory": self.roots["memory"] / name, "cpu": self.roots["cpu"] / name}
        else:
            unified = self.roots["unified"] / name
            paths = {"memory": unified, "cpu": unified}
        for path in set(paths.values()):
            path.mkdir(exist_ok=True)
        group = Cgroup(self.version, paths if self.version == 1 else {"memory": paths["memory"]})
        group.limit(cpu, memory, reservation)
        return group


def _per_server(roots: dict[str, Path]) -> dict[str, Path]:
    """Each server gets its own directory (its pid); what servers that are gone left behind is swept first."""
    mine: dict[str, Path] = {}
    for key, root in roots.items():
        _sweep(root)
        path = root / str(os.getpid())
        path.mkdir(exist_ok=True)
        mine[key] = path
    return mine


def _sweep(root: Path) -> None:
    """Remove the empty cgroups of servers no longer running (a busy cgroup refuses rmdir and stays)."""
    for entry in list(root.iterdir()):
        if not entry.is_dir() or (entry.name.isdigit() and Path(f"/proc/{entry.name}").exists()):
            continue
        for child in list(entry.iterdir()) if entry.name.isdigit() else []:
            if child.is_dir():
                with contextlib.suppress(OSError):
                    child.rmdir()
        with contextlib.suppress(OSError):
            entry.rmdir()


def _write_cpu(version: int, path: Path, cpu: int) -> None:
    quota = max(int(cpu / 1024 * CPU_PERIOD_US), 1000)
    if version == 1:
        (path / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
        (path / "cpu.cfs_quota_us").write_text(str(quota))
        (path / "cpu.shares").write_text(str(max(cpu, 2)))
    else:
        (path / "cpu.max").write_text(f"{quota} {CPU_PERIOD_US}")
        (path / "cpu.weight").write_text(str(1 + (max(cpu, 2) - 2) * 9999 // 262142))


def _write_memory(version: int, path: Path, memory: int) -> None:
    limit = str(memory * 1024 * 1024)
    if version == 1:
        (path / "memory.limit_in_bytes").write_text(limit)
        swap = path / "memory.memsw.limit_in_bytes"
        if swap.exists():
            swap.write_text(limit)  # no swap beyond the limit, as Docker with --memory-swap = --memory
    else:
        (path / "memory.max").write_text(limit)
        with contextlib.suppress(OSError):
            (path / "memory.swap.max").write_text("0")


def _own_cgroups() -> dict[str, str]:
    """controller -> this process's cgroup path ('' is the v2 hierarchy)."""
    own: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(","):
                own[controller] = path
    return own


def _cgroup_mounts() -> dict[str, Path]:
    """controller -> mount point of its v1 hierarchy; '' -> the v2 mount."""
    mounts: dict[str, Path] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) < 4:
                continue
            if parts[2] == "cgroup2":
                mounts.setdefault("", Path(parts[1]))
            elif parts[2] == "cgroup":
                for option in parts[3].split(","):
                    mounts.setdefault(option, Path(parts[1]))
    return mounts


def _writable(path: Path) -> bool:
    try:
        path.mkdir(exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK)


def _delegate_v2(root: Path) -> bool:
    """v2 needs the memory and cpu controllers enabled for our children (not possible in a busy leaf)."""
    with contextlib.suppress(OSError):
        (root.parent / "cgroup.subtree_control").write_text("+memory +cpu")
    try:
        (root / "cgroup.subtree_control").write_text("+memory +cpu")
    except OSError:
        return False
    return True
