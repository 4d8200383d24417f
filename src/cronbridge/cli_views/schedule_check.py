"""`cronbridge schedule check 'EXPR' [--tz Z]`: the expression in words and its next fire times, or what is wrong
and where. Needs no server."""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cronbridge.cli_views.render import Column, emit, output_for, print_fields, print_table
from cronbridge.schedule import ScheduleError, ZoneError, check_zone, parse

FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week", "year")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "schedule expressions, checked here without a server"
    schedule = sub.add_parser("schedule", help=text, description=text)
    actions = schedule.add_subparsers(dest="schedule_command", required=True)
    text = "say what an expression means and when it fires next, or exactly what is wrong with it and where"
    p = actions.add_parser("check", help=text, description=text)
    p.add_argument("expression", help="cron(...), rate(...) or at(...), quoted: 'cron(*/30 * * * ? *)'")
    p.add_argument("--tz", default="UTC", help="the IANA time zone it is read in (EventBridge Scheduler; default UTC)")
    p.add_argument("--next", type=int, default=5, help="fire times to show (default 5)")
    p.add_argument("--rule", action="store_true", help="check as an EventBridge rule would (no at(), UTC only)")


def run(args: argparse.Namespace) -> int:
    """Exit 0 for a valid expression, 1 (with the reason and a caret under the bad part) otherwise."""
    out = output_for(args.output, headers=not args.no_headers)
    try:
        check_zone(args.tz)
        if args.rule and args.tz != "UTC":
            raise ValueError("an EventBridge rule's schedule is always in UTC (--tz is for Scheduler schedules)")
    except (ZoneError, ValueError) as err:
        print(f"cronbridge: error: {_zone_message(args.tz, err)}", file=sys.stderr)
        return 1
    try:
        schedule = parse(args.expression.strip(), allow_at=not args.rule)
    except ScheduleError as err:
        for line in explain_error(args.expression.strip(), err.detail):
            print(line, file=sys.stderr)
        return 1
    fires = [datetime.fromtimestamp(t, UTC) for t in schedule.next_n(time.time(), args.next, args.tz)]
    zone = ZoneInfo(args.tz)
    if out.structured:
        emit({"expression": schedule.expression, "kind": schedule.kind, "description": schedule.describe(),
              "timezone": args.tz, "nextFireTimes": fires}, out)
        return 0
    print_fields([("expression", schedule.expression), ("means", schedule.describe()), ("time zone", args.tz)], out)
    print()
    rows = [{"utc": f, "local": f.astimezone(zone).isoformat(timespec="seconds")} for f in fires]
    print_table(rows, (Column("NEXT (UTC)", "utc"), Column(f"IN {args.tz}", "local")), "It never fires again.", out)
    return 0


def _zone_message(tz: str, err: Exception) -> str:
    return str(err) if isinstance(err, ValueError) and "always in UTC" in str(err) else f"unknown time zone {tz!r}"


def explain_error(expression: str, detail: str) -> list[str]:
    """`cronbridge: error: ...` and, when the bad part can be found, the expression with a caret line under it."""
    lines = [f"cronbridge: error: {expression}: {detail or 'not a valid schedule expression'}"]
    span = _where(expression, detail)
    if span is not None:
        start, end = span
        lines += [f"  {expression}", "  " + " " * start + "^" * max(end - start, 1)]
    if expression.startswith("cron(") and "6 fields" in detail:
        lines.append("  cron takes 6 fields: minute hour day-of-month month day-of-week year, e.g. cron(0 12 * * ? *)")
    return lines


def _where(expression: str, detail: str) -> tuple[int, int] | None:
    """Where in the expression the detail points: a cron field by its name, else the part in parentheses."""
    named = re.match(r"bad ([a-z-]+):", detail)
    if named and expression.startswith("cron(") and named.group(1) in FIELDS:
        fields = list(re.finditer(r"\S+", expression[5:].rstrip(")")))
        index = FIELDS.index(named.group(1))
        if index < len(fields):
            return 5 + fields[index].start(), 5 + fields[index].end()
    if "day-of-month and day-of-week" in detail and expression.startswith("cron("):
        fields = list(re.finditer(r"\S+", expression[5:].rstrip(")")))
        if len(fields) >= 5:
            return 5 + fields[2].start(), 5 + fields[4].end()
    opening = expression.find("(")
    if opening >= 0 and expression.endswith(")"):
        return opening + 1, len(expression) - 1
    return None
