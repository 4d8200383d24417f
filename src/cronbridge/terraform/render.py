"""Terraform-like plan text: symbols, attribute diffs, "(known after apply)", and a summary line."""

from __future__ import annotations

import json
from typing import Any

from cronbridge.terraform.planner import Action, Change
from cronbridge.terraform.values import UNKNOWN

_SYMBOL = {Action.CREATE: "+", Action.UPDATE: "~", Action.REPLACE: "-/+", Action.DELETE: "-"}
_VERB = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in place",
    Action.REPLACE: "must be replaced",
    Action.DELETE: "will be destroyed",
}


def show(value: Any) -> str:
    """A value as the plan prints it."""
    if value is UNKNOWN:
        return "(known after apply)"
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)


def change_text(change: Change) -> str:
    """One resource's block of the plan."""
    symbol = _SYMBOL[change.action]
    lines = [f"  # {change.address} {_VERB[change.action]}", f'  {symbol} resource "{change.type}"']
    if change.action is Action.DELETE:
        return "\n".join(lines)
    for d in change.diffs:
        note = " # forces replacement" if d.forces and change.action is Action.REPLACE else ""
        if change.action is Action.CREATE:
            lines.append(f"      + {d.path} = {show(d.after)}")
        else:
            lines.append(f"      ~ {d.path} = {show(d.before)} -> {show(d.after)}{note}")
    return "\n".join(lines)


def summary(changes: list[Change]) -> str:
    """`Plan: 1 to add, 0 to change, 0 to destroy.` (a replacement counts as add and destroy)."""
    add = sum(c.action in (Action.CREATE, Action.REPLACE) for c in changes)
    change = sum(c.action is Action.UPDATE for c in changes)
    destroy = sum(c.action in (Action.DELETE, Action.REPLACE) for c in changes)
    if add == change == destroy == 0:
        return "No changes. Your infrastructure matches the configuration."
    return f"Plan: {add} to add, {change} to change, {destroy} to destroy."


def plan_text(changes: list[Change]) -> str:
    """The whole plan."""
    blocks = [change_text(c) for c in changes if c.action is not Action.NOOP]
    return "\n\n".join([*blocks, summary(changes)])
