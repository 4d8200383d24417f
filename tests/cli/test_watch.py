"""`cronbridge events put` and `cronbridge alarms`, run as a user runs them against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from fixtures.seed import credentials

COMMAND = str(Path(sys.executable).parent / "cronbridge")


def cli(server: Any, *args: str) -> subprocess.CompletedProcess[str]:
    key, secret = credentials(server)
    env = {
        **os.environ,
        "CRONBRIDGE_ENDPOINT": server.endpoint,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "NO_COLOR": "1",
    }
    return subprocess.run([COMMAND, *args], env=env, capture_output=True, text=True, timeout=60)


def test_events_put_prints_the_event_id_and_the_event_reaches_the_rule(cronbridge_server: Any) -> None:
    events = cronbridge_server.client("events")
    events.put_rule(Name="cli-events", EventPattern=json.dumps({"source": ["cli.app"]}))
    done = cli(
        cronbridge_server, "events", "put", "--source", "cli.app", "--detail-type", "Tried", "--detail", '{"n": 1}'
    )
    assert done.returncode == 0, done.stderr
    event_id = done.stdout.strip()
    assert len(event_id) == 36
    refused = cli(
        cronbridge_server, "events", "put", "--source", "cli.app", "--detail-type", "Tried", "--detail", "[1]"
    )
    assert refused.returncode == 1 and "--detail is not JSON" not in refused.stderr
    assert "MalformedDetail" in refused.stdout


def test_alarms_lists_state_and_shows_history(cronbridge_server: Any) -> None:
    cloudwatch = cronbridge_server.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="cli-alarm",
        Namespace="Batch",
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    # data that breaches: the next evaluation (a minute boundary may pass on a busy machine) keeps it in ALARM
    cloudwatch.put_metric_data(Namespace="Batch", MetricData=[{"MetricName": "Errors", "Value": 5.0}])
    cloudwatch.set_alarm_state(AlarmName="cli-alarm", StateValue="ALARM", StateReason="from the CLI test")
    listed = cli(cronbridge_server, "alarms")
    assert listed.returncode == 0, listed.stderr
    assert "cli-alarm" in listed.stdout and "ALARM" in listed.stdout
    history = cli(cronbridge_server, "alarms", "cli-alarm", "-o", "json")
    items = json.loads(history.stdout)["history"]
    assert "Alarm updated from INSUFFICIENT_DATA to ALARM" in [item["HistorySummary"] for item in items]
