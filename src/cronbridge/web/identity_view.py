"""IAM as people read it: roles with trust and permission policies pretty-printed, who uses and who may pass each."""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from cronbridge import scope as scopes
from cronbridge.ecs.service import TASKDEF
from cronbridge.events.service import bus_name
from cronbridge.iam.evaluate import Request, evaluate
from cronbridge.model.ecs import TaskDefinition
from cronbridge.scope import Scope

if TYPE_CHECKING:
    from cronbridge.identity.service import IdentityService
    from cronbridge.system import System

MAX_ROWS = 500


def _identity(system: System) -> IdentityService:
    return system.identity


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
    """Roles and customer-managed policies (the identity store's own, not AWS's catalogue)."""
    identity = _identity(system)
    roles = [_plain(r) for r in identity.list_roles()[:MAX_ROWS]]
    policies = [_plain(p) for p in identity.store.policies(scope="Local")[:MAX_ROWS]]
    return {"available": True, "roles": roles, "policies": policies}


def role(system: System, name: str) -> dict[str, Any] | None:
    identity = _identity(system)
    try:
        found = identity.get_role(name)
    except Exception:  # NoSuchEntity: the page says so
        return None
    inline = [
        {"name": n, "source": "inline", "document": document(d)}
        for n, d in identity.store.inline("role", found.name).items()
    ]
    attached = [
        {"name": arn, "source": "attached", "document": document(identity.policies.document(arn))}
        for arn in identity.store.attached("role", found.name)
    ]
    return {
        "role": _plain(found),
        "trust": document(found.trust_policy),
        "policies": inline + attached,
        "used_by": used_by(system, found.arn),
        "passers": passers(system, found.arn),
    }


def used_by(system: System, role_arn: str) -> list[str]:
    """Who hands this role on: rule targets (EventBridge assumes it) and task definitions (ECS passes it)."""
    users = [
        f"rule {r.name} in {region_of(r.arn)} (target {t.id})"
        for r in itertools.islice(system.events.iter_rules(), MAX_ROWS)
        for t in system.events.targets(scopes.of_arn(r.arn) or system.home, r.name, bus_name(r.event_bus_name))
        if t.role_arn == role_arn
    ]
    for d in itertools.islice(system.docs.iter_all(TASKDEF, TaskDefinition), MAX_ROWS):
        if role_arn in (d.execution_role_arn, d.task_role_arn):
            kind = "execution role" if d.execution_role_arn == role_arn else "task role"
            users.append(f"task definition {d.family}:{d.revision} ({kind})")
    return users


def passers(system: System, role_arn: str) -> list[str]:
    """Users and roles whose policies allow iam:PassRole on this role (to ECS tasks), with the deciding policy."""
    identity = _identity(system)
    found = []
    owners: list[tuple[Literal["user", "role"], str, str]] = [
        ("user", u.name, u.arn) for u in identity.list_users()[:MAX_ROWS]
    ]
    owners += [("role", r.name, r.arn) for r in identity.list_roles()[:MAX_ROWS]]
    for kind, name, arn in owners:
        request = Request("iam:PassRole", role_arn, arn, {"iam:PassedToService": "ecs-tasks.amazonaws.com"})
        decision = evaluate(request, identity.policies.named(kind, name))
        if decision.allowed:
            policies = ", ".join(sorted({s.policy for s in decision.statements}))
            found.append(f"{kind} {name} (by {policies})")
    return found


def region_of(arn: str) -> str:
    return (scopes.of_arn(arn) or Scope("", "")).region
