"""`cronbridge rules|schedules|invocations|run-now|tasks|task|logs`: look at a running server through its API."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from cronbridge.cli_views import commands
from cronbridge.cli_views.connect import CliError, Connection, connect

Command = Callable[[Connection, argparse.Namespace], int]
COMMANDS: dict[str, Command] = {
    "rules": commands.rules,
    "schedules": commands.schedules,
    "invocations": commands.invocations,
    "run-now": commands.run_now,
    "tasks": commands.tasks,
    "task": commands.task,
    "logs": commands.logs_tail,
}


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--endpoint", help="server URL (default $CRONBRIDGE_ENDPOINT, $AWS_ENDPOINT_URL, http://127.0.0.1:4599)"
    )
    p.add_argument("--region", help="region to name in requests (default: boto3's, else us-east-1)")
    p.add_argument("--data-dir", type=Path, help="a local server's data folder, for its admin-credentials file")
    p.add_argument("--output", "-o", choices=["table", "json"], default="table", help="output format (default table)")


def _add(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=text, description=text)
    _common(p)
    return p


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
        p.add_argument("--show", type=int, default=3, help="fire times to show in the table (default 3)")
    p = _add(sub, "invocations", "a rule's invocation history, newest first: lateness, attempts, outcome, tasks")
    p.add_argument("name", help="the rule's (or schedule's) name")
    p.add_argument("--group", help="an EventBridge Scheduler schedule of this group (default: a rule, else default)")
    p.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    p = _add(sub, "run-now", "launch a rule's targets now (recorded as a manual invocation)")
    p.add_argument("name", help="the rule's (or schedule's) name")
    p.add_argument("--group", help="an EventBridge Scheduler schedule of this group (default: a rule, else default)")
    p.add_argument("--wait", action="store_true", help="wait for the tasks to stop; exit 1 on a non-zero exit code")
    p.add_argument("--timeout", type=float, default=600, help="seconds to wait with --wait (default 600)")
    p = _add(sub, "tasks", "running and recent tasks of every cluster, newest first")
    p.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    p.add_argument("--watch", action="store_true", help="keep refreshing until interrupted (Ctrl-C)")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes (default 2)")
    p = _add(sub, "task", "one task: status, containers with exit codes, stop code and reason, lifecycle")
    p.add_argument("id", help="task id or ARN")
    p.add_argument("--cluster", help="its cluster (default: search every cluster)")
    _logs_parser(sub)


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
    """Run one view command; failures are one line on stderr and exit code 1."""
    logging.getLogger("botocore").setLevel(logging.WARNING)
    try:
        conn = connect(args.endpoint, args.region, args.data_dir)
        return COMMANDS[args.command](conn, args)
    except CliError as err:
        return _fail(str(err))
    except ClientError as err:
        error = err.response.get("Error", {})
        return _fail(f"{error.get('Code', 'Error')}: {error.get('Message', err)}")
    except EndpointConnectionError as err:
        return _fail(f"cannot reach cronbridge at {err.kwargs.get('endpoint_url')}; is the server running?")
    except BotoCoreError as err:
        return _fail(str(err))
    except BrokenPipeError:
        return 0
    except Exception as err:  # a bug of ours: one line, the traceback only when asked for
        if os.environ.get("CRONBRIDGE_DEBUG"):
            raise
        return _fail(f"internal error: {type(err).__name__}: {err} (set CRONBRIDGE_DEBUG=1 for the traceback)")


def _fail(message: str) -> int:
    print(f"cronbridge: error: {message}", file=sys.stderr)
    return 1
