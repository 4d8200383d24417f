"""HA: three servers on one PostgreSQL, 20 `rate(1 minute)` rules, the lease holder SIGKILLed mid-burst ten times over
ten minutes of the servers' (manual) clock, and PostgreSQL restarted mid-burst once. Every slot fires exactly once
(counted in the invocation log and by the tasks' startedBy), every task ends STOPPED, a standby takes over within 2 s
of each kill, and no acknowledged write is lost. (`python -m bench ha` runs the same on the system clock, ten real
minutes.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.ha import HaRun
from fixtures.postgres import Cluster

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
MINUTES = 10
KILLS = 10


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    cluster = Cluster()  # its own: this test restarts it
    yield cluster
    cluster.remove()


@pytest.mark.slow
def test_three_servers_lose_their_holder_ten_times_and_postgresql_once_and_every_slot_fires_once(
    tmp_path: Path, own_cluster: Cluster
) -> None:
    run = HaRun(tmp_path, own_cluster, manual_clock=True)
    try:
        run.start(T0)
        restart_at = run.rng.randrange(2, MINUTES - 1)
        for minute in range(MINUTES):
            run.minute()
            if minute == restart_at:
                run.restart_database()
            else:
                run.kill_holder()
        if run.outcome.kills < KILLS:
            run.minute()
            run.kill_holder()
        outcome = run.finish()
    finally:
        run.stop()
    print("\nHA crash test: " + outcome.summary())
    assert outcome.kills == KILLS and outcome.database_restarts == 1
    assert outcome.missing == [] and outcome.duplicates == []
    assert outcome.slots_found == outcome.slots_expected == 20 * (MINUTES + 1)
    assert outcome.tasks == outcome.slots_expected and outcome.not_stopped == []
    assert max(outcome.takeovers) <= 2.0
    assert outcome.acknowledged > 0 and outcome.lost == 0 and outcome.other_errors == []
