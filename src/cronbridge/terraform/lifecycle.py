"""A resource's `lifecycle` block: prevent_destroy and ignore_changes honoured, anything else an error."""

from __future__ import annotations

from dataclasses import dataclass

from cronbridge.terraform import ast
from cronbridge.terraform.diagnostics import Diagnostic, error

_UNSUPPORTED = {
    "create_before_destroy": "cronbridge replaces by destroying first, as Terraform does by default",
    "replace_triggered_by": "change a force-new argument instead, or run destroy then apply",
}


@dataclass(frozen=True)
class Lifecycle:
    """What a lifecycle block asks for."""

    prevent_destroy: bool = False
    ignore_changes: frozenset[str] = frozenset()
    ignore_all: bool = False


def read(body: ast.Body) -> tuple[Lifecycle, list[Diagnostic]]:
    """The lifecycle settings of a resource body and the problems found in its lifecycle block."""
    blocks = body.blocks_of("lifecycle")
    if not blocks:
        return Lifecycle(), []
    problems: list[Diagnostic] = []
    block = blocks[0].body
    for nested in block.blocks:
        problems.append(
            error(
                nested.pos,
                f'"{nested.type}" blocks in lifecycle are not supported',
                "check the condition with a variable validation block instead",
            )
        )
    prevent = False
    ignored: set[str] = set()
    ignore_all = False
    for name, attr in block.attributes.items():
        if name == "prevent_destroy":
            prevent, bad = _literal_bool(attr)
            problems.extend(bad)
        elif name == "ignore_changes":
            ignore_all, ignored, bad = _ignore_list(attr)
            problems.extend(bad)
        else:
            hint = _UNSUPPORTED.get(name, "use prevent_destroy or ignore_changes")
            problems.append(error(attr.pos, f'lifecycle argument "{name}" is not supported', hint))
    return Lifecycle(prevent, frozenset(ignored), ignore_all), problems


def _literal_bool(attr: ast.Attribute) -> tuple[bool, list[Diagnostic]]:
    if isinstance(attr.expr, ast.Literal) and isinstance(attr.expr.value, bool):
        return attr.expr.value, []
    return False, [error(attr.pos, "prevent_destroy must be true or false", "write a literal bool")]


def _ignore_list(attr: ast.Attribute) -> tuple[bool, set[str], list[Diagnostic]]:
    expr = attr.expr
    if isinstance(expr, ast.Ref) and expr.name == "all":
        return True, set(), []
    if isinstance(expr, ast.Literal) and expr.value == "all":
        return True, set(), []
    if not isinstance(expr, ast.TupleExpr):
        return False, set(), [error(attr.pos, "ignore_changes must be a list of argument names or all", "")]
    names: set[str] = set()
    problems = []
    for item in expr.items:
        if isinstance(item, ast.Ref):
            names.add(item.name)
        else:
            problems.append(
                error(item.pos, "ignore_changes lists top-level argument names", "write e.g. [tags, description]")
            )
    return False, names, problems
