"""Plan-time checks for what would fail (or be unsafe) on AWS once applied: container names in
overrides, image references, awslogs log groups, iam:PassRole on "*", a reused execution role."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cronbridge.terraform import ast
from cronbridge.terraform.diagnostics import Diagnostic, TerraformError, error, warning
from cronbridge.terraform.evaluate import Evaluator
from cronbridge.terraform.graph import walk
from cronbridge.terraform.planner import InstanceInfo, Walk
from cronbridge.terraform.values import UNKNOWN

MARK = "${unknown}"
"""What an unknown value reads as when checks evaluate leniently."""

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    rf"^(?:(?:[a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)


def valid_image(reference: str) -> bool:
    """True for a Docker image reference such as `public.ecr.aws/docker/library/busybox:1.36`."""
    return bool(_IMAGE.match(reference))


class Checker:
    """Runs every check over a plan walk; `existing_log_groups` says what the server already has."""

    def __init__(self, result: Walk, base: Path, existing_log_groups: set[str] | None = None) -> None:
        self.walk = result
        self.base = base
        self.existing = existing_log_groups or set()
        self.found: list[Diagnostic] = []

    def run(self) -> list[Diagnostic]:
        """All findings, in source order of the resources."""
        for info in self.walk.instances:
            if info.config.type == "aws_ecs_task_definition":
                self._task_definition(info)
            elif info.config.type == "aws_cloudwatch_event_target":
                self._overrides(info, "ecs_target", info.config.body)
            elif info.config.type in ("aws_iam_policy", "aws_iam_role_policy"):
                self._pass_role(info)
            if info.config.type in ("aws_cloudwatch_event_rule", "aws_scheduler_schedule"):
                self._schedule(info)
            attrs = info.config.body.attributes
            if "name" in attrs and "name_prefix" in attrs:
                self.found.append(
                    error(
                        attrs["name_prefix"].pos,
                        f'{info.address}: "name_prefix" conflicts with "name"',
                        "keep one: name for a fixed name, name_prefix for a generated one",
                    )
                )
        return self.found

    def _schedule(self, info: InstanceInfo) -> None:
        """A schedule expression or time zone AWS would reject (ValidationException at create)."""
        from cronbridge.schedule import ScheduleError, ZoneError, check_zone, parse

        scheduler = info.config.type == "aws_scheduler_schedule"
        expression = info.values.get("schedule_expression")
        attrs = info.config.body.attributes
        if isinstance(expression, str):
            try:
                parse(expression, allow_at=scheduler)
            except ScheduleError as exc:
                self.found.append(
                    error(
                        attrs["schedule_expression"].pos,
                        f'{info.address}: schedule expression "{expression}" is not valid ({exc.detail}), '
                        f"so {'CreateSchedule' if scheduler else 'PutRule'} would fail with ValidationException",
                        "write cron(minutes hours day-of-month month day-of-week year) with ? in one of the day "
                        'fields, e.g. "cron(*/30 * * * ? *)", or rate(5 minutes)'
                        + (", or at(2030-01-01T00:00:00)" if scheduler else ""),
                    )
                )
        elif not scheduler and expression is None and info.values.get("event_pattern") is None:
            self.found.append(
                error(
                    info.config.pos,
                    f"{info.address}: a rule needs schedule_expression or event_pattern",
                    'add schedule_expression = "rate(1 hour)" (or an event_pattern)',
                )
            )
        zone = info.values.get("schedule_expression_timezone")
        if scheduler and isinstance(zone, str) and "schedule_expression_timezone" in attrs:
            try:
                check_zone(zone)
            except (ZoneError, ValueError):
                self.found.append(
                    error(
                        attrs["schedule_expression_timezone"].pos,
                        f'{info.address}: "{zone}" is not a time zone',
                        'use an IANA name such as "Europe/Paris" or "UTC"',
                    )
                )

    def lenient(self, info: InstanceInfo, name: str, body: ast.Body | None = None) -> Any:
        """An attribute's value with unknowns read as MARK, or None when it cannot be evaluated."""
        attr = (body or info.config.body).attributes.get(name)
        if attr is None:
            return None
        evaluator = Evaluator({**self.walk.roots, **info.extra}, self.base, unknown_text=MARK)
        try:
            value = evaluator.eval(attr.expr)
        except TerraformError:
            return None
        return None if value is UNKNOWN else value

    def source_line(self, info: InstanceInfo, name: str, needle: str) -> ast.Pos:
        """Line of `needle` in the file read by file()/templatefile(), else the attribute."""
        attr = info.config.body.attributes[name]
        expr = attr.expr
        if isinstance(expr, ast.Call) and expr.name in ("file", "templatefile") and expr.args:
            path = _literal_path(expr.args[0])
            if path is not None:
                located = _find_in_file(self.base, path, needle)
                if located is not None:
                    return located
        return attr.pos

    def _containers(self, info: InstanceInfo) -> list[dict[str, Any]]:
        text = self.lenient(info, "container_definitions")
        try:
            value = json.loads(text) if isinstance(text, str) else None
        except json.JSONDecodeError:
            return []
        return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []

    def _task_definition(self, info: InstanceInfo) -> None:
        for container in self._containers(info):
            image = str(container.get("image", ""))
            if MARK not in image and not valid_image(image):
                self.found.append(
                    error(
                        self.source_line(info, "container_definitions", image),
                        f'{info.address}: image "{image}" is not a valid image reference, so '
                        "the task "
                        "would stop with CannotPullContainerError",
                        "give a repository URI such as "
                        "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1 "
                        "or public.ecr.aws/docker/library/busybox:latest (a variable works well)",
                    )
                )
            self._log_group(info, container)
        self._role_reuse(info)

    def _log_group(self, info: InstanceInfo, container: dict[str, Any]) -> None:
        config = container.get("logConfiguration") or {}
        options = config.get("options") or {}
        group = options.get("awslogs-group")
        if config.get("logDriver") != "awslogs" or not isinstance(group, str) or MARK in group:
            return
        if str(options.get("awslogs-create-group", "")).lower() == "true":
            return
        if group in self._declared_log_groups() or group in self.existing:
            return
        self.found.append(
            error(
                self.source_line(info, "container_definitions", group),
                f'{info.address}: log group "{group}" is neither declared nor created by '
                "awslogs-create-group, so the task would fail at log set-up "
                "(ResourceInitializationError)",
                f'declare resource "aws_cloudwatch_log_group" with name = "{group}", or set '
                '"awslogs-create-group": "true" and allow logs:CreateLogGroup to the execution '
                "role",
            )
        )

    def _declared_log_groups(self) -> set[str]:
        names = set()
        for info in self.walk.instances:
            if info.config.type == "aws_cloudwatch_log_group":
                name = self.lenient(info, "name")
                if isinstance(name, str):
                    names.add(name)
        return names

    def _role_reuse(self, info: InstanceInfo) -> None:
        attrs = info.config.body.attributes
        execution, task = attrs.get("execution_role_arn"), attrs.get("task_role_arn")
        if execution is None or task is None:
            return
        same_value = info.values.get("execution_role_arn") == info.values.get("task_role_arn") and info.values.get(
            "task_role_arn"
        ) not in (None, UNKNOWN)
        if same_value or _traversal(execution.expr) == _traversal(task.expr) is not None:
            self.found.append(
                warning(
                    task.pos,
                    f"{info.address}: the execution role is reused as the task role, so the "
                    "application gets the ECR and CloudWatch Logs permissions meant for the "
                    "ECS agent",
                    "create a separate aws_iam_role for task_role_arn with only what the "
                    "application "
                    "needs, or remove task_role_arn if it calls no AWS API",
                )
            )

    def _overrides(self, info: InstanceInfo, block_name: str, body: ast.Body) -> None:
        blocks = body.blocks_of(block_name)
        if not blocks:
            return
        arn_attr = blocks[0].body.attributes.get("task_definition_arn")
        names = self._container_names(arn_attr.expr if arn_attr else None)
        overrides = self._override_names(info)
        if names is None:
            return
        for name in overrides:
            if name not in names:
                self.found.append(
                    error(
                        _literal_pos(info.config.body.attributes["input"].expr, name),
                        f'{info.address}: the container override names "{name}" but the task '
                        f"definition's containers are {', '.join(repr(n) for n in names)}, so "
                        "RunTask "
                        "would fail (InvalidParameterException: Override for container named "
                        f"{name} is not a container in the TaskDefinition)",
                        f"use the container name from the task definition ({names[0]!r}), or "
                        "rename "
                        f'the container to "{name}"',
                    )
                )

    def _container_names(self, expr: ast.Expr | None) -> list[str] | None:
        chain = _traversal(expr) if expr is not None else None
        if not chain or chain[0] != "aws_ecs_task_definition":
            return None
        for info in self.walk.instances:
            if info.config.address == f"{chain[0]}.{chain[1]}":
                containers = self._containers(info)
                return [str(c.get("name")) for c in containers] if containers else None
        return None

    def _override_names(self, info: InstanceInfo) -> list[str]:
        text = self.lenient(info, "input")
        try:
            data = json.loads(text) if isinstance(text, str) else {}
        except json.JSONDecodeError:
            return []
        overrides = data.get("containerOverrides", []) if isinstance(data, dict) else []
        return [str(o["name"]) for o in overrides if isinstance(o, dict) and "name" in o]

    def _pass_role(self, info: InstanceInfo) -> None:
        text = self.lenient(info, "policy")
        try:
            doc = json.loads(text) if isinstance(text, str) else None
        except json.JSONDecodeError:
            return
        for statement in _statements(doc):
            if _allows_pass_role_on_star(statement):
                self.found.append(
                    warning(
                        self.source_line(info, "policy", "iam:PassRole"),
                        f'{info.address}: the policy allows iam:PassRole on "*", so whoever '
                        "holds it "
                        "can hand any role to any service",
                        "list the roles the target passes (the task's execution and task role "
                        "ARNs) in "
                        "Resource, and add a Condition on iam:PassedToService = "
                        '"ecs-tasks.amazonaws.com"',
                    )
                )


