"""Dependencies between variables, locals, resources, data sources and outputs, and their order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields

from cronbridge.terraform import ast
from cronbridge.terraform.config import Module
from cronbridge.terraform.diagnostics import TerraformError


def walk(node: object) -> Iterator[ast.Expr]:
    """Every expression node under `node` (an expression, attribute or body), depth first."""
    if isinstance(node, ast.Body):
        for attr in node.attributes.values():
            yield from walk(attr.expr)
        for block in node.blocks:
            yield from walk(block.body)
        return
    if not isinstance(node, ast.Expr):
        return
    yield node
    for f in fields(node):
        value = getattr(node, f.name)
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            for sub in item if isinstance(item, tuple) else (item,):
                if isinstance(sub, ast.Expr):
                    yield from walk(sub)


def _chain(node: ast.Expr) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"]; None when the expression is not a plain traversal."""
    names: list[str] = []
    while isinstance(node, ast.GetAttr | ast.Index):
        if isinstance(node, ast.GetAttr):
            names.insert(0, node.name)
        else:
            names = []
        node = node.obj
    return [node.name, *names] if isinstance(node, ast.Ref) else None


def references(node: object, module: Module) -> set[str]:
    """Graph node ids referenced: var.x, local.x, type.name, data.type.name."""
    found: set[str] = set()
    for expr in walk(node):
        chain = _chain(expr)
        if not chain or len(chain) < 2:
            continue
        if chain[0] in ("var", "local"):
            found.add(f"{chain[0]}.{chain[1]}")
        elif chain[0] == "data" and len(chain) >= 3:
            found.add(f"data.{chain[1]}.{chain[2]}")
        elif f"{chain[0]}.{chain[1]}" in module.resources:
            found.add(f"{chain[0]}.{chain[1]}")
    return found


def depends_on(attr: ast.Attribute | None) -> set[str]:
    """The addresses named in a depends_on list."""
    if attr is None:
        return set()
    if not isinstance(attr.expr, ast.TupleExpr):
        raise TerraformError.at(
            attr.pos,
            "depends_on must be a list of resource references",
            "write depends_on = [aws_x.name]",
        )
    out = set()
    for item in attr.expr.items:
        chain = _chain(item)
        if not chain:
            raise TerraformError.at(item.pos, "Invalid depends_on entry", "name a resource: aws_x.name")
        out.add(".".join(chain[:3] if chain[0] == "data" else chain[:2]))
    return out


def build(module: Module) -> dict[str, set[str]]:
    """node id -> the node ids it depends on."""
    graph: dict[str, set[str]] = {f"var.{name}": set() for name in module.variables}
    for name, attr in module.locals.items():
        graph[f"local.{name}"] = references(attr.expr, module)
    for address, config in module.resources.items():
        graph[address] = references(config.body, module) | depends_on(config.meta("depends_on"))
        graph[address].discard(address)
    for name, attr in module.outputs.items():
        graph[f"output.{name}"] = references(attr.expr, module)
    return graph


def order(graph: dict[str, set[str]]) -> list[str]:
    """A topological order (dependencies first, ties by name); a cycle is an error naming it."""
    done: list[str] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = path[path.index(node) :] + [node]
            raise TerraformError.at(
                ast.Pos("<graph>", 0),
                "Cycle: " + " -> ".join(cycle),
                "break the loop: one of these must not refer to the next",
            )
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if dep in graph:
                visit(dep, [*path, node])
        state[node] = 2
        done.append(node)

    for node in sorted(graph):
        visit(node, [])
    return done
