"""A process task's spool, as its monitor (launchers/monitor.py) writes it and a server reads it: the spec the
monitor starts the task from, the task's pid, its output records in order, and its recorded exit."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cronbridge.launchers.base import ExitInfo, Stream
from cronbridge.launchers.monitor import ERROR, EXIT, MONITOR_PID, OUTPUT, PID, SPEC, start_time

POLL_FAST, POLL_SLOW = 0.01, 0.1  # seconds between looks at the spool: soon after output, more slowly when idle
READ_BYTES = 1 << 20


@dataclass(frozen=True)
class Spool:
    """One container's spool folder: `<spool root>/<task id>/<container name>/`."""

    folder: Path

    def exists(self) -> bool:
        return (self.folder / SPEC).exists()

    def create(self, spec: dict[str, Any]) -> None:
        """The spec and an empty output file, written before the monitor starts (a full disk fails the start)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / OUTPUT).touch()
        temporary = self.folder / (SPEC + ".tmp")
        temporary.write_text(json.dumps(spec))
        os.replace(temporary, self.folder / SPEC)

    def spec(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads((self.folder / SPEC).read_text())
        return found

    def task_pid(self) -> tuple[int, str] | None:
        """(pid, kernel start time) of the task, once the monitor has started it."""
        return _pid_file(self.folder / PID)

    def error(self) -> str | None:
        path = self.folder / ERROR
        return str(json.loads(path.read_text())["message"]) if path.exists() else None

    def monitor_alive(self) -> bool:
        """Whether the monitor still runs (the same process: pid and start time; a zombie has ended)."""
        found = _pid_file(self.folder / MONITOR_PID)
        return found is not None and start_time(found[0]) == found[1] and _state(found[0]) not in ("Z", "X", "")

    def exit(self) -> dict[str, Any] | None:
        path = self.folder / EXIT
        if not path.exists():
            return None
        found: dict[str, Any] = json.loads(path.read_text())
        return found

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def wait_started(self, timeout: float) -> tuple[int, str] | str | None:
        """The task's (pid, start time), or the monitor's error, or None when neither came within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:  # looked at once at least, whatever the timeout
            found = self.task_pid()
            if found is not None:
                return found
            error = self.error()
            if error is not None:
                return error
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.002)

    def follow(self, deliver: Callable[[Stream, float, str], None], stopped: Callable[[], bool]) -> ExitInfo:
        """Deliver every output record in order until the monitor has recorded the exit and the file is read to
        its end; the exit as recorded (or unknown, when the monitor itself died first or `stopped` says so)."""
        reader = _Records(deliver)
        with open(self.folder / OUTPUT, "rb") as handle:
            pause = POLL_FAST
            while True:
                chunk = handle.read(READ_BYTES)
                if chunk:
                    reader.feed(chunk)
                    pause = POLL_FAST
                    continue
                outcome = self.exit()
                if outcome is not None:
                    reader.feed(handle.read())  # everything spooled before the exit was recorded
                    return _exit_info(outcome)
                if stopped() or not self.monitor_alive():
                    outcome = self.exit()  # recorded between the two looks, just before the monitor ended
                    reader.feed(handle.read())
                    if outcome is not None:
                        return _exit_info(outcome)
                    return ExitInfo(exit_code=None, reason="the task's monitor ended before recording the exit",
                                    finished_at=time.time())
                time.sleep(pause)
                pause = min(pause * 2, POLL_SLOW)


class _Records:
    """Output records (`stream ns length\\n` + bytes + `\\n`) parsed as they arrive, a partial one kept for later."""

    def __init__(self, deliver: Callable[[Stream, float, str], None]) -> None:
        self.deliver = deliver
        self.pending = b""

    def feed(self, chunk: bytes) -> None:
        data = self.pending + chunk
        at = 0
        while True:
            end = data.find(b"\n", at)
            if end < 0:
                break
            stream, ns, length = data[at:end].decode("ascii").split()
            start, stop = end + 1, end + 1 + int(length)
            if stop + 1 > len(data):
                break
            line = data[start:stop].decode("utf-8", "replace")
            self.deliver("stderr" if stream == "stderr" else "stdout", int(ns) / 1e9, line)
            at = stop + 1
        self.pending = data[at:]


def _exit_info(outcome: dict[str, Any]) -> ExitInfo:
    dropped = int(outcome.get("dropped") or 0)
    reason = f"{dropped} log lines were lost: the disk was full" if dropped else None
    return ExitInfo(exit_code=outcome.get("exit_code"), reason=reason, finished_at=outcome.get("finished_at"))


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return ""


def _pid_file(path: Path) -> tuple[int, str] | None:
    with contextlib.suppress(OSError, ValueError):
        pid, started = path.read_text().split()
        return int(pid), started
    return None
