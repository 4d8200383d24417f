"""`cronbridge rules|schedules|invocations|run-now|tasks|task|logs|events|alarms`: a running server, through its API."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)

from cronbridge.cli_views import commands, run_now, watch
from cronbridge.cli_views.connect import (
    REFUSED_CREDENTIALS,
    CliError,
    Connection,
    Unreachable,
    connect,
    credentials_hint,
)

Command = Callable[[Connection, argparse.Namespace], int]
COMMANDS: dict[str, Command] = {
    "rules": commands.rules,
    "schedules": commands.schedules,
    "invocations": commands.invocations,
    "run-now": run_now.run_now,
    "tasks": commands.tasks,
    "task": commands.task,
    "logs": commands.logs_tail,
    "events": watch.events_put,
    "alarms": watch.alarms,
}


EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_REFUSED, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130


def _add(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=text, description=text)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, text in (
        ("rules", "EventBridge rules with their schedule in words and next fire times"),
        ("schedules", "EventBridge Scheduler schedules with their next fire times"),
    ):
        p = _add(sub, name, text)
        if name == "rules":
            p.add_argument("--prefix", default="", help="only names starting with this")
        p.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
        p.add_argument("--next", type=int, default=10, help="fire times to compute (default 10)")
        p.add_argument("--show", type=int, default=3, help="fire times to show with -o wide (default 3)")
    p = _add(sub, "invocations", "a rule's invocation history, newest first: lateness, attempts, outcome, tasks;"
             " a pattern rule's deliveries of the events it matched too")
    p.add_argument("name", help="the rule's (or schedule's) name")
    p.add_argument("--group", help="an EventBridge Scheduler schedule of this group (default: a rule, else default)")
    p.add_argument("--bus", help="a rule on this event bus (default: the default bus)")
    p.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    p = _add(sub, "run-now", "launch a rule's targets now (recorded as a manual invocation)")
    p.add_argument("name", help="the rule's (or schedule's) name")
    p.add_argument("--group", help="an EventBridge Scheduler schedule of this group (default: a rule, else default)")
    p.add_argument(
        "--wait", action="store_true",
        help="wait for the tasks to stop; exit 1 (with the reason) unless every task succeeded",
    )
    p.add_argument("--follow", "-f", action="store_true", help="with --wait: print the tasks' log lines as they come")
    p.add_argument("--timeout", type=float, default=600, help="seconds to wait with --wait (default 600)")
    p = _add(sub, "tasks", "running and recent tasks of every cluster, newest first")
    p.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    p.add_argument("--watch", action="store_true", help="keep refreshing until interrupted (Ctrl-C)")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes (default 2)")
    p = _add(sub, "task", "one task: status, containers with exit codes, stop code and reason, lifecycle")
    p.add_argument("id", help="task id or ARN")
    p.add_argument("--cluster", help="its cluster (default: search every cluster)")
    _logs_parser(sub)
    _watch_parsers(sub)


def _watch_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    events = sub.add_parser("events", help="EventBridge: put an event on a bus", description="EventBridge events")
    actions = events.add_subparsers(dest="events_command", required=True)
    p = _add(actions, "put", "PutEvents with one entry; prints its EventId (exit 1 when refused)")
    p.add_argument("--source", required=True, help="the event's source, e.g. my.app")
    p.add_argument("--detail-type", required=True, help="its detail-type, e.g. 'Order Placed'")
    p.add_argument("--detail", default="{}", help="its detail, a JSON object (default {})")
    p.add_argument("--bus", help="the event bus (name or ARN; default: the default bus)")
    p.add_argument("--resource", action="append", help="a resource ARN (repeatable)")
    p = _add(sub, "alarms", "CloudWatch alarms with their state; with a name, that alarm's history")
    p.add_argument("name", nargs="?", help="an alarm: show its history, newest first")
    p.add_argument("--prefix", default="", help="only alarms whose names start with this")
    p.add_argument("--state", choices=["OK", "ALARM", "INSUFFICIENT_DATA"], help="only alarms in this state")
    p.add_argument("--limit", type=int, default=50, help="history items to show (default 50)")


def _logs_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    logs = sub.add_parser("logs", help="CloudWatch Logs: tail a log group", description="CloudWatch Logs")
    actions = logs.add_subparsers(dest="logs_command", required=True)
    p = _add(actions, "tail", "print a log group's events (like `aws logs tail`), optionally following new ones")
    p.add_argument("group", help="log group name, e.g. /ecs/fargate-task-definition")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new events until interrupted")
    p.add_argument("--filter", help="a CloudWatch Logs filter pattern, e.g. ERROR or '{ $.level = \"error\" }'")
    p.add_argument("--since", default="10m", help="how far back to start: 30s, 10m, 2h, 1d (default 10m)")
    p.add_argument("--stream-prefix", help="only streams whose names start with this")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between polls with --follow (default 1)")


def run(args: argparse.Namespace) -> int:
    """Run one view command; a failure is one line on stderr and a documented exit code (docs/cli.md)."""
    logging.getLogger("botocore").setLevel(logging.WARNING)
    try:
        conn = connect(args.endpoint, args.region, args.data_dir, profile=args.profile)
        return COMMANDS[args.command](conn, args)
    except Unreachable as err:
        return fail(str(err), EXIT_UNREACHABLE)
    except CliError as err:
        return fail(str(err), EXIT_REFUSED if any(c in str(err) for c in REFUSED_CREDENTIALS) else EXIT_FAILED)
    except ClientError as err:
        error = err.response.get("Error", {})
        code = str(error.get("Code", "Error"))
        status = EXIT_REFUSED if code in REFUSED_CREDENTIALS else EXIT_FAILED
        return fail(f"{code}: {error.get('Message', err)}{credentials_hint(code)}", status)
    except EndpointConnectionError as err:
        return fail(f"cannot reach cronbridge at {err.kwargs.get('endpoint_url')}; is the server running?",
                    EXIT_UNREACHABLE)
    except (NoCredentialsError, PartialCredentialsError) as err:
        return fail(f"{err}{credentials_hint('UnrecognizedClientException')}", EXIT_REFUSED)
    except BotoCoreError as err:
        return fail(str(err), EXIT_FAILED)
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as err:  # a bug of ours: one line, the traceback only when asked for
        if os.environ.get("CRONBRIDGE_DEBUG"):
            raise
        return fail(f"internal error: {type(err).__name__}: {err} (set CRONBRIDGE_DEBUG=1 for the traceback)")


def fail(message: str, status: int = EXIT_FAILED) -> int:
    print(f"cronbridge: error: {message}", file=sys.stderr)
    return status
