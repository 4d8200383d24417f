"""The expression evaluator: ast nodes and a scope of roots (var, local, resources) give values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cronbridge.terraform import ast
from cronbridge.terraform.diagnostics import TerraformError
from cronbridge.terraform.functions import FUNCTIONS, LENIENT_ON_UNKNOWN, FunctionContext
from cronbridge.terraform.syntax import parse_template
from cronbridge.terraform.values import (
    UNKNOWN,
    is_unknown,
    to_bool,
    to_number,
    to_string,
    type_name,
)

_ROOT_HINTS = {
    "var": (
        "input variable",
        'declare it with `variable "{name}" {{ type = string }}` and set it with -var, a .tfvars file or a default',
    ),
    "local": ("local value", "define it in a `locals { {name} = ... }` block"),
}


class Evaluator:
    """Evaluates expressions against named roots; `unknown_text` makes unknowns text."""

    def __init__(self, roots: Mapping[str, Any], base_dir: Path, unknown_text: str | None = None) -> None:
        self.roots = roots
        self.base_dir = base_dir
        self.unknown_text = unknown_text
        self.functions = FunctionContext(base_dir, self._render_template, unknown_text)

    def with_roots(self, extra: Mapping[str, Any]) -> Evaluator:
        """A child evaluator that also sees `extra` roots (for-variables, count, each)."""
        return Evaluator({**self.roots, **extra}, self.base_dir, self.unknown_text)

    def eval(self, node: ast.Expr) -> Any:
        """The value of an expression; raise TerraformError with the node's file and line."""
        method: Callable[[Any], Any] = getattr(self, f"_{type(node).__name__}")
        try:
            return method(node)
        except ValueError as exc:
            raise TerraformError.at(node.pos, str(exc), _hint_for(node)) from None

    def _Literal(self, node: ast.Literal) -> Any:
        return node.value

    def _Template(self, node: ast.Template) -> Any:
        if len(node.parts) == 1 and isinstance(node.parts[0], ast.Expr):
            return self.eval(node.parts[0])
        pieces = []
        for part in node.parts:
            value = part if isinstance(part, str) else self.eval(part)
            if value is UNKNOWN or is_unknown(value):
                if self.unknown_text is None:
                    return UNKNOWN
                value = self.unknown_text
            if value is None:
                raise ValueError("cannot include a null value in a string template")
            pieces.append(to_string(value))
        return "".join(pieces)

    def _TupleExpr(self, node: ast.TupleExpr) -> Any:
        return [self.eval(item) for item in node.items]

    def _ObjectExpr(self, node: ast.ObjectExpr) -> Any:
        out = {}
        for key_node, value_node in node.items:
            key = self.eval(key_node)
            if key is UNKNOWN:
                return UNKNOWN
            out[to_string(key)] = self.eval(value_node)
        return out

    def _Ref(self, node: ast.Ref) -> Any:
        if node.name not in self.roots:
            raise TerraformError.at(
                node.pos,
                f'Reference to undeclared name "{node.name}"',
                "declare the resource, variable or local it names, or fix the spelling",
            )
        return self.roots[node.name]

    def _GetAttr(self, node: ast.GetAttr) -> Any:
        obj = self.eval(node.obj)
        if obj is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, dict) and node.name in obj:
            return obj[node.name]
        raise _missing_attribute(node, obj)

    def _Index(self, node: ast.Index) -> Any:
        obj, key = self.eval(node.obj), self.eval(node.key)
        if obj is UNKNOWN or key is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, list):
            index = int(to_number(key))
            if not 0 <= index < len(obj):
                raise ValueError(f"index {index} out of range for a list of {len(obj)} elements")
            return obj[index]
        if isinstance(obj, dict):
            if to_string(key) not in obj:
                raise ValueError(f'the given key "{key}" does not identify an element')
            return obj[to_string(key)]
        raise ValueError(f"cannot index a {type_name(obj)}")

    def _Splat(self, node: ast.Splat) -> Any:
        obj = self.eval(node.obj)
        if obj is UNKNOWN:
            return UNKNOWN
        items = obj if isinstance(obj, list) else ([] if obj is None else [obj])
        return [self.with_roots({"*": item}).eval(node.each) for item in items]

    def _Call(self, node: ast.Call) -> Any:
        if node.name == "try":
            return self._try(node)
        if node.name not in FUNCTIONS:
            raise TerraformError.at(
                node.pos,
                f'Call to unsupported function "{node.name}"',
                "use one of: try, " + ", ".join(sorted(FUNCTIONS)),
            )
        impl, least, most = FUNCTIONS[node.name]
        args = self._arguments(node)
        if len(args) < least or (most is not None and len(args) > most):
            raise ValueError(f"{node.name}() takes {least}..{most or 'any'} arguments, got {len(args)}")
        if any(a is UNKNOWN for a in args) or (
            node.name not in LENIENT_ON_UNKNOWN and any(is_unknown(a) for a in args)
        ):
            return UNKNOWN
        return impl(self.functions, args)

    def _arguments(self, node: ast.Call) -> list[Any]:
        args = [self.eval(a) for a in node.args]
        if node.expand and args:
            last = args.pop()
            if not isinstance(last, list):
                raise ValueError("only a list can be expanded with `...`")
            args.extend(last)
        return args

    def _try(self, node: ast.Call) -> Any:
        for arg in node.args:
            try:
                return self.eval(arg)
            except TerraformError:
                continue
        raise ValueError("no expression given to try() could be evaluated without an error")

    def _Unary(self, node: ast.Unary) -> Any:
        value = self.eval(node.operand)
        if value is UNKNOWN:
            return UNKNOWN
        return -to_number(value) if node.op == "-" else not to_bool(value)

    def _Binary(self, node: ast.Binary) -> Any:
        left = self.eval(node.left)
        if node.op in ("&&", "||") and left is not UNKNOWN and to_bool(left) == (node.op == "||"):
            return node.op == "||"
        right = self.eval(node.right)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        return _binary(node.op, left, right)

    def _Conditional(self, node: ast.Conditional) -> Any:
        cond = self.eval(node.cond)
        if cond is UNKNOWN:
            return UNKNOWN
        return self.eval(node.then if to_bool(cond) else node.other)

    def _ForExpr(self, node: ast.ForExpr) -> Any:
        coll = self.eval(node.collection)
        if coll is UNKNOWN:
            return UNKNOWN
        pairs = list(coll.items()) if isinstance(coll, dict) else list(enumerate(_as_list(coll)))
        if node.key is None:
            return [self._for_one(node, k, v, node.value) for k, v in pairs if self._for_keep(node, k, v)]
        out: dict[str, Any] = {}
        for k, v in pairs:
            if not self._for_keep(node, k, v):
                continue
            key = to_string(self._for_one(node, k, v, node.key))
            value = self._for_one(node, k, v, node.value)
            if node.grouping:
                out.setdefault(key, []).append(value)
            elif key in out:
                raise ValueError(f'duplicate object key "{key}"; add `...` to group values')
            else:
                out[key] = value
        return out

    def _for_scope(self, node: ast.ForExpr, key: Any, value: Any) -> Evaluator:
        extra = {node.value_var: value}
        if node.key_var:
            extra[node.key_var] = key
        return self.with_roots(extra)

    def _for_one(self, node: ast.ForExpr, key: Any, value: Any, expr: ast.Expr) -> Any:
        return self._for_scope(node, key, value).eval(expr)

    def _for_keep(self, node: ast.ForExpr, key: Any, value: Any) -> bool:
        return node.cond is None or to_bool(self._for_one(node, key, value, node.cond))

    def _render_template(self, path: str, text: str, variables: dict[str, Any]) -> Any:
        rel = _relative(self.base_dir, path)
        template = parse_template(text, ast.Pos(rel, 1))
        child = Evaluator(variables, self.base_dir, self.unknown_text)
        return child.eval(template) if template.parts else ""


