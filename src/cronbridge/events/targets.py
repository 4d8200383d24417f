"""Where an invocation goes: an SQS queue (its policy checked), another bus, a log group, an ECS RunTask."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from cronbridge import scope as scopes
from cronbridge.ecs.runtime.runner import Runner
from cronbridge.errors import AccessDenied, AwsError, NotFound
from cronbridge.events.envelopes import Entry, entry_problem
from cronbridge.iam.evaluate import Request, resource_policy_allows
from cronbridge.iam.policy import MalformedPolicy, parse_policy
from cronbridge.identity.authorizer import EVENTS, SCHEDULER, Authorizer
from cronbridge.logs.service import LogService
from cronbridge.model.events import Rule, Target
from cronbridge.model.sqs import OutgoingMessage
from cronbridge.scheduler.payloads import run_task_request
from cronbridge.scheduler.sources import Plan
from cronbridge.scope import Regional, Scope
from cronbridge.sqs.errors import QueueDoesNotExist
from cronbridge.sqs.service import SqsService
from cronbridge.store.database import Database
from cronbridge.store.invocations import Invocation

EVENTS_PRINCIPAL = {"Service": "events.amazonaws.com"}


class Forward(Protocol):
    """Puts an event onto another bus, of the given account and Region (the router itself)."""

    def __call__(self, event: dict[str, Any], scope: Scope, bus: str, hops: int) -> None: ...


@dataclass(frozen=True)
class Invoker:
    """Who invokes a target: a rule (for an event it matched, or its scheduled event) or an EventBridge Scheduler
    schedule; `service` is the principal it acts as (events.amazonaws.com or scheduler.amazonaws.com)."""

    arn: str
    name: str
    service: str
    started_by: str

    @property
    def is_schedule(self) -> bool:
        return self.service == SCHEDULER


def rule_invoker(rule: Rule) -> Invoker:
    return Invoker(rule.arn, rule.name, EVENTS, f"events-rule/{rule.name}"[:128])


@dataclass(frozen=True)
class Delivered:
    """What a target made of the event: the tasks an ECS target started, or a message id, event id, log stream."""

    task_arns: tuple[str, ...] = ()
    detail: str | None = None


class Targets:
    """Delivers one payload to one target (in the account and Region of the target's ARN), raising the AwsError
    AWS's target would give. Rules' and schedules' invocations alike: pattern rules (events/router.py), scheduled
    rules and schedules (scheduler/delivery.py)."""

    def __init__(
        self,
        db: Database,
        sqs: Regional[SqsService],
        logs: Regional[LogService],
        runner: Runner,
        authorizer: Authorizer,
    ) -> None:
        self.db = db
        self.sqs = sqs
        self.logs = logs
        self.runner = runner
        self.authorizer = authorizer

    def deliver(
        self, invoker: Invoker, target: Target, payload: str, event: dict[str, Any], forward: Forward, hops: int
    ) -> Delivered:
        handler: Callable[..., Delivered] | None = {
            "sqs": self._sqs,
            "events": self._bus,
            "logs": self._logs,
            "ecs": self._ecs,
        }.get(target_service(target.arn))
        if handler is None:
            raise AwsError(f"Target {target.arn} is not a kind of target cronbridge delivers to.", "UnsupportedTarget")
        return handler(invoker, target, payload, event, forward, hops)

    # SQS ---------------------------------------------------------------------------------------------------
    def _sqs(self, invoker: Invoker, target: Target, payload: str, event: dict[str, Any], *_: Any) -> Delivered:
        where = scopes.of_arn(target.arn)
        if where is None:
            raise QueueDoesNotExist()
        sqs = self.sqs.at(where)
        queue = sqs.queue_by_arn(target.arn)
        if invoker.is_schedule:  # Scheduler sends as the target's role; EventBridge rules need the queue's policy
            self.authorizer.authorize_invoke(target.role_arn, SCHEDULER, invoker.arn, "sqs:SendMessage", target.arn)
        else:
            policy = sqs.queue_attributes(queue.name, ["Policy"]).get("Policy")
            if not queue_allows(policy, target.arn, invoker.arn):
                raise AccessDenied(
                    f"The queue {target.arn} does not allow events.amazonaws.com to send messages (sqs:SendMessage) "
                    f"for rule {invoker.arn}: add a statement to its Policy."
                )
        group = (target.sqs_parameters or {}).get("MessageGroupId") if queue.is_fifo else None
        dedup = str(event.get("id")) if queue.is_fifo else None  # deduplicated by the event's (the slot's) id
        sent = sqs.send(queue.name, OutgoingMessage(payload, {}, group_id=group, dedup_id=dedup))
        return Delivered(detail=sent.message_id)

    # another bus ---------------------------------------------------------------------------------------------
    def _bus(
        self, invoker: Invoker, target: Target, payload: str, event: dict[str, Any], forward: Forward, hops: int
    ) -> Delivered:
        where = scopes.of_arn(target.arn)
        if ":event-bus/" not in target.arn or where is None:
            raise NotFound(f"Target {target.arn} is not an event bus.")
        if invoker.is_schedule:  # Scheduler's PutEvents target: a new event, its Input as the detail
            self.authorizer.authorize_invoke(target.role_arn, SCHEDULER, invoker.arn, "events:PutEvents", target.arn)
            event = scheduler_put_event(invoker, target, payload, event)
        forward(event, where, target.arn.rsplit(":event-bus/", 1)[1], hops + 1)
        return Delivered(detail=str(event.get("id")))

    # CloudWatch Logs ---------------------------------------------------------------------------------------
    def _logs(self, invoker: Invoker, target: Target, payload: str, event: dict[str, Any], *_: Any) -> Delivered:
        where = scopes.of_arn(target.arn)
        if where is None:
            raise NotFound(f"Target {target.arn} is not a log group.")
        logs = self.logs.at(where)
        group = logs.group_name(target.arn)
        stream = str(event.get("id") or "events")  # EventBridge writes each event to a stream named after it
        if invoker.is_schedule:
            arn = logs.stream_arn(group, stream)
            self.authorizer.authorize_invoke(target.role_arn, SCHEDULER, invoker.arn, "logs:PutLogEvents", arn)
        logs.ensure_stream(group, stream)
        logs.append(group, stream, [(_event_millis(event, logs.now_ms()), payload)])
        return Delivered(detail=f"{group}:{stream}")

    # ECS RunTask ---------------------------------------------------------------------------------------------
    def _ecs(self, invoker: Invoker, target: Target, payload: str, event: dict[str, Any], *_: Any) -> Delivered:
        plan = Plan(
            key=f"{'schedule' if invoker.is_schedule else 'rule'}:{invoker.arn}",
            arn=invoker.arn,
            name=invoker.name,
            targets=(),
            started_by=invoker.started_by,
            expression="",
        )
        token = hashlib.sha256(f"{invoker.arn}|{target.id}|{event.get('id')}".encode()).hexdigest()
        invocation = Invocation(0, invoker.arn, invoker.name, target.id, 0.0, False, "PENDING", token)
        shaped = target.input is not None or target.input_path is not None or target.input_transformer is not None
        overrides = replace(target, input=payload if shaped else None, input_path=None, input_transformer=None)
        request = run_task_request(plan, overrides, invocation)
        self.authorizer.authorize_rule_launch(self.runner.ecs, invoker.arn, target.role_arn, request, invoker.service)
        result, starts = self.runner.record_tasks(request)
        self.db.after_commit(lambda: self.runner.start_tasks(starts))  # containers start once the task rows are in
        if not result.tasks:
            reasons = "; ".join(f.reason for f in result.failures) or "no task was started"
            raise AwsError(reasons, "RunTaskFailures")
        return Delivered(task_arns=tuple(t.task_arn for t in result.tasks))


def target_service(arn: str) -> str:
    """The service part of a target's ARN (`sqs`, `events`, `logs`, `ecs`, ...), or "" for something else."""
    return arn.split(":")[2] if arn.count(":") >= 5 else ""


def scheduler_put_event(invoker: Invoker, target: Target, payload: str, event: dict[str, Any]) -> dict[str, Any]:
    """EventBridge Scheduler's PutEvents target: Source and DetailType from EventBridgeParameters, the Input as the
    detail, the schedule as the resource; refused as PutEvents refuses such an entry (not retried)."""
    params = target.event_bridge_parameters or {}
    entry = Entry(params.get("Source"), params.get("DetailType"), payload, (invoker.arn,))
    problem = entry_problem(entry)
    if problem is not None:
        raise AwsError(problem[1], problem[0])
    return {
        **event,
        "detail-type": entry.detail_type,
        "source": entry.source,
        "resources": [invoker.arn],
        "detail": json.loads(payload),
    }


def queue_allows(policy_text: str | None, queue_arn: str, rule_arn: str) -> bool:
    """Whether a queue's Policy lets EventBridge send a message on behalf of this rule."""
    if not policy_text:
        return False
    try:
        policy = parse_policy(policy_text, kind="resource")
    except (MalformedPolicy, ValueError):
        return False
    context: Mapping[str, str | list[str]] = {"aws:SourceArn": rule_arn, "aws:SourceAccount": rule_arn.split(":")[4]}
    request = Request("sqs:SendMessage", queue_arn, "events.amazonaws.com", context)
    return resource_policy_allows(policy, EVENTS_PRINCIPAL, request).allowed


def _event_millis(event: dict[str, Any], fallback: int) -> int:
    try:
        return int(datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")).timestamp() * 1000)
    except (KeyError, ValueError):
        return fallback


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
