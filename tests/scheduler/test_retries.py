"""Retries and dead letters as AWS: retryable errors retried with backoff (the next attempt stored, surviving a
restart), others dead-lettered at once, with AWS's message attributes; a missing DLQ is recorded, not a crash."""

from __future__ import annotations

import json
from functools import partial

from cronbridge.model.events import Rule
from cronbridge.scheduler.delivery import Faults
from cronbridge.store.invocations import Invocation
from fixtures.harness import QUEUE_ARN, T0, Harness, target


def drive_retries(harness: Harness, rule: Rule) -> None:
    """Move the clock to each stored next attempt until the invocation is finished."""
    while True:
        [row] = harness.wait_for(lambda: waiting_or_done(harness, rule, -1))
        if row.state != "PENDING":
            return
        harness.clock.set(row.next_attempt_at)
        harness.wait_for(partial(waiting_or_done, harness, rule, row.attempts))


def waiting_or_done(harness: Harness, rule: Rule, attempts: int) -> list[Invocation]:
    """The invocation once it made more than `attempts` attempts and waits for the next, or is finished."""
    return [
        i for i in harness.invocations(rule) if (i.attempts > attempts and i.next_attempt_at) or i.state != "PENDING"
    ]


def attrs(message: object) -> dict[str, str]:
    return {k: v.string_value for k, v in message.attributes.items()}  # type: ignore[attr-defined]


def test_a_target_that_is_throttled_twice_is_retried_with_backoff_and_then_launches(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    rule = harness.rule("flaky", "rate(1 minute)", target(cluster, taskdef, "flaky"))
    harness.system.scheduler.delivery.faults = Faults("flaky:ThrottlingException:2")
    harness.start()
    harness.clock.advance(60)
    first = harness.wait_for(lambda: [i for i in harness.invocations(rule) if i.next_attempt_at])[0]
    assert first.state == "PENDING" and first.attempts == 1 and first.error_code == "ThrottlingException"
    assert T0 + 60 + 0.5 <= first.next_attempt_at <= T0 + 60 + 1  # 1 s with jitter
    harness.clock.advance(1)
    second = harness.wait_for(lambda: [i for i in harness.invocations(rule) if i.attempts == 2 and i.next_attempt_at])
    assert 1 <= second[0].next_attempt_at - harness.clock.now() <= 2  # 2 s with jitter
    harness.clock.advance(2)
    [done] = harness.settle(rule, 1)
    assert done.state == "SUCCEEDED" and done.attempts == 3 and len(done.task_arns) == 1
    assert len(harness.system.ecs.tasks.by_client_token(done.client_token)) == 1


def test_a_retry_waiting_when_the_server_stops_happens_after_the_restart(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    rule = harness.rule("flaky", "rate(1 hour)", target(cluster, taskdef, "flaky"))
    harness.system.scheduler.delivery.faults = Faults("flaky:ServerException:1")
    harness.start()
    harness.clock.advance(3600)
    harness.wait_for(lambda: [i for i in harness.invocations(rule) if i.next_attempt_at])
    harness.restart()  # the retry lives in the log, not in memory
    harness.system.scheduler.delivery.faults = Faults("flaky:ServerException:1")
    harness.clock.advance(1)
    [done] = harness.settle(rule, 1)
    assert done.state == "SUCCEEDED" and done.attempts == 2


def test_a_missing_cluster_is_not_retried_and_goes_to_the_dead_letter_queue_with_aws_attributes(
    harness: Harness,
) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    harness.queue()
    gone = cluster.replace("/work", "/gone")
    rule = harness.rule("broken", "rate(1 minute)", target(gone, taskdef, dead_letter=QUEUE_ARN))
    harness.start()
    harness.clock.advance(60)
    [failed] = harness.settle(rule, 1)
    assert failed.state == "FAILED" and failed.attempts == 1 and failed.error_code == "ClusterNotFoundException"
    assert failed.exhausted is None and failed.dead_letter == "SENT"
    [message] = harness.dead_letters()
    assert attrs(message) == {
        "ERROR_CODE": "ClusterNotFoundException",
        "ERROR_MESSAGE": "Cluster not found.",
        "RETRY_ATTEMPTS": "0",
        "RULE_ARN": rule.arn,
        "TARGET_ARN": gone,
        "SCHEDULED_TIME": "2027-01-15T08:01:00Z",
    }
    event = json.loads(message.body)
    assert event["detail-type"] == "Scheduled Event" and event["resources"] == [rule.arn]
    assert event["time"] == "2027-01-15T08:01:00Z" and event["source"] == "aws.events"


def test_permission_errors_go_straight_to_the_dead_letter_queue(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    harness.queue()
    rule = harness.rule("denied", "rate(1 minute)", target(cluster, taskdef, "denied", dead_letter=QUEUE_ARN))
    harness.system.scheduler.delivery.faults = Faults("denied:AccessDeniedException:9")
    harness.start()
    harness.clock.advance(60)
    [failed] = harness.settle(rule, 1)
    assert failed.attempts == 1 and failed.error_code == "AccessDeniedException" and failed.dead_letter == "SENT"
    assert attrs(harness.dead_letters()[0])["ERROR_CODE"] == "AccessDeniedException"


def test_retries_stop_at_maximum_retry_attempts_and_say_so(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    harness.queue()
    rule = harness.rule("flaky", "rate(1 hour)", target(cluster, taskdef, "flaky", retries=2, dead_letter=QUEUE_ARN))
    harness.system.scheduler.delivery.faults = Faults("flaky:ThrottlingException:99")
    harness.start()
    harness.clock.advance(3600)
    drive_retries(harness, rule)
    [failed] = harness.settle(rule, 1)
    assert failed.attempts == 3 and failed.exhausted == "MaximumRetryAttemptsExhausted"
    [message] = harness.dead_letters()
    assert attrs(message)["RETRY_ATTEMPTS"] == "2"
    assert attrs(message)["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttemptsExhausted"
    assert attrs(message)["ERROR_CODE"] == "ThrottlingException"


def test_retries_stop_at_the_maximum_event_age(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    rule = harness.rule("flaky", "rate(1 hour)", target(cluster, taskdef, "flaky", max_age=60))
    harness.system.scheduler.delivery.faults = Faults("flaky:ThrottlingException:99")
    harness.start()
    harness.clock.advance(3600)
    drive_retries(harness, rule)
    [failed] = harness.settle(rule, 1)
    assert failed.exhausted == "MaximumEventAgeExceeded" and failed.error_code == "ThrottlingException"
    assert failed.attempts >= 2 and failed.finished_at is not None
    assert failed.finished_at - failed.scheduled_at <= 60


def test_a_dead_letter_queue_that_does_not_exist_is_recorded_and_firing_goes_on(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    gone = cluster.replace("/work", "/gone")
    rule = harness.rule("broken", "rate(1 minute)", target(gone, taskdef, dead_letter=QUEUE_ARN))
    harness.start()
    harness.clock.advance(60)
    [failed] = harness.settle(rule, 1)
    assert failed.dead_letter == "FAILED"
    assert "AWS.SimpleQueueService.NonExistentQueue" in (failed.dead_letter_detail or "") or "QueueDoesNotExist" in (
        failed.dead_letter_detail or ""
    )
    harness.clock.advance(60)
    assert len(harness.settle(rule, 2)) == 2