def _relative(base: Path, path: str) -> str:
    full = Path(path) if Path(path).is_absolute() else base / path
    try:
        return str(full.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(full)


def _as_list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"a for expression needs a list, set or map, got {type_name(value)}")
    return value


def _binary(op: str, left: Any, right: Any) -> Any:
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op in ("&&", "||"):
        return to_bool(left) and to_bool(right) if op == "&&" else to_bool(left) or to_bool(right)
    a, b = to_number(left), to_number(right)
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "+": lambda x, y: x + y,
        "-": lambda x, y: x - y,
        "*": lambda x, y: x * y,
        "/": lambda x, y: x / y,
        "%": lambda x, y: x % y,
        "<": lambda x, y: x < y,
        ">": lambda x, y: x > y,
        "<=": lambda x, y: x <= y,
        ">=": lambda x, y: x >= y,
    }
    if op in ("/", "%") and b == 0:
        raise ValueError("division by zero")
    result = ops[op](a, b)
    return int(result) if isinstance(result, float) and result.is_integer() and op != "/" else result


def _missing_attribute(node: ast.GetAttr, obj: Any) -> TerraformError:
    root = node.obj.name if isinstance(node.obj, ast.Ref) else None
    if root in _ROOT_HINTS:
        what, hint = _ROOT_HINTS[root]
        return TerraformError.at(
            node.pos,
            f'Reference to undeclared {what} "{root}.{node.name}"',
            hint.replace("{name}", node.name).replace("{{", "{").replace("}}", "}"),
        )
    if isinstance(node.obj, ast.Ref) and isinstance(obj, dict):
        return TerraformError.at(
            node.pos,
            f'Reference to undeclared resource "{root}.{node.name}"',
            f'declare `resource "{root}" "{node.name}"` or fix the name',
        )
    if isinstance(obj, dict):
        return TerraformError.at(
            node.pos,
            f'Unsupported attribute "{node.name}"',
            "use one of: " + ", ".join(sorted(obj)[:12]),
        )
    return TerraformError.at(
        node.pos,
        f'Cannot read attribute "{node.name}" of a {type_name(obj)}',
        "check the expression before the dot",
    )


def _hint_for(node: ast.Expr) -> str:
    if isinstance(node, ast.Call):
        return f"check the arguments of {node.name}()"
    return "check the types of the values in this expression"
