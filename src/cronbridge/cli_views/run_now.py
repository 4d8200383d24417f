"""`cronbridge run-now NAME [--wait [--follow]]`: launch a rule's (or schedule's) targets now; with --wait, exit 0
only when every task succeeded, else 1 with the reason of each that did not."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from rich.console import Console

from cronbridge.cli_views.commands import INVOCATION_COLUMNS, exists, invocation_row, out_of
from cronbridge.cli_views.connect import CliError, Connection
from cronbridge.cli_views.render import emit, print_table


def run_now(conn: Connection, args: argparse.Namespace) -> int:
    answer = _run(conn, args.name, args.group)
    finished: list[dict[str, Any]] = []
    if args.wait and answer["taskArns"]:
        logs = LogFollower(conn, answer["taskArns"]) if args.follow else None
        finished = wait_for_tasks(conn, answer["taskArns"], args.timeout, logs.poll if logs else None)
        if logs:
            logs.poll()
    out = out_of(args)
    if out.structured:
        emit({**answer, "tasks": finished} if args.wait else answer, out)
    else:
        print_table([invocation_row(i) for i in answer["invocations"]], INVOCATION_COLUMNS,
                    f"{args.name} has no targets: nothing ran.", out)
        for task in finished:
            codes = ", ".join(f"{c['name']}={c.get('exitCode', '-')}" for c in task["containers"])
            print(f"{task['taskArn'].rsplit('/', 1)[-1]}  STOPPED  {task.get('stopCode', '')}  exit: {codes}")
    reasons = [_launch_failure(i) for i in answer["invocations"] if i["outcome"] == "FAILED"]
    reasons += [r for r in (task_failure(t) for t in finished) if r]
    for reason in reasons:
        print(f"cronbridge: error: {reason}", file=sys.stderr)
    return 1 if reasons else 0


def _launch_failure(invocation: dict[str, Any]) -> str:
    return f"{invocation['rule']}: the target was not launched: {invocation.get('errorCode')}: " \
           f"{invocation.get('errorMessage')}"


def task_failure(task: dict[str, Any]) -> str | None:
    """Why a stopped task did not succeed (None when every container exited 0)."""
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    containers = task.get("containers") or []
    if containers and all(c.get("exitCode") == 0 for c in containers):
        return None
    stop = f"{task.get('stopCode', 'no stop code')}: {task.get('stoppedReason', '')}".rstrip(": ")
    if task.get("stopCode") == "TaskFailedToStart" or not any("exitCode" in c for c in containers):
        why = "; ".join(c["reason"] for c in containers if c.get("reason"))
        return f"task {task_id} failed to start ({stop}){': ' + why if why else ''}"
    bad = ", ".join(
        f"{c['name']} exited {c['exitCode']}" if "exitCode" in c else f"{c['name']}: {c.get('reason', 'no exit code')}"
        for c in containers if c.get("exitCode") != 0
    )
    return f"task {task_id} failed: {bad} ({stop})"


def _run(conn: Connection, name: str, group: str | None) -> dict[str, Any]:
    if group is None:
        try:
            return dict(conn.post(f"/_cronbridge/rules/{quote(name)}/run-now"))
        except CliError as err:
            if "ResourceNotFoundException" not in str(err):
                raise
    if not exists(lambda: conn.client("scheduler").get_schedule(Name=name, GroupName=group or "default")):
        raise CliError(f"no rule named {name!r}" if group is None else f"no schedule {group}/{name}")
    return dict(conn.post(f"/_cronbridge/schedules/{quote(name)}/run-now?group={quote(group or 'default')}"))


def wait_for_tasks(conn: Connection, arns: list[str], timeout: float,
                   between: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    ecs = conn.client("ecs")
    deadline = time.monotonic() + timeout
    with _progress(f"waiting for {len(arns)} task(s) to stop", quiet=between is not None):
        while time.monotonic() < deadline:
            tasks = [_describe(ecs, arn) for arn in arns]
            if between is not None:
                between()
            if all(t["lastStatus"] == "STOPPED" for t in tasks):
                return tasks
            time.sleep(0.2)
    raise CliError(f"tasks did not stop within {timeout:g} s")


def _describe(ecs: Any, arn: str) -> dict[str, Any]:
    cluster = arn.split(":task/", 1)[1].split("/", 1)[0]
    found = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"]
    if not found:
        raise CliError(f"task {arn} is gone")
    return dict(found[0])


def _progress(message: str, quiet: bool = False) -> AbstractContextManager[Any]:
    """A spinner on stderr when it is a terminal (and no log lines are being printed); nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        return nullcontext()
    return Console(file=sys.stderr, no_color=bool(os.environ.get("NO_COLOR"))).status(message)


@dataclass
class Stream:
    group: str
    name: str
    label: str
    token: str | None = None


@dataclass
class LogFollower:
    """Prints the tasks' awslogs streams as they grow (`container | line`), read with GetLogEvents' forward token."""

    conn: Connection
    task_arns: list[str]
    streams: list[Stream] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.logs = self.conn.client("logs")
        ecs = self.conn.client("ecs")
        for arn in self.task_arns:
            task = _describe(ecs, arn)
            definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
            self.streams.extend(_streams(definition, arn.rsplit("/", 1)[-1], multiple=len(self.task_arns) > 1))

    def poll(self) -> None:
        for stream in self.streams:
            params: dict[str, Any] = {"logGroupName": stream.group, "logStreamName": stream.name,
                                      "startFromHead": True}
            if stream.token:
                params["nextToken"] = stream.token
            try:
                page = self.logs.get_log_events(**params)
            except self.logs.exceptions.ResourceNotFoundException:
                continue  # the stream appears with the container's first line
            for event in page["events"]:
                print(f"{stream.label} | {event['message']}", flush=True)
            stream.token = page.get("nextForwardToken") or stream.token


def _streams(definition: dict[str, Any], task_id: str, multiple: bool) -> list[Stream]:
    found = []
    for container in definition["containerDefinitions"]:
        config = container.get("logConfiguration") or {}
        options = config.get("options") or {}
        if config.get("logDriver") != "awslogs" or "awslogs-group" not in options:
            continue
        prefix = options.get("awslogs-stream-prefix")
        name = f"{prefix}/{container['name']}/{task_id}" if prefix else task_id
        label = f"{task_id[:8]}/{container['name']}" if multiple else container["name"]
        found.append(Stream(options["awslogs-group"], name, label))
    return found
