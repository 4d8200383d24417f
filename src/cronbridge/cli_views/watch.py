"""`cronbridge events put` and `cronbridge alarms`: put an event on a bus, look at alarms and their history."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cronbridge.cli_views.connect import CliError, Connection
from cronbridge.cli_views.render import Column, emit, output_for, print_table

ALARM_COLUMNS = (
    Column("ALARM", "name"),
    Column("STATE", "state", True),
    Column("METRIC", "metric"),
    Column("CONDITION", "condition"),
    Column("SINCE (UTC)", "since"),
    Column("REASON", "reason", shrink=16),
)
HISTORY_COLUMNS = (Column("WHEN (UTC)", "when"), Column("TYPE", "type"), Column("SUMMARY", "summary"))


def events_put(conn: Connection, args: argparse.Namespace) -> int:
    """PutEvents with one entry; exit 1 when EventBridge refused it."""
    try:
        detail = json.loads(args.detail)
    except ValueError as err:
        raise CliError(f"--detail is not JSON: {err}") from None
    entry: dict[str, Any] = {"Source": args.source, "DetailType": args.detail_type, "Detail": json.dumps(detail)}
    if args.bus:
        entry["EventBusName"] = args.bus
    if args.resource:
        entry["Resources"] = args.resource
    answer = conn.client("events").put_events(Entries=[entry])["Entries"][0]
    if args.output in ("json", "yaml"):
        emit(answer, output_for(args.output))
    elif "EventId" in answer:
        print(answer["EventId"])
    else:
        print(f"{answer['ErrorCode']}: {answer['ErrorMessage']}")
    return 0 if "EventId" in answer else 1


def alarms(conn: Connection, args: argparse.Namespace) -> int:
    cloudwatch = conn.client("cloudwatch")
    if args.name:
        return _history(cloudwatch, args)
    kwargs: dict[str, Any] = {"AlarmNamePrefix": args.prefix} if args.prefix else {}
    if args.state:
        kwargs["StateValue"] = args.state
    found = cloudwatch.describe_alarms(**kwargs)["MetricAlarms"]
    if args.output in ("json", "yaml"):
        emit({"alarms": found}, output_for(args.output))
        return 0
    rows = [
        {
            "name": a["AlarmName"],
            "state": a["StateValue"],
            "metric": f"{a.get('Namespace', '')}/{a.get('MetricName', '')}",
            "condition": f"{a.get('Statistic') or a.get('ExtendedStatistic')} {a['ComparisonOperator']} "
            f"{a['Threshold']} ({a.get('DatapointsToAlarm') or a['EvaluationPeriods']}/{a['EvaluationPeriods']}"
            f" x {a['Period']} s)",
            "since": f"{a['StateTransitionedTimestamp']:%Y-%m-%d %H:%M:%S}",
            "reason": a["StateReason"],
        }
        for a in found
    ]
    print_table(rows, ALARM_COLUMNS, "No alarms.", output_for(args.output, headers=not args.no_headers))
    return 0


def _history(cloudwatch: Any, args: argparse.Namespace) -> int:
    items = cloudwatch.describe_alarm_history(AlarmName=args.name, MaxRecords=args.limit)["AlarmHistoryItems"]
    if args.output in ("json", "yaml"):
        emit({"history": items}, output_for(args.output))
        return 0
    rows = [
        {"when": f"{i['Timestamp']:%Y-%m-%d %H:%M:%S}", "type": i["HistoryItemType"], "summary": i["HistorySummary"]}
        for i in items
    ]
    print_table(rows, HISTORY_COLUMNS, f"No history for {args.name}.",
                output_for(args.output, headers=not args.no_headers))
    return 0
