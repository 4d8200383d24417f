"""Downtime and clock steps: young missed slots run once each, late; old ones are one expired summary row (and dead
letters); a clock stepped back re-runs nothing; a last slot in the future is clamped."""

from __future__ import annotations

import logging

import pytest

from fixtures.harness import QUEUE_ARN, T0, Harness, target

DAY = 86400.0


def test_after_three_days_down_only_slots_younger_than_the_max_age_run_and_the_rest_is_one_row(
    harness: Harness,
) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    harness.queue()
    rule = harness.rule("minutely", "rate(1 minute)", target(cluster, taskdef, max_age=3600, dead_letter=QUEUE_ARN))
    harness.start()
    harness.clock.advance(60)
    harness.settle(rule, 1)
    harness.crash()
    harness.clock.advance(3 * DAY)  # down for three days: 4320 slots missed, the last 60 within the hour
    harness.restart()
    rows = harness.settle(rule, 62)
    launched = [r for r in rows if r.state == "SUCCEEDED"]
    expired = [r for r in rows if r.state == "FAILED"]
    assert len(launched) == 61 and len(expired) == 1  # 1 before the downtime + 60 young slots
    summary = expired[0]
    now = harness.clock.now()
    assert summary.exhausted == "MaximumEventAgeExceeded" and summary.error_code == "MaximumEventAgeExceeded"
    assert summary.scheduled_at == T0 + 120 and summary.covers_until == now - 3600
    assert summary.slot_count == 4320 - 60
    young = sorted(r.scheduled_at for r in launched)[1:]
    assert young == [now - 3600 + 60 * k for k in range(1, 61)]
    assert all(r.started_at == now for r in launched[1:])  # late, with the original scheduled time kept
    assert len({r.task_arns[0] for r in launched}) == 61
    letters = harness.dead_letters()
    assert len(letters) == 100  # the first 100 of the run are dead-lettered; the row counts all of them
    assert summary.dead_letter == "SENT" and "100 of 4260 slots sent" in (summary.dead_letter_detail or "")
    assert letters[0].attributes["EXHAUSTED_RETRY_CONDITION"].string_value == "MaximumEventAgeExceeded"
    harness.restart()  # another restart records and launches nothing more
    harness.clock.advance(1)
    assert len(harness.settle(rule, 62)) == 62


def test_a_cron_rule_down_for_ten_days_runs_the_last_day_of_slots_once_each(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    rule = harness.rule("hourly", "cron(0 * * * ? *)", target(cluster, taskdef))
    harness.start()
    harness.clock.advance(3600)
    harness.settle(rule, 1)
    harness.crash()
    harness.clock.advance(10 * DAY + 1800)
    harness.restart()
    rows = harness.settle(rule, 26)
    assert sum(r.state == "SUCCEEDED" for r in rows) == 25  # the first + 24 within the default 24 h
    [summary] = [r for r in rows if r.state == "FAILED"]
    assert summary.slot_count == 10 * 24 - 24 and summary.dead_letter is None  # no DLQ configured


def test_a_clock_stepped_backward_never_reruns_a_slot(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    rule = harness.rule("minutely", "rate(1 minute)", target(cluster, taskdef))
    harness.start()
    for count in range(1, 6):
        harness.clock.advance(60)
        harness.settle(rule, count)
    harness.clock.set(T0 + 90)  # back 3.5 minutes
    harness.system.scheduler.wake()
    harness.clock.advance(150)  # to T0 + 240: every slot up to here ran already
    harness.clock.advance(60)  # T0 + 300 ran too
    harness.restart()
    harness.clock.advance(60)  # T0 + 360: the first new slot
    rows = harness.settle(rule, 6)
    assert [r.scheduled_at for r in rows] == [T0 + 60 * k for k in range(1, 7)]
    assert all(r.state == "SUCCEEDED" for r in rows)


def test_a_last_slot_in_the_future_is_clamped_with_a_warning(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    rule = harness.rule("hourly", "cron(0 * * * ? *)", target(cluster, taskdef))
    harness.start()
    harness.clock.set(T0 + 2 * 3600 + 60)  # the clock runs two hours ahead for a while: 09:00 and 10:00 ran
    harness.settle(rule, 2)
    harness.clock.set(T0 + 600)  # corrected to 08:10: the last slot recorded (10:00) is in the future
    with caplog.at_level(logging.WARNING, logger="cronbridge.scheduler"):
        harness.rule("hourly", "cron(30 * * * ? *)", target(cluster, taskdef))  # a new schedule: half past
        harness.wait_for(lambda: any(entry[3] == T0 + 1800 for entry in harness.system.scheduler._heap))
        harness.clock.advance(20 * 60)  # 08:30: fires now, not after 10:00
        rows = harness.settle(rule, 3)
    assert sorted(r.scheduled_at for r in rows) == [T0 + 1800, T0 + 3600, T0 + 7200]
    assert all(r.state == "SUCCEEDED" for r in rows)
    assert any("clamped" in m for m in caplog.messages)
    harness.clock.advance(3600)  # 09:30
    assert len(harness.settle(rule, 4)) == 4
