"""The look-at-it commands: rules, schedules, invocations, run-now, tasks, task, logs tail."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError
from rich.console import Console
from rich.live import Live
from rich.text import Text

from cronbridge.cli_views.connect import CliError, Connection
from cronbridge.cli_views.render import (
    Column,
    Output,
    emit,
    heading,
    iso,
    output_for,
    print_fields,
    print_table,
    table_lines,
)

RULE_COLUMNS = (
    Column("NAME", "name", shrink=12),
    Column("STATE", "state", True),
    Column("EXPRESSION", "expression", shrink=14),
    Column("DESCRIPTION", "description", shrink=12),
    Column("ZONE", "timezone", shrink=8),
    Column("NEXT (UTC)", "next"),
    Column("LAST", "lastResult", True),
    Column("ARN", "arn", wide=True),
)
INVOCATION_COLUMNS = (
    Column("ID", "id"),
    Column("SCHEDULED (UTC)", "scheduledTime"),
    Column("ACTUAL (UTC)", "actualTime", wide=True),
    Column("LATE s", "latenessSeconds"),
    Column("TRIES", "attempts"),
    Column("OUTCOME", "outcome", True),
    Column("RESULT", "result", True),
    Column("TASKS", "tasks", shrink=8),
    Column("ERROR", "error", shrink=16),
)
TASK_COLUMNS = (
    Column("TASK", "taskId", shrink=8),
    Column("CLUSTER", "cluster", wide=True),
    Column("DEFINITION", "taskDefinition", shrink=10),
    Column("STATUS", "lastStatus", True),
    Column("STARTED BY", "startedBy", shrink=8),
    Column("LAUNCHER", "launcher", wide=True),
    Column("CPU/MEM", "limits", wide=True),
    Column("EXIT", "exitCodes", shrink=8),
    Column("STOP CODE", "stopCode", shrink=9),
    Column("DURATION", "durationSeconds"),
    Column("AGE", "age"),
    Column("CREATED (UTC)", "createdAt", wide=True),
)


def out_of(args: argparse.Namespace) -> Output:
    return output_for(args.output, headers=not args.no_headers)


def rules(conn: Connection, args: argparse.Namespace) -> int:
    found = _paged(conn, "/_cronbridge/rules", "rules", args.limit, prefix=args.prefix, count=args.next)
    out = out_of(args)
    if out.structured:
        emit({"rules": found}, out)
        return 0
    rows = [{**r, "next": _next(r["nextFireTimes"], args.show, out)} for r in found]
    print_table(rows, RULE_COLUMNS, "No rules.", out)
    return 0


def _next(times: list[str], show: int, out: Output) -> list[str]:
    """The next fire time (the first `--show` of them with -o wide)."""
    return times[: show if out.format == "wide" else 1]


def schedules(conn: Connection, args: argparse.Namespace) -> int:
    if not conn.get("/_cronbridge/schedules", limit=1, count=0).get("served", False):
        print("note: this server does not run EventBridge Scheduler schedules", file=sys.stderr)
    found = _paged(conn, "/_cronbridge/schedules", "schedules", args.limit, count=args.next)
    out = out_of(args)
    if out.structured:
        emit({"schedules": found}, out)
        return 0
    rows = [{**s, "name": f"{s['group']}/{s['name']}", "next": _next(s["nextFireTimes"], args.show, out)}
            for s in found]
    print_table(rows, RULE_COLUMNS, "No schedules.", out)
    return 0


def _paged(conn: Connection, path: str, key: str, limit: int, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = ""
    while len(found) < limit:
        answer = conn.get(path, limit=min(limit - len(found), 1000), after=after or None, **params)
        found.extend(answer[key])
        after = answer.get("nextAfter") or ""
        if not after:
            break
    return found


def invocations(conn: Connection, args: argparse.Namespace) -> int:
    if args.bus:  # a rule on that bus: its event-driven deliveries (and, on the default bus, its schedule)
        if not exists(lambda: conn.client("events").describe_rule(Name=args.name, EventBusName=args.bus)):
            raise CliError(f"no rule named {args.name!r} on event bus {args.bus!r}")
        query = {"rule": args.name, "bus": args.bus}
    else:
        query = _logged_as(conn, args.name, args.group)
    found = conn.get("/_cronbridge/invocations", **query, limit=args.limit)["invocations"]
    out = out_of(args)
    if out.structured:
        emit({"invocations": found}, out)
        return 0
    print_table([invocation_row(i) for i in found], INVOCATION_COLUMNS, f"No invocations of {args.name} yet.", out)
    return 0


def invocation_row(inv: dict[str, Any]) -> dict[str, Any]:
    """A row of the invocations table: a slot's invocation, or (trigger "event") the delivery of a matched event."""
    error = f"{inv['errorCode']}: {inv['errorMessage']}" if inv.get("errorCode") else _task_error(inv)
    tasks = [arn.rsplit("/", 1)[-1] for arn in inv.get("taskArns") or []]
    if not tasks and inv.get("delivered"):  # SQS, a bus, a log group: what the target made of it
        tasks = [inv["delivered"]]
    row = {**inv, "tasks": tasks, "error": error, "outcome": inv["outcome"] + (" (manual)" if inv["manual"] else "")}
    if inv.get("trigger") == "event":
        row["scheduledTime"] = f"event {inv.get('eventSource') or ''} {inv.get('eventDetailType') or ''}".strip()
    return row


