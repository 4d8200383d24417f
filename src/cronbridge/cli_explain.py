"""`cronbridge explain`: may a principal do an action on a resource, and why; why did an invocation fail."""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from typing import Any

from cronbridge.cli_views.connect import CliError, Unreachable, connect
from cronbridge.cli_views.render import emit, output_for


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "explain an IAM decision (--principal/--action/--resource) or a failed invocation (--invocation/--rule)"
    p = sub.add_parser("explain", help=text, description=text)
    p.add_argument("--principal", help="user, role or assumed-role ARN")
    p.add_argument("--action", help="an IAM action, e.g. ecs:RunTask")
    p.add_argument("--resource", default="*", help="the resource ARN (default *)")
    p.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a condition key of the request (repeatable)",
    )
    p.add_argument("--invocation", type=int, help="an invocation id: why did it fail")
    p.add_argument("--rule", help="a rule name: why did its latest invocation fail")
    p.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # before -o json existed


def _context(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise CliError(f"--context expects KEY=VALUE, got {pair!r}")
        found[key.strip()] = value
    return found


def run(args: argparse.Namespace) -> int:
    """Ask the server, print the explanation; exit 0 when allowed (or the invocation succeeded), 1 otherwise."""
    try:
        return _explain(args)
    except Unreachable as err:
        print(f"cronbridge: error: {err}", file=sys.stderr)
        return 3
    except CliError as err:
        print(f"cronbridge: error: {err}", file=sys.stderr)
        return 1


def _explain(args: argparse.Namespace) -> int:
    conn = connect(args.endpoint, args.region, args.data_dir, profile=args.profile)
    found: dict[str, Any]
    if args.invocation is not None:
        found = conn.get(f"/_cronbridge/invocations/{args.invocation}/explain")
        ok = found.get("outcome") == "SUCCEEDED"
    elif args.rule:
        found = conn.get(f"/_cronbridge/rules/{urllib.parse.quote(args.rule, safe='')}/explain")
        ok = found.get("outcome") == "SUCCEEDED"
    elif args.principal and args.action:
        payload = {
            "principal": args.principal,
            "action": args.action,
            "resource": args.resource,
            "context": _context(args.context),
        }
        found = conn.post("/_cronbridge/explain", payload)
        ok = bool(found.get("allowed"))
    else:
        print("cronbridge: error: explain: give --principal and --action, or --invocation, or --rule", file=sys.stderr)
        return 2
    out = output_for("json" if args.json else args.output)
    if out.structured:
        emit(found, out)
    else:
        print(found.get("explanation", ""))
    return 0 if ok else 1
