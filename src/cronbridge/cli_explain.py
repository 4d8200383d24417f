"""`cronbridge explain`: may a principal do an action on a resource, and why; why did an invocation fail."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_ENDPOINT = "http://127.0.0.1:4599"


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
    p.add_argument("--json", action="store_true", help="print the whole JSON answer")
    p.add_argument("--endpoint", help="server URL (default $CRONBRIDGE_ENDPOINT, $AWS_ENDPOINT_URL, local)")


def _request(url: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        url, data=data, method="GET" if data is None else "POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            found: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as err:
        body = json.loads(err.read() or b"{}")
        raise SystemExit(f"cronbridge explain: {body.get('message', err.reason)}") from None
    except OSError as err:
        raise SystemExit(f"cronbridge explain: cannot reach {url}: {err}") from None
    return found


def _context(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--context expects KEY=VALUE, got {pair!r}")
        found[key.strip()] = value
    return found


def run(args: argparse.Namespace) -> int:
    """Ask the server, print the explanation; exit 0 when allowed (or the invocation succeeded), 1 otherwise."""
    endpoint = (
        args.endpoint or os.environ.get("CRONBRIDGE_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT
    ).rstrip("/")
    if args.invocation is not None:
        found = _request(f"{endpoint}/_cronbridge/invocations/{args.invocation}/explain")
        ok = found.get("outcome") == "SUCCEEDED"
    elif args.rule:
        found = _request(f"{endpoint}/_cronbridge/rules/{urllib.parse.quote(args.rule, safe='')}/explain")
        ok = found.get("outcome") == "SUCCEEDED"
    elif args.principal and args.action:
        payload = {
            "principal": args.principal,
            "action": args.action,
            "resource": args.resource,
            "context": _context(args.context),
        }
        found = _request(f"{endpoint}/_cronbridge/explain", payload)
        ok = bool(found.get("allowed"))
    else:
        print("cronbridge explain: give --principal and --action, or --invocation, or --rule", file=sys.stderr)
        return 2
    print(json.dumps(found, indent=2) if args.json else found.get("explanation", ""))
    return 0 if ok else 1