def _task_error(inv: dict[str, Any]) -> str | None:
    """Why the invocation's task failed (its stop code and reason), when it did."""
    tasks = inv.get("taskOutcome") or {}
    if tasks.get("state") not in ("FAILED", "FAILED_TO_START"):
        return None
    return f"{tasks.get('stopCode')}: {tasks.get('reason')}"


def _logged_as(conn: Connection, name: str, group: str | None) -> dict[str, str]:
    """How GET /_cronbridge/invocations names a rule (`rule`) or an EventBridge Scheduler schedule (`schedule` and
    `group`), in the connection's Region."""
    if group is None and exists(lambda: conn.client("events").describe_rule(Name=name)):
        return {"rule": name}
    chosen = group or "default"
    if exists(lambda: conn.client("scheduler").get_schedule(Name=name, GroupName=chosen)):
        return {"schedule": name, "group": chosen}
    raise CliError(f"no rule named {name!r}" if group is None else f"no schedule {chosen}/{name}")


def exists(call: Callable[[], Any]) -> bool:
    """False when the call answers that the thing is not there (or that this server has no such service)."""
    try:
        call()
    except ClientError as err:
        if err.response["Error"]["Code"] in ("ResourceNotFoundException", "UnknownOperationException"):
            return False
        raise
    return True


def tasks(conn: Connection, args: argparse.Namespace) -> int:
    out = out_of(args)
    if not args.watch:
        found = _task_list(conn, args.limit)
        if out.structured:
            emit({"tasks": found}, out)
        else:
            print_table(_task_rows(found), TASK_COLUMNS, "No tasks.", out)
        return 0
    with suppress(KeyboardInterrupt):
        _watch(lambda: _task_list(conn, args.limit), out, args.interval)
    return 0


def _task_list(conn: Connection, limit: int) -> list[dict[str, Any]]:
    return list(conn.get("/_cronbridge/tasks", limit=limit)["tasks"])


