"""Terraform-like plan text: symbols, resource blocks, attribute diffs, (known after apply), a summary."""

from __future__ import annotations

import difflib
import json
from typing import Any

from cronbridge.terraform.planner import Action, Change
from cronbridge.terraform.resources import RESOURCES
from cronbridge.terraform.schema import BlockSpec
from cronbridge.terraform.values import UNKNOWN

_SYMBOL = {Action.CREATE: "+", Action.UPDATE: "~", Action.REPLACE: "-/+", Action.DELETE: "-"}
_VERB = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in place",
    Action.REPLACE: "must be replaced",
    Action.DELETE: "will be destroyed",
}
_LEGEND = {
    Action.CREATE: "  + create",
    Action.UPDATE: "  ~ update in place",
    Action.DELETE: "  - destroy",
    Action.REPLACE: "-/+ destroy and then create replacement",
}


def show(value: Any) -> str:
    """A value as the plan prints it."""
    if value is UNKNOWN:
        return "(known after apply)"
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)


def _labels(change: Change) -> str:
    name = change.address.removeprefix(change.type + ".").split("[", 1)[0]
    return f'resource "{change.type}" "{name}"'


def _aligned(rows: list[tuple[str, str, str]], indent: str) -> list[str]:
    """(symbol, name, rest) rows with the `=` signs aligned, as Terraform aligns them; a multi-line
    rest (a JSON document) continues below its row."""
    width = max((len(name) for _, name, _ in rows), default=0)
    return [f"{indent}{symbol} {name.ljust(width)} = {rest}" for symbol, name, rest in rows]


def _json_lines(value: Any) -> list[str] | None:
    """A JSON text pretty-printed, one line per element; None when it is not JSON."""
    if not isinstance(value, str):
        return None
    try:
        doc = json.loads(value)
    except json.JSONDecodeError:
        return None
    if not isinstance(doc, dict | list):
        return None
    return json.dumps(doc, indent=2, ensure_ascii=False).splitlines()


def _json_block(lines: list[str], indent: str) -> str:
    """`jsonencode(` + the document + `)`, as the plan shows a JSON argument."""
    body = [f"{indent}      {line}" for line in lines]
    return "\n".join(["jsonencode(", *body, f"{indent}  )"])


def _json_diff(before: Any, after: Any, indent: str) -> str | None:
    """A JSON argument's change as changed lines with - and + (and two lines of context)."""
    old, new = _json_lines(before), _json_lines(after)
    if old is None or new is None:
        return None
    body = [
        f"{indent}    {line[0] if line[0] in '+-' else ' '} {line[1:]}"
        for line in difflib.unified_diff(old, new, n=2, lineterm="")
        if not line.startswith(("---", "+++", "@@"))
    ]
    return "\n".join(["jsonencode(", *body, f"{indent}  )"])


def _created(values: dict[str, Any], spec: BlockSpec, indent: str) -> list[str]:
    """Every argument set and every computed attribute of a new object, then its nested blocks."""
    rows = []
    for name in sorted(spec.attrs):
        value = values.get(name)
        if value is None or value == [] or value == {}:
            continue
        pretty = _json_lines(value) if spec.attrs[name].json else None
        rows.append(("+", name, _json_block(pretty, indent) if pretty else show(value)))
    lines = _aligned(rows, indent)
    for name in sorted(spec.blocks):
        for item in values.get(name) or []:
            lines.append(f"{indent}+ {name} {{")
            lines.extend(_created(item, spec.blocks[name], indent + "    "))
            lines.append(f"{indent}  }}")
    return lines


def _changed(change: Change, spec: BlockSpec) -> list[str]:
    """The attributes that change; on replacement also the computed ones that become unknown."""
    rows = []
    for d in change.diffs:
        note = " # forces replacement" if d.forces and change.action is Action.REPLACE else ""
        attr = spec.attrs.get(d.path)
        text = _json_diff(d.before, d.after, "      ") if attr is not None and attr.json else None
        rows.append(("~", d.path, (text or f"{show(d.before)} -> {show(d.after)}") + note))
    if change.action is Action.REPLACE and change.before:
        for name, attr in sorted(spec.attrs.items()):
            if attr.computed and not attr.configurable and change.before.get(name) is not None:
                rows.append(("~", name, f"{show(change.before[name])} -> (known after apply)"))
    lines = _aligned(rows, "      ")
    configured = sum(1 for a in spec.attrs.values() if a.configurable)
    hidden = configured - len(change.diffs)
    if hidden > 0:
        lines.append(f"        # ({hidden} unchanged attributes hidden)")
    return lines


def change_text(change: Change) -> str:
    """One resource's block of the plan."""
    symbol = _SYMBOL[change.action]
    head = f"{symbol.rjust(3)} {_labels(change)} {{"
    lines = [f"  # {change.address} {_VERB[change.action]}", head]
    spec = RESOURCES[change.type].schema if change.type in RESOURCES else BlockSpec({})
    if change.action is Action.CREATE:
        lines.extend(_created(change.after or {}, spec, "      "))
    elif change.action is Action.DELETE:
        before = change.before or {}
        rows = [("-", k, show(before[k])) for k in ("id", "name", "arn") if before.get(k) is not None]
        lines.extend(_aligned(rows, "      "))
    else:
        lines.extend(_changed(change, spec))
    lines.append("    }")
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
    """The whole plan: legend, one block per changing instance, the summary."""
    doing = [c for c in changes if c.action is not Action.NOOP]
    if not doing:
        return summary(changes)
    used = [a for a in _LEGEND if any(c.action is a for c in doing)]
    legend = "Resource actions are indicated with the following symbols:\n" + "\n".join(_LEGEND[a] for a in used)
    blocks = [change_text(c) for c in doing]
    return "\n\n".join([legend, "cronbridge will perform the following actions:", *blocks, summary(changes)])


def outputs_text(outputs: dict[str, Any], sensitive: set[str] | frozenset[str] = frozenset()) -> str:
    """`Outputs:` then `name = value` lines, as Terraform prints after apply."""
    lines = [
        f"{name} = {'<sensitive>' if name in sensitive else show(value)}" for name, value in sorted(outputs.items())
    ]
    return "\n".join(["", "Outputs:", "", *lines])
