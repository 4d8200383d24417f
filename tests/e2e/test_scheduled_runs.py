"""Rules fire on their schedule through the real server, driven by an injected (manual) clock."""

from __future__ import annotations

import time
from typing import Any

from fixtures.ecs import wait_stopped
from fixtures.postgres import BOTH_ENGINES
from fixtures.scheduling import T0, invocations, put_batch_rule

pytestmark = BOTH_ENGINES  # every test here runs on SQLite and on PostgreSQL


def test_a_rate_rule_fires_one_minute_after_creation_and_every_minute_after(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0 + 17)  # created at :17 seconds: a rate counts from creation, not from round minutes
    put_batch_rule(server, "every-minute", "rate(1 minute)")
    assert server.get("/_cronbridge/invocations?rule=every-minute")["invocations"] == []
    server.advance_clock(60)
    first = invocations(server, "every-minute", 1)
    assert first[0]["scheduledTime"] == "2027-01-15T08:01:17.000Z"
    server.advance_clock(60)
    both = invocations(server, "every-minute", 2)
    assert [i["outcome"] for i in both] == ["SUCCEEDED", "SUCCEEDED"]
    arn = both[1]["taskArns"][0]
    task = wait_stopped(server.client("ecs"), "work", arn)
    assert task["startedBy"] == "events-rule/every-minute"
    assert task["overrides"]["containerOverrides"][0]["command"] == ["echo", "tick"]


def test_a_cron_rule_fires_at_the_scheduled_minute_exactly(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0 + 5)
    put_batch_rule(server, "half-hourly", "cron(*/30 * * * ? *)")
    server.advance_clock(29 * 60)  # 08:29:05: not yet
    assert server.get("/_cronbridge/invocations?rule=half-hourly")["invocations"] == []
    server.advance_clock(55)  # 08:30:00
    fired = invocations(server, "half-hourly", 1)
    assert fired[0]["scheduledTime"] == "2027-01-15T08:30:00.000Z"
    assert fired[0]["latenessSeconds"] is not None and fired[0]["latenessSeconds"] < 1


def test_a_disabled_rule_does_not_fire(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0)
    put_batch_rule(server, "off", "rate(1 minute)")
    server.client("events").disable_rule(Name="off")
    server.advance_clock(180)
    time.sleep(0.3)
    assert server.get("/_cronbridge/invocations?rule=off")["invocations"] == []


def test_slots_missed_while_the_server_was_down_run_once_each_after_restart(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0)
    put_batch_rule(server, "catch-up", "rate(1 minute)")
    server.advance_clock(60)
    invocations(server, "catch-up", 1)
    server.stop()
    server.start()
    server.set_clock(T0 + 4 * 60 + 30)  # down for 3.5 minutes: slots at +2, +3, +4 min are owed
    done = invocations(server, "catch-up", 4)
    assert [i["scheduledTime"][11:19] for i in done] == ["08:01:00", "08:02:00", "08:03:00", "08:04:00"]
    server.stop()
    server.start()  # another restart claims nothing twice
    server.set_clock(T0 + 4 * 60 + 40)
    time.sleep(0.5)
    assert len(server.get("/_cronbridge/invocations?rule=catch-up")["invocations"]) == 4


def test_run_now_launches_the_target_and_records_a_manual_invocation(cronbridge_server: Any) -> None:
    put_batch_rule(cronbridge_server, "manual", "cron(0 3 * * ? *)")
    result = cronbridge_server.post("/_cronbridge/rules/manual/run-now")
    assert len(result["taskArns"]) == 1
    record = cronbridge_server.get("/_cronbridge/invocations?rule=manual")["invocations"][0]
    assert record["manual"] is True and record["outcome"] == "SUCCEEDED"


def test_a_target_whose_cluster_is_missing_records_a_failed_invocation_with_the_reason(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0)
    put_batch_rule(server, "broken", "rate(1 minute)")
    server.client("ecs").delete_cluster(cluster="work")
    server.advance_clock(60)
    failed = invocations(server, "broken", 1)[0]
    assert failed["outcome"] == "FAILED"
    assert failed["errorCode"] == "ClusterNotFoundException"
    assert failed["attempts"] == 1  # not retryable: recorded at once
