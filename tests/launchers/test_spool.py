"""Reading a process task's spool: the exit its monitor recorded is never mistaken for a monitor that died first."""

from __future__ import annotations

import json
from pathlib import Path

from cronbridge.launchers.monitor import EXIT
from cronbridge.launchers.spool import Spool


def test_an_exit_recorded_just_before_the_monitor_ended_is_the_exit(tmp_path: Path) -> None:
    """The race seen under a CPU hog: the reader found no exit yet, then the monitor recorded it and ended, and the
    reader, seeing the monitor gone, reported "ended before recording the exit" for a task that had exited 0."""
    spool = Spool(tmp_path / "task" / "app")
    spool.create({"argv": ["true"]})

    def monitor_ends_after_recording() -> bool:  # called once the reader found no exit and no more output
        (spool.folder / EXIT).write_text(json.dumps({"exit_code": 0, "finished_at": 1.0}))
        return True

    info = spool.follow(lambda stream, at, line: None, monitor_ends_after_recording)
    assert info.exit_code == 0 and info.reason is None
