"""What each console page reads, as the IAM action the AWS console would call for it: a page is shown only when the
signed-in principal may, evaluated on every request (a policy change applies on the next page)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from cronbridge import arn as arns

Resources = Callable[[re.Match[str], dict[str, str], str, str], list[str]]
"""The ARNs a page reads, from its path match, its query parameters, the region and the account."""


def _star(found: re.Match[str], query: dict[str, str], region: str, account: str) -> list[str]:
    return ["*"]


def _rule(found: re.Match[str], query: dict[str, str], region: str, account: str) -> list[str]:
    bus, name = query.get("bus"), unquote(found["name"])
    return [arns.build("events", region, account, f"rule/{bus}/{name}" if bus and bus != "default" else f"rule/{name}")]


def _schedule(found: re.Match[str], query: dict[str, str], region: str, account: str) -> list[str]:
    return [arns.build("scheduler", region, account, f"schedule/{unquote(found['group'])}/{unquote(found['name'])}")]


def _role(found: re.Match[str], query: dict[str, str], region: str, account: str) -> list[str]:
    return [f"arn:aws:iam::{account}:role/{unquote(found['name'])}"]


def _log_group(key: str, stream: str | None = None) -> Resources:
    """The group (or stream) named by query parameters, spelled as the Logs API's own authorization spells it."""

    def resources(found: re.Match[str], query: dict[str, str], region: str, account: str) -> list[str]:
        group, name = query.get(key, ""), query.get(stream, "") if stream else ""
        return [arns.build("logs", region, account, f"log-group:{group}:log-stream:{name}")]

    return resources


@dataclass(frozen=True)
class PageNeed:
    """A console path (below /console) and what reading it takes."""

    path: re.Pattern[str]
    action: str
    resources: Resources = _star


def _need(path: str, action: str, resources: Resources = _star) -> PageNeed:
    return PageNeed(re.compile(path), action, resources)


PAGES = (
    _need(r"/schedules", "events:ListRules"),
    _need(r"/schedules/(?P<group>[^/]+)/(?P<name>[^/]+)", "scheduler:GetSchedule", _schedule),
    _need(r"/rules/(?P<name>[^/]+)", "events:DescribeRule", _rule),
    _need(r"/invocations/\d+", "cronbridge:GetInvocations"),
    _need(r"/deliveries/\d+", "cronbridge:GetInvocations"),
    _need(r"/buses", "events:ListEventBuses"),
    _need(r"/tasks", "ecs:ListTasks"),
    _need(r"/tasks/[^/]+/[^/]+", "ecs:DescribeTasks"),
    _need(r"/api/tasks/[^/]+/[^/]+", "ecs:DescribeTasks"),
    _need(r"/logs", "logs:DescribeLogGroups"),
    _need(r"/logs/group", "logs:DescribeLogStreams", _log_group("name")),
    _need(r"/logs/stream", "logs:GetLogEvents", _log_group("group", "stream")),
    _need(r"/api/logs", "logs:FilterLogEvents", _log_group("group")),
    _need(r"/taskdefs", "ecs:ListTaskDefinitions"),
    _need(r"/taskdefs/[^/]+/\d+", "ecs:DescribeTaskDefinition"),
    _need(r"/clusters", "ecs:ListClusters"),
    _need(r"/alarms", "cloudwatch:DescribeAlarms"),
    _need(r"/alarms/[^/]+", "cloudwatch:DescribeAlarms"),  # CloudWatch's alarm actions take no resource ARNs
    _need(r"/iam", "iam:ListRoles"),
    _need(r"/iam/roles/(?P<name>[^/]+)", "iam:GetRole", _role),
)


def page_needs(path: str, query: dict[str, str], region: str, account: str) -> tuple[str, list[str]] | None:
    """(action, resources) reading the console page at `path` (below /console) takes; None for a page of no data."""
    for need in PAGES:
        found = need.path.fullmatch(path.rstrip("/") or "/")
        if found is not None:
            return need.action, need.resources(found, query, region, account)
    return None
