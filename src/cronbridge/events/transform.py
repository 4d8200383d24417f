"""What a target receives (PURE): the event, Input, InputPath or InputTransformer; Scheduler's context attributes."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cronbridge.errors import ValidationError

MISSING: Any = object()
MAX_PATHS = 100
RULE_ARN, RULE_NAME = "aws.events.rule-arn", "aws.events.rule-name"
EVENT, EVENT_JSON, INGESTION_TIME = "aws.events.event", "aws.events.event.json", "aws.events.event.ingestion-time"
PREDEFINED = (RULE_ARN, RULE_NAME, EVENT, EVENT_JSON, INGESTION_TIME)
SCHEDULER_ATTRIBUTES = (
    "aws.scheduler.schedule-arn",
    "aws.scheduler.scheduled-time",
    "aws.scheduler.execution-id",
    "aws.scheduler.attempt-number",
)
_PLACEHOLDER = re.compile(r"<([^<>\s]+)>")
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]")


class TransformFailed(Exception):
    """The transformed input is not what the target can take (a JSON template that no longer parses)."""


@dataclass(frozen=True)
class Invocation:
    """What the predefined variables stand for: the rule, the event and when it arrived."""

    rule_arn: str
    rule_name: str
    event: Mapping[str, Any]
    ingestion_time: str


def check_target_input(
    target_id: str, given: str | None, path: str | None, transformer: Mapping[str, Any] | None
) -> None:
    """PutTargets' refusals for a target's input settings (ValidationException, as EventBridge words them)."""
    if sum(x is not None for x in (given, path, transformer)) > 1:
        raise ValidationError(
            f"Only one of Input, InputPath, or InputTransformer must be provided for target {target_id}."
        )
    if given is not None:
        _check_json(given, f"Input for target {target_id} is not valid JSON.")
    if transformer is not None:
        _check_transformer(target_id, transformer)


def _check_json(text: str, message: str) -> None:
    try:
        json.loads(text)
    except ValueError:
        raise ValidationError(message) from None


def _check_transformer(target_id: str, transformer: Mapping[str, Any]) -> None:
    paths = transformer.get("InputPathsMap") or {}
    if len(paths) > MAX_PATHS:
        raise ValidationError(f"InputPathsMap for target {target_id} has more than {MAX_PATHS} entries.")
    for key in paths:
        if key.lower().startswith("aws."):
            raise ValidationError(f"InputPathsMap for target {target_id} contains invalid key {key}.")
    for name in _PLACEHOLDER.findall(transformer.get("InputTemplate") or ""):
        if name not in paths and name not in PREDEFINED:
            raise ValidationError(f"InputTemplate for target {target_id} contains invalid placeholder {name}.")


def target_input(
    invocation: Invocation, given: str | None, path: str | None, transformer: Mapping[str, Any] | None
) -> str:
    """The text the target receives; TransformFailed when a JSON template no longer parses once filled."""
    if given is not None:
        return given
    if path is not None:
        found = select(invocation.event, path)
        return "null" if found is MISSING else _compact(found)
    if transformer is not None:
        return transform(invocation, transformer.get("InputPathsMap") or {}, transformer.get("InputTemplate") or "")
    return _compact(invocation.event)


def select(document: Any, path: str) -> Any:
    """A JSON path (`$`, `.key`, `[n]`, `['key']`) in a document, or MISSING."""
    text = path.strip()
    if not text.startswith("$"):
        return MISSING
    value, pos = document, 1
    while pos < len(text):
        step = _STEP.match(text, pos)
        if step is None:
            return MISSING
        key, index, quoted = step.groups()
        value = _index(value, int(index)) if index is not None else _key(value, key if key is not None else quoted)
        if value is MISSING:
            return MISSING
        pos = step.end()
    return value


def _key(value: Any, key: str) -> Any:
    return value.get(key, MISSING) if isinstance(value, Mapping) else MISSING


def _index(value: Any, index: int) -> Any:
    return value[index] if isinstance(value, list) and index < len(value) else MISSING


def transform(invocation: Invocation, paths: Mapping[str, str], template: str) -> str:
    """InputTransformer: placeholders filled as EventBridge fills them, in a JSON template or a string one."""
    variables = {name: select(invocation.event, path) for name, path in paths.items()}
    variables.update(_predefined(invocation))
    if template.lstrip()[:1] in ("{", "["):
        return _json_template(template, variables)
    return _PLACEHOLDER.sub(lambda m: _in_text(variables.get(m.group(1), MISSING), strip_quotes=True), template)


def _predefined(invocation: Invocation) -> dict[str, Any]:
    event = invocation.event
    summary = {
        "id": event.get("id"),
        "account": event.get("account"),
        "detailType": event.get("detail-type"),
        "time": invocation.ingestion_time,
        "source": event.get("source"),
        "region": event.get("region"),
        "resources": event.get("resources", []),
        "version": event.get("version"),
    }
    return {
        RULE_ARN: invocation.rule_arn,
        RULE_NAME: invocation.rule_name,
        EVENT: summary,  # as EventBridge gives it: a summary of the envelope, without the detail
        EVENT_JSON: event,
        INGESTION_TIME: invocation.ingestion_time,
    }


def _json_template(template: str, variables: Mapping[str, Any]) -> str:
    """Unquoted placeholders take the value as JSON; quoted ones take it as text (EventBridge escapes nothing)."""
    out: list[str] = []
    in_string, escaped, pos = False, False, 0
    for match in _PLACEHOLDER.finditer(template):
        in_string, escaped = _scan_quotes(template[pos : match.start()], in_string, escaped)
        out.append(template[pos : match.start()])
        out.append(_filled(match.group(0), match.group(1), variables, in_string))
        pos = match.end()
    out.append(template[pos:])
    filled = "".join(out)
    try:
        return _compact(json.loads(filled))
    except ValueError:
        raise TransformFailed(f"Replaced template is not valid json: {filled}") from None


def _filled(placeholder: str, name: str, variables: Mapping[str, Any], in_string: bool) -> str:
    if name not in variables:
        return placeholder
    value = variables[name]
    if in_string:
        return _in_text(value, strip_quotes=False)
    return '""' if value is MISSING else _compact(value)


def _scan_quotes(text: str, in_string: bool, escaped: bool) -> tuple[bool, bool]:
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and in_string:
            escaped = True
        elif char == '"':
            in_string = not in_string
    return in_string, escaped


def _in_text(value: Any, strip_quotes: bool) -> str:
    """A value written inside a string: text as it is, other values as JSON (quotes dropped in a string template)."""
    if value is MISSING:
        return ""
    if isinstance(value, str):
        return value
    text = _compact(value)
    return text.replace('"', "") if strip_quotes and isinstance(value, dict | list) else text


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def scheduler_input(template: str, context: Mapping[str, str]) -> str:
    """Scheduler's context attributes (`<aws.scheduler.scheduled-time>` ...) replaced in a target's Input."""
    return _PLACEHOLDER.sub(lambda m: context.get(m.group(1), m.group(0)), template)
