"""The look-at-it commands: rules, schedules, invocations, run-now, tasks, task, logs tail."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext, suppress
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError
from rich.live import Live

from cronbridge.cli_views.connect import CliError, Connection
from cronbridge.cli_views.render import Column, console, emit_json, print_fields, print_table, table

RULE_COLUMNS = (
    Column("NAME", "name"),
    Column("STATE", "state", True),
    Column("EXPRESSION", "expression"),
    Column("DESCRIPTION", "description"),
    Column("ZONE", "timezone"),
    Column("NEXT (UTC)", "next"),
    Column("LAST", "lastOutcome", True),
)
INVOCATION_COLUMNS = (
    Column("SCHEDULED (UTC)", "scheduledTime"),
    Column("ACTUAL", "actualTime"),
    Column("LATE s", "latenessSeconds"),
    Column("TRIES", "attempts"),
    Column("OUTCOME", "outcome", True),
    Column("TASKS", "tasks"),
    Column("ERROR", "error"),
)
TASK_COLUMNS = (
    Column("TASK", "taskId"),
    Column("CLUSTER", "cluster"),
    Column("DEFINITION", "taskDefinition"),
    Column("STATUS", "lastStatus", True),
    Column("STARTED BY", "startedBy"),
    Column("LAUNCHER", "launcher"),
    Column("CPU/MEM", "limits"),
    Column("EXIT", "exitCodes"),
    Column("STOP CODE", "stopCode"),
    Column("DURATION s", "durationSeconds"),
    Column("CREATED (UTC)", "createdAt"),
)


def rules(conn: Connection, args: argparse.Namespace) -> int:
    found = _paged(conn, "/_cronbridge/rules", "rules", args.limit, prefix=args.prefix, count=args.next)
    if args.output == "json":
        emit_json({"rules": found})
        return 0
    rows = [{**r, "next": r["nextFireTimes"][: args.show]} for r in found]
    print_table(rows, RULE_COLUMNS, "No rules.")
    return 0


def schedules(conn: Connection, args: argparse.Namespace) -> int:
    if not conn.get("/_cronbridge/schedules", limit=1, count=0).get("served", False):
        print("note: this server does not run EventBridge Scheduler schedules", file=sys.stderr)
    found = _paged(conn, "/_cronbridge/schedules", "schedules", args.limit, count=args.next)
    if args.output == "json":
        emit_json({"schedules": found})
        return 0
    rows = [{**s, "name": f"{s['group']}/{s['name']}", "next": s["nextFireTimes"][: args.show]} for s in found]
    print_table(rows, RULE_COLUMNS, "No schedules.")
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
    logged_as = _log_name(conn, args.name, args.group)
    found = conn.get("/_cronbridge/invocations", rule=logged_as, limit=args.limit)["invocations"]
    if args.output == "json":
        emit_json({"invocations": found})
        return 0
    print_table([_invocation_row(i) for i in found], INVOCATION_COLUMNS, f"No invocations of {args.name} yet.")
    return 0


def _invocation_row(inv: dict[str, Any]) -> dict[str, Any]:
    error = f"{inv['errorCode']}: {inv['errorMessage']}" if inv.get("errorCode") else None
    tasks = [arn.rsplit("/", 1)[-1] for arn in inv.get("taskArns") or []]
    return {**inv, "tasks": tasks, "error": error, "outcome": inv["outcome"] + (" (manual)" if inv["manual"] else "")}


def _log_name(conn: Connection, name: str, group: str | None) -> str:
    """How the invocation log names a rule (NAME) or an EventBridge Scheduler schedule (GROUP/NAME)."""
    if group is None and _exists(lambda: conn.client("events").describe_rule(Name=name)):
        return name
    chosen = group or "default"
    if _exists(lambda: conn.client("scheduler").get_schedule(Name=name, GroupName=chosen)):
        return f"{chosen}/{name}"
    raise CliError(f"no rule named {name!r}" if group is None else f"no schedule {chosen}/{name}")


def _exists(call: Callable[[], Any]) -> bool:
    """False when the call answers that the thing is not there (or that this server has no such service)."""
    try:
        call()
    except ClientError as err:
        if err.response["Error"]["Code"] in ("ResourceNotFoundException", "UnknownOperationException"):
            return False
        raise
    return True


def _run(conn: Connection, name: str, group: str | None) -> dict[str, Any]:
    if group is None:
        try:
            return dict(conn.post(f"/_cronbridge/rules/{quote(name)}/run-now"))
        except CliError as err:
            if "ResourceNotFoundException" not in str(err):
                raise
    if not _exists(lambda: conn.client("scheduler").get_schedule(Name=name, GroupName=group or "default")):
        raise CliError(f"no rule named {name!r}" if group is None else f"no schedule {group}/{name}")
    return dict(conn.post(f"/_cronbridge/schedules/{quote(name)}/run-now?group={quote(group or 'default')}"))


def run_now(conn: Connection, args: argparse.Namespace) -> int:
    answer = _run(conn, args.name, args.group)
    finished: list[dict[str, Any]] = []
    if args.wait and answer["taskArns"]:
        finished = _wait_for_tasks(conn, answer["taskArns"], args.timeout)
    if args.output == "json":
        emit_json({**answer, "tasks": finished} if args.wait else answer)
    else:
        print_table(
            [_invocation_row(i) for i in answer["invocations"]],
            INVOCATION_COLUMNS,
            f"{args.name} has no targets: nothing ran.",
        )
        for task in finished:
            codes = ", ".join(f"{c['name']}={c.get('exitCode', '-')}" for c in task["containers"])
            print(f"{task['taskArn'].rsplit('/', 1)[-1]}  STOPPED  {task.get('stopCode', '')}  exit: {codes}")
    failed = any(i["outcome"] == "FAILED" for i in answer["invocations"])
    bad_exit = any(c.get("exitCode") not in (0, None) for t in finished for c in t["containers"])
    return 1 if failed or bad_exit else 0


def _wait_for_tasks(conn: Connection, arns: list[str], timeout: float) -> list[dict[str, Any]]:
    ecs = conn.client("ecs")
    deadline = time.monotonic() + timeout
    with _progress(f"waiting for {len(arns)} task(s) to stop"):
        while time.monotonic() < deadline:
            tasks = [_describe(ecs, arn) for arn in arns]
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


def _progress(message: str) -> AbstractContextManager[Any]:
    """A spinner on stderr when it is a terminal; nothing otherwise."""
    err = console(sys.stderr)
    return err.status(message) if sys.stderr.isatty() else nullcontext()


def tasks(conn: Connection, args: argparse.Namespace) -> int:
    if not args.watch:
        found = _task_rows(conn, args.limit)
        if args.output == "json":
            emit_json({"tasks": found})
        else:
            print_table(found, TASK_COLUMNS, "No tasks.")
        return 0
    with suppress(KeyboardInterrupt):
        _watch(lambda: _task_rows(conn, args.limit), args)
    return 0


def _task_rows(conn: Connection, limit: int) -> list[dict[str, Any]]:
    found = conn.get("/_cronbridge/tasks", limit=limit)["tasks"]
    return [{**t, "limits": f"{t['cpu'] or '-'}/{t['memory'] or '-'}"} for t in found]


def _watch(fetch: Callable[[], list[dict[str, Any]]], args: argparse.Namespace) -> None:
    out = console()
    if out.is_terminal and args.output == "table":
        with Live(table(fetch(), TASK_COLUMNS), console=out, auto_refresh=False) as live:
            for rows in _every(fetch, args.interval):
                live.update(table(rows, TASK_COLUMNS), refresh=True)
        return
    previous = None
    for rows in _every(fetch, args.interval):
        if rows != previous:
            stamp = datetime.now(UTC).strftime("%H:%M:%S")
            if args.output == "json":
                emit_json({"time": stamp, "tasks": rows})
            else:
                print(f"-- {stamp} UTC")
                print_table(rows, TASK_COLUMNS, "No tasks.")
            sys.stdout.flush()
            previous = rows


def _every(fetch: Callable[[], list[dict[str, Any]]], interval: float) -> Iterator[list[dict[str, Any]]]:
    while True:
        yield fetch()
        time.sleep(interval)


def task(conn: Connection, args: argparse.Namespace) -> int:
    found = _find_task(conn, args.id, args.cluster)
    if args.output == "json":
        emit_json(found)
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
        ]
    )
    containers = [{**c, "exit": c.get("exitCode")} for c in found["containers"]]
    console().print(
        table(
            containers,
            (
                Column("CONTAINER", "name"),
                Column("STATUS", "lastStatus", True),
                Column("EXIT", "exit"),
                Column("REASON", "reason"),
                Column("RUNTIME ID", "runtimeId"),
            ),
            title="containers",
        )
    )
    steps = [{"step": k, "at": str(found[k])} for k in _LIFECYCLE if k in found]
    console().print(table(steps, (Column("STEP", "step"), Column("AT", "at")), title="lifecycle"))
    return 0


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
    ecs = conn.client("ecs")
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
    raise CliError(f"no task {ref!r}" + (f" in cluster {cluster}" if cluster else " in any cluster"))


def _clusters(ecs: Any) -> list[str]:
    arns: list[str] = []
    for page in ecs.get_paginator("list_clusters").paginate():
        arns.extend(page["clusterArns"])
    return arns


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


def _print_event(event: dict[str, Any], output: str) -> None:
    if output == "json":
        print(_compact(event))
        return
    stamp = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).isoformat(timespec="milliseconds")
    print(f"{stamp.replace('+00:00', 'Z')} {event['logStreamName']} {event['message']}")


def _compact(event: dict[str, Any]) -> str:
    return json.dumps({k: event[k] for k in ("timestamp", "logStreamName", "message", "eventId")})


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str) -> float:
    """`10m`, `2h`, `1d`, `30s` (as `aws logs tail --since`) into seconds."""
    number, unit = text[:-1], text[-1:].lower()
    if unit not in _UNITS or not number.isdigit():
        raise CliError(f"--since expects a number and a unit (s, m, h, d, w), e.g. 10m; got {text!r}")
    return int(number) * _UNITS[unit]
