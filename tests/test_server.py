"""`cronbridge server`'s own flags: the access log and the log level."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from fixtures.server import free_port


def test_the_access_log_has_a_line_per_request_and_the_log_level_quiets_info(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "access.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cronbridge", "server", "--port", str(port), "--data-dir", str(tmp_path / "data"),
         "--launcher", "process", "--access-log", str(log), "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_cronbridge/health", timeout=5).read()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "the server did not start"
                time.sleep(0.1)
        deadline = time.monotonic() + 10
        while '"GET /_cronbridge/health HTTP/1.1" 200' not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "no access line"
            time.sleep(0.1)
        assert "127.0.0.1:" in log.read_text()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert " INFO " not in err  # --log-level warning
