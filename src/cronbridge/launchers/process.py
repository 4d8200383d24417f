"""Local processes as containers (the embedded default): entryPoint + command run on the host; the image is unused."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

from cronbridge.errors import LaunchError
from cronbridge.launchers.base import ContainerSink, ContainerSpec, ExitInfo, Limits, Stream


class ProcessHandle:
    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.runtime_id = f"pid-{proc.pid}"
        self.limits = Limits(enforced=[])

    def stop(self, timeout: float) -> None:
        threading.Thread(target=self._stop, args=(timeout,), daemon=True).start()

    def _stop(self, timeout: float) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class ProcessLauncher:
    name = "process"

    def start(self, spec: ContainerSpec, sink: ContainerSink) -> ProcessHandle:
        argv = list(spec.entry_point or ()) + list(spec.command or ())
        if not argv:
            raise LaunchError(
                "CannotStartContainerError", "no entryPoint or command (the process launcher has no image to ask)"
            )
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **dict(spec.environment)}
        try:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                    cwd=spec.working_directory or None, start_new_session=True)
        except OSError as exc:
            raise LaunchError("CannotStartContainerError", str(exc)) from exc
        handle = ProcessHandle(proc)
        readers = [threading.Thread(target=_pump, args=(proc.stdout, "stdout", sink), daemon=True),
                   threading.Thread(target=_pump, args=(proc.stderr, "stderr", sink), daemon=True)]
        for r in readers:
            r.start()
        threading.Thread(target=_wait, args=(proc, readers, sink), daemon=True).start()
        return handle


def _pump(pipe, stream: Stream, sink: ContainerSink) -> None:  # type: ignore[no-untyped-def]
    for raw in iter(pipe.readline, b""):
        sink.log(stream, time.time(), raw.rstrip(b"\n").decode("utf-8", "replace"))


def _wait(proc: subprocess.Popen[bytes], readers: list[threading.Thread], sink: ContainerSink) -> None:
    code = proc.wait()
    for r in readers:
        r.join()
    sink.exited(ExitInfo(exit_code=128 - code if code < 0 else code, finished_at=time.time()))
