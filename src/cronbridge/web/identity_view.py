"""IAM as people read it: roles with trust and permission policies pretty-printed, and who uses (passes) each role."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from cronbridge.model.ecs import TaskDefinition

if TYPE_CHECKING:
    from cronbridge.system import System

MAX_ROWS = 500


def _identity(system: System) -> Any | None:
    return getattr(system, "identity", None)


def _call(target: Any, names: tuple[str, ...], *args: Any) -> Any:
    """The first of `names` the identity store has, called; None when it has none or fails (a part in progress)."""
    for name in names:
        method = getattr(target, name, None)
        if callable(method):
            try:
                return method(*args)
            except Exception:
                return None
    return None


def _plain(value: Any) -> dict[str, Any]:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return dict(value) if isinstance(value, dict) else {"value": value}


def document(text: Any) -> str:
    """A policy document, URL-decoded when it is, pretty-printed."""
    if not isinstance(text, str):
        return json.dumps(text, indent=2, default=str)
    for candidate in (text, unquote(text)):
        try:
            return json.dumps(json.loads(candidate), indent=2)
        except ValueError:
            continue
    return text


def overview(system: System) -> dict[str, Any]:
    identity = _identity(system)
    if identity is None:
        return {"available": False, "roles": [], "policies": []}
    roles = [_plain(r) for r in (_call(identity, ("list_roles", "roles")) or [])][:MAX_ROWS]
    policies = [_plain(p) for p in (_call(identity, ("list_policies", "policies")) or [])][:MAX_ROWS]
    return {"available": True, "roles": roles, "policies": policies}


def role(system: System, name: str) -> dict[str, Any] | None:
    identity = _identity(system)
    if identity is None:
        return None
    found = _call(identity, ("get_role", "role"), name)
    if found is None:
        return None
    data = _plain(found)
    arn = data.get("arn", "")
    policies = _call(identity, ("role_policies", "policies_of_role"), name) or []
    named = [
        {
            "name": getattr(p, "name", "?"),
            "source": getattr(p, "source", ""),
            "document": document(getattr(p, "document", "")),
        }
        for p in policies
    ]
    return {
        "role": data,
        "trust": document(data.get("trust_policy", "")),
        "policies": named,
        "passed_by": passed_by(system, arn),
    }


def passed_by(system: System, role_arn: str) -> list[str]:
    """Who hands this role on: rule targets (EventBridge assumes it) and task definitions (ECS passes it)."""
    users = [
        f"rule {r.name} (target {t.id})"
        for r in system.events.list_rules(limit=MAX_ROWS)
        for t in system.events.targets(r.name)
        if t.role_arn == role_arn
    ]
    for d in system.ecs.list_task_definitions()[:MAX_ROWS]:
        if role_arn in (d.execution_role_arn, d.task_role_arn):
            kind = "execution role" if d.execution_role_arn == role_arn else "task role"
            users.append(f"task definition {d.family}:{d.revision} ({kind})")
    return users


def rules_using(system: System, definition: TaskDefinition) -> list[str]:
    """Rules whose targets run this task definition (by ARN, family:revision or family)."""
    refs = {definition.task_definition_arn, f"{definition.family}:{definition.revision}", definition.family}
    return [
        r.name
        for r in system.events.list_rules(limit=MAX_ROWS)
        for t in system.events.targets(r.name)
        if t.ecs_parameters and t.ecs_parameters.task_definition_arn in refs
    ]
