"""The HA crash run at full length, on the system clock: three servers on one PostgreSQL, 20 `rate(1 minute)` rules,
the lease holder SIGKILLed a random moment into ten bursts over ten real minutes (each started again as a supervisor
would), PostgreSQL restarted mid-burst once, a client writing log events throughout. Prints the counts (missing,
duplicate, not stopped, lost) and each take-over's delay. (tests/e2e/test_ha_failover.py runs the same on the servers'
manual clock in about a minute.) --quick: three minutes, three kills."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import percentile, render_table


def _fixtures() -> tuple[Any, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from fixtures.ha import HaRun
    from fixtures.postgres import Cluster

    return HaRun, Cluster


def run(quick: bool = False) -> None:
    ha_run, cluster_class = _fixtures()
    minutes = 3 if quick else 10
    cluster = cluster_class(fsync=True)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ha-") as tmp:
            ha = ha_run(Path(tmp), cluster, manual_clock=False)
            try:
                ha.start(0.0)
                restart_at = ha.rng.randrange(1, minutes - 1)
                for minute in range(minutes + 1):
                    ha.minute()
                    if minute == restart_at:
                        ha.restart_database()
                    else:
                        ha.kill_holder()
                outcome = ha.finish()
            finally:
                ha.stop()
    finally:
        cluster.remove()
    print(f"{minutes + 1} bursts of 20 slots over {(time.monotonic() - started) / 60:.1f} real minutes; system clock")
    rows = [
        ["slots expected / found", f"{outcome.slots_expected} / {outcome.slots_found}"],
        ["missing, duplicate (invocations and startedBy)", f"{len(outcome.missing)}, {len(outcome.duplicates)}"],
        ["tasks, not STOPPED", f"{outcome.tasks}, {len(outcome.not_stopped)}"],
        ["SIGKILLs of the holder, PostgreSQL restarts", f"{outcome.kills}, {outcome.database_restarts}"],
        ["take-over after a SIGKILL p50 / max (s)",
         f"{percentile(outcome.takeovers, 50):.2f} / {max(outcome.takeovers, default=0.0):.2f}"],
        ["log writes acknowledged, lost", f"{outcome.acknowledged}, {outcome.lost}"],
        ["log writes refused as unavailable (retryable), other errors",
         f"{outcome.refused}, {len(outcome.other_errors)}"],
    ]
    print(render_table(["", "HA run"], rows))
    for error in outcome.other_errors[:5]:
        print(f"other error: {error}")
    print("verdict: " + ("PASS" if not (outcome.missing or outcome.duplicates or outcome.not_stopped or outcome.lost
                                        or outcome.other_errors) else "FAIL"))


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
