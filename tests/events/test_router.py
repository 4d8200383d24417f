"""The router in process: task state changes followed from the task event log, matches and deliveries recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cronbridge.config import Settings
from cronbridge.events.envelopes import Entry
from cronbridge.model.ecs import Container, StopCode, Task, TaskStatus
from cronbridge.model.events import DeadLetterConfig, Rule, Target
from cronbridge.model.sqs import ReceiveRequest
from cronbridge.scope import Scope
from cronbridge.system import System

REGION, ACCOUNT = "us-east-1", "000000000000"
HERE = Scope(ACCOUNT, REGION)


@pytest.fixture
def system(tmp_path: Path) -> System:
    built = System(Settings(data_dir=tmp_path, manual_clock=True, launcher="noop", auth="open"))
    yield built
    built.close()


def open_queue(system: System, name: str) -> str:
    arn = system.sqs.at(HERE).arn(name)
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
            }
        ]
    }
    system.sqs.at(HERE).create_queue(name, {"Policy": json.dumps(policy)})
    return arn


def bodies(system: System, name: str) -> list[dict[str, object]]:
    return [json.loads(m.body) for m in system.sqs.at(HERE).receive(name, ReceiveRequest(max_messages=10))]


def stopped_task() -> Task:
    return Task(
        task_arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/default/t1",
        cluster_arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/default",
        last_status=TaskStatus.STOPPED,
        desired_status="STOPPED",
        containers=[Container(name="app", exit_code=1, last_status="STOPPED")],
        stop_code=StopCode.ESSENTIAL_CONTAINER_EXITED,
    )


def test_task_state_changes_are_routed_once_from_where_the_log_was(system: System) -> None:
    events_log = system.runner.task_events
    events_log.record(stopped_task(), 1.0)  # before the router first looked: history, not routed
    assert system.router.emit_task_events() is False
    arn = open_queue(system, "stops")
    system.events.put_rule(
        HERE,
        Rule(
            name="stops", event_pattern=json.dumps({"source": ["aws.ecs"], "detail": {"containers": {"exitCode": [1]}}})
        ),
    )
    system.events.put_targets(HERE, "stops", [Target(id="q", arn=arn)])
    events_log.record(stopped_task(), 2.0)
    assert system.router.emit_task_events() is True
    assert system.router.emit_task_events() is False  # nothing twice
    [event] = bodies(system, "stops")
    assert event["detail-type"] == "ECS Task State Change"
    assert event["detail"]["containers"][0]["exitCode"] == 1  # type: ignore[index]


def test_a_failed_delivery_is_recorded_and_dead_lettered(system: System) -> None:
    dlq = open_queue(system, "dlq")
    system.events.put_rule(HERE, Rule(name="lost", event_pattern='{"source": ["x"]}'))
    missing = f"arn:aws:sqs:{REGION}:{ACCOUNT}:no-such-queue"
    system.events.put_targets(HERE, "lost", [Target(id="q", arn=missing, dead_letter_config=DeadLetterConfig(dlq))])
    [result] = system.router.put_events([Entry("x", "t", "{}")], HERE)
    [delivery] = system.router.log.deliveries(f"arn:aws:events:{REGION}:{ACCOUNT}:rule/lost")
    assert delivery.state == "FAILED" and delivery.dead_letter == "SENT" and delivery.attempts == 1
    [letter] = bodies(system, "dlq")
    assert letter["id"] == result["EventId"]
    [match] = system.router.log.matches(f"arn:aws:events:{REGION}:{ACCOUNT}:rule/lost")
    assert match.targets == 1


def test_a_disabled_rule_matches_nothing(system: System) -> None:
    arn = open_queue(system, "off")
    system.events.put_rule(HERE, Rule(name="off", event_pattern='{"source": ["x"]}', state="DISABLED"))
    system.events.put_targets(HERE, "off", [Target(id="q", arn=arn)])
    system.router.put_events([Entry("x", "t", "{}")], HERE)
    assert bodies(system, "off") == []