def _statements(doc: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(doc, dict):
        return
    statements = doc.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if isinstance(statement, dict):
            yield statement


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allows_pass_role_on_star(statement: dict[str, Any]) -> bool:
    if statement.get("Effect") != "Allow" or "Condition" in statement:
        return False
    actions = [str(a).lower() for a in _as_list(statement.get("Action", []))]
    passes = any(a in ("iam:passrole", "iam:*", "*") for a in actions)
    return passes and "*" in _as_list(statement.get("Resource", []))


def _traversal(expr: ast.Expr) -> list[str] | None:
    names: list[str] = []
    while isinstance(expr, ast.GetAttr):
        names.insert(0, expr.name)
        expr = expr.obj
    return [expr.name, *names] if isinstance(expr, ast.Ref) else None


def _literal_path(expr: ast.Expr) -> str | None:
    if isinstance(expr, ast.Literal) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.Template):
        parts = [
            "." if isinstance(p, ast.GetAttr) and _traversal(p) in (["path", "module"], ["path", "root"]) else p
            for p in expr.parts
        ]
        if all(isinstance(p, str) for p in parts):
            return "".join(str(p) for p in parts)
    return None


def _find_in_file(base: Path, path: str, needle: str) -> ast.Pos | None:
    full = base / path
    try:
        lines = full.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    quoted = json.dumps(needle)
    for number, line in enumerate(lines, start=1):
        if quoted in line or needle in line:
            return ast.Pos(str(Path(path).as_posix()).removeprefix("./"), number)
    return None


def _literal_pos(expr: ast.Expr, value: str) -> ast.Pos:
    for node in walk(expr):
        if isinstance(node, ast.Literal) and node.value == value:
            return node.pos
    return expr.pos