def _task_rows(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [{**t, "limits": f"{t['cpu'] or '-'}/{t['memory'] or '-'}", "age": age(t.get("createdAt"), now)}
            for t in found]


def age(stamp: str | None, now: datetime) -> str | None:
    """How long ago, as kubectl says it: 45s, 12m, 3h, 5d."""
    if not stamp:
        return None
    seconds = max(0.0, (now - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _watch(fetch: Callable[[], list[dict[str, Any]]], out: Output, interval: float) -> None:
    if sys.stdout.isatty() and not out.structured:
        screen = Console(no_color=not out.colour)
        with Live(_snapshot(fetch(), out), console=screen, auto_refresh=False) as live:
            for rows in _every(fetch, interval):
                live.update(_snapshot(rows, out), refresh=True)
        return
    previous = None
    for rows in _every(fetch, interval):
        if rows != previous:
            stamp = iso(datetime.now(UTC))
            if out.structured:
                emit({"time": stamp, "tasks": rows}, out)
            else:
                print(f"-- {stamp}")
                print_table(_task_rows(rows), TASK_COLUMNS, "No tasks.", out, stream=sys.stdout)
            sys.stdout.flush()
            previous = rows


def _snapshot(rows: list[dict[str, Any]], out: Output) -> Text:
    return Text.from_ansi("\n".join(table_lines(_task_rows(rows), TASK_COLUMNS, out)) or "No tasks.")


def _every(fetch: Callable[[], list[dict[str, Any]]], interval: float) -> Iterator[list[dict[str, Any]]]:
    while True:
        yield fetch()
        time.sleep(interval)


def task(conn: Connection, args: argparse.Namespace) -> int:
    found = _find_task(conn, args.id, args.cluster)
    out = out_of(args)
    if out.structured:
        emit(found, out)
        return 0
    print_fields(
        [
            ("task", found["taskArn"]),
            ("definition", found["taskDefinitionArn"]),
            ("status", f"{found['lastStatus']} (desired {found['desiredStatus']})"),
            ("started by", found.get("startedBy")),
            ("cpu/memory", f"{found.get('cpu')}/{found.get('memory')}"),
            ("stop code", found.get("stopCode")),
            ("reason", found.get("stoppedReason")),
        ],
        out,
    )
    containers = [{**c, "exit": c.get("exitCode")} for c in found["containers"]]
    heading("containers", out)
    print_table(containers, CONTAINER_COLUMNS, "no containers", out)
    steps = [{"step": k, "at": found[k]} for k in _LIFECYCLE if k in found]
    heading("lifecycle", out)
    print_table(steps, (Column("STEP", "step"), Column("AT (UTC)", "at")), "no lifecycle yet", out)
    return 0


CONTAINER_COLUMNS = (
    Column("CONTAINER", "name"),
    Column("STATUS", "lastStatus", True),
    Column("EXIT", "exit"),
    Column("REASON", "reason", shrink=16),
    Column("RUNTIME ID", "runtimeId", shrink=12),
)
_LIFECYCLE = (
    "createdAt",
    "pullStartedAt",
    "pullStoppedAt",
    "startedAt",
    "stoppingAt",
    "executionStoppedAt",
    "stoppedAt",
)


def _find_task(conn: Connection, ref: str, cluster: str | None) -> dict[str, Any]:
    """A task by ARN, id, or the start of an id as a table shows it cut (`0a1b2c…`)."""
    ecs = conn.client("ecs")
    ref = _whole_id(conn, ref.rstrip("…"))
    if ref.startswith("arn:") and ":task/" in ref:
        cluster = cluster or ref.split(":task/", 1)[1].split("/", 1)[0]
    clusters = [cluster] if cluster else [a.rsplit("/", 1)[-1] for a in _clusters(ecs)]
    for name in clusters:
        try:
            found = ecs.describe_tasks(cluster=name, tasks=[ref])["tasks"]
        except ClientError as err:
            if err.response["Error"]["Code"] in ("ClusterNotFoundException", "InvalidParameterException"):
                continue
            raise
        if found:
            return dict(found[0])
    kept = _kept_task(conn, ref, cluster)
    if kept is not None:
        return kept
    raise CliError(f"no task {ref!r}" + (f" in cluster {cluster}" if cluster else " in any cluster"))


def _kept_task(conn: Connection, ref: str, cluster: str | None) -> dict[str, Any] | None:
    """A task stopped more than an hour ago (the ECS API no longer shows it) that the server still keeps."""
    task_id = ref.rsplit("/", 1)[-1]
    if cluster is None:
        cluster = next((t["cluster"] for t in _task_list(conn, 1000) if t["taskId"] == task_id), None)
    if cluster is None:
        return None
    try:
        return dict(conn.get(f"/_cronbridge/tasks/{quote(cluster)}/{quote(task_id)}")["task"])
    except CliError:
        return None


def _whole_id(conn: Connection, ref: str) -> str:
    """The task id a shorter prefix names among recent tasks (the ref itself when it is whole, or ambiguous)."""
    if ref.startswith("arn:") or len(ref) >= 32:
        return ref
    matches = {t["taskId"] for t in _task_list(conn, 1000) if t["taskId"].startswith(ref)}
    if len(matches) > 1:
        raise CliError(f"{ref!r} is the start of {len(matches)} task ids; give more of it")
    return matches.pop() if matches else ref


def _clusters(ecs: Any) -> list[str]:
    """The ACTIVE clusters (ListClusters also shows deleted ones, INACTIVE, for a while, as ECS does)."""
    arns: list[str] = []
    for page in ecs.get_paginator("list_clusters").paginate():
        arns.extend(page["clusterArns"])
    found = [c for i in range(0, len(arns), 100) for c in ecs.describe_clusters(clusters=arns[i:i + 100])["clusters"]]
    return [c["clusterArn"] for c in found if c["status"] == "ACTIVE"]


def logs_tail(conn: Connection, args: argparse.Namespace) -> int:
    logs = conn.client("logs")
    start = int((time.time() - parse_since(args.since)) * 1000)
    seen: set[str] = set()
    try:
        start = _print_events(logs, args, start, seen)
        while args.follow:
            time.sleep(args.interval)
            start = _print_events(logs, args, start, seen)
    except KeyboardInterrupt:
        pass
    return 0


def _print_events(logs: Any, args: argparse.Namespace, start: int, seen: set[str]) -> int:
    params: dict[str, Any] = {"logGroupName": args.group, "startTime": start}
    if args.filter:
        params["filterPattern"] = args.filter
    if args.stream_prefix:
        params["logStreamNamePrefix"] = args.stream_prefix
    latest = start
    for page in logs.get_paginator("filter_log_events").paginate(**params):
        for event in page["events"]:
            if event["eventId"] in seen:
                continue
            seen.add(event["eventId"])
            latest = max(latest, event["timestamp"])
            _print_event(event, args.output)
    sys.stdout.flush()
    return latest


def _print_event(event: dict[str, Any], output: str | None) -> None:
    if output in ("json", "yaml"):
        print(_compact(event))
        return
    stamp = iso(datetime.fromtimestamp(event["timestamp"] / 1000, UTC))
    print(f"{stamp} {event['logStreamName']} {event['message']}")


def _compact(event: dict[str, Any]) -> str:
    return json.dumps({k: event[k] for k in ("timestamp", "logStreamName", "message", "eventId")})


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str) -> float:
    """`10m`, `2h`, `1d`, `30s` (as `aws logs tail --since`) into seconds."""
    number, unit = text[:-1], text[-1:].lower()
    if unit not in _UNITS or not number.isdigit():
        raise CliError(f"--since expects a number and a unit (s, m, h, d, w), e.g. 10m; got {text!r}")
    return int(number) * _UNITS[unit]
