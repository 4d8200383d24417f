"""Terraform's built-in functions that cronbridge supports; each takes evaluated arguments."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cronbridge.terraform.values import UNKNOWN, json_text, to_number, to_string, type_name


@dataclass(frozen=True)
class FunctionContext:
    """What functions may see: the module folder and how to render a template file."""

    base_dir: Path
    render_template: Callable[[str, str, dict[str, Any]], Any]
    unknown_text: str | None = None


Function = Callable[[FunctionContext, list[Any]], Any]


def read_text(ctx: FunctionContext, path: Any) -> str:
    """Read a file named relative to the module folder."""
    full = Path(to_string(path))
    full = full if full.is_absolute() else ctx.base_dir / full
    try:
        return full.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f'no file exists at "{path}": {exc.strerror}') from None


def _file(ctx: FunctionContext, args: list[Any]) -> Any:
    return read_text(ctx, args[0])


def _templatefile(ctx: FunctionContext, args: list[Any]) -> Any:
    variables = args[1] if len(args) > 1 else {}
    if not isinstance(variables, dict):
        raise ValueError("the second argument must be an object of template variables")
    return ctx.render_template(to_string(args[0]), read_text(ctx, args[0]), variables)


def _jsonencode(ctx: FunctionContext, args: list[Any]) -> Any:
    if ctx.unknown_text is None and _has_unknown(args[0]):
        return UNKNOWN
    return json_text(args[0], ctx.unknown_text)


def _jsondecode(ctx: FunctionContext, args: list[Any]) -> Any:
    try:
        return json.loads(to_string(args[0]))
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} at line {exc.lineno}") from None


_VERB = re.compile(r"%(%|#?[-+ 0]*\d*(?:\.\d+)?[a-zA-Z])")


def _format(ctx: FunctionContext, args: list[Any]) -> Any:
    values = list(args[1:])

    def one(match: re.Match[str]) -> str:
        spec = match.group(1)
        if spec == "%":
            return "%"
        if not values:
            raise ValueError("not enough arguments for the format string")
        return _format_verb(spec, values.pop(0))

    return _VERB.sub(one, to_string(args[0]))


def _format_verb(spec: str, value: Any) -> str:
    verb = spec[-1]
    if verb == "v":
        return json_text(value) if spec.startswith("#") or isinstance(value, list | dict) else to_string(value)
    if verb == "q":
        return json.dumps(to_string(value))
    if verb == "s":
        return ("%" + spec) % to_string(value)
    if verb in "dfeEgGxXob":
        number = to_number(value)
        return ("%" + spec) % (int(number) if verb in "dxXob" else number)
    raise ValueError(f"unsupported format verb %{verb}")


def _join(ctx: FunctionContext, args: list[Any]) -> Any:
    items = [x for lst in args[1:] for x in _as_list(lst)]
    return to_string(args[0]).join(to_string(x) for x in items)


def _split(ctx: FunctionContext, args: list[Any]) -> Any:
    return to_string(args[1]).split(to_string(args[0]))


def _lookup(ctx: FunctionContext, args: list[Any]) -> Any:
    mapping = args[0]
    if not isinstance(mapping, dict):
        raise ValueError(f"lookup needs a map, got {type_name(mapping)}")
    key = to_string(args[1])
    if key in mapping:
        return mapping[key]
    if len(args) > 2:
        return args[2]
    raise ValueError(f'the given key "{key}" does not exist in the map')


def _merge(ctx: FunctionContext, args: list[Any]) -> Any:
    out: dict[str, Any] = {}
    for arg in args:
        if arg is None:
            continue
        if not isinstance(arg, dict):
            raise ValueError(f"merge needs maps or objects, got {type_name(arg)}")
        out.update(arg)
    return out


def _concat(ctx: FunctionContext, args: list[Any]) -> Any:
    return [x for arg in args for x in _as_list(arg)]


def _length(ctx: FunctionContext, args: list[Any]) -> Any:
    value = args[0]
    if isinstance(value, str | list | dict):
        return len(value)
    raise ValueError(f"length needs a string, list or map, got {type_name(value)}")


def _replace(ctx: FunctionContext, args: list[Any]) -> Any:
    text, search, repl = (to_string(a) for a in args)
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        pattern = re.compile(search[1:-1])
        return pattern.sub(re.sub(r"\$\{?(\d+)\}?", r"\\g<\1>", repl), text)
    return text.replace(search, repl)


def _tostring(ctx: FunctionContext, args: list[Any]) -> Any:
    return None if args[0] is None else to_string(args[0])


def _tonumber(ctx: FunctionContext, args: list[Any]) -> Any:
    return None if args[0] is None else to_number(args[0])


def _coalesce(ctx: FunctionContext, args: list[Any]) -> Any:
    for arg in args:
        if arg is not None and arg != "":
            return arg
    raise ValueError("no non-null, non-empty-string arguments")


def _as_list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"a list is required, got {type_name(value)}")
    return value


def _has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return False


FUNCTIONS: dict[str, tuple[Function, int, int | None]] = {
    "file": (_file, 1, 1),
    "templatefile": (_templatefile, 2, 2),
    "jsonencode": (_jsonencode, 1, 1),
    "jsondecode": (_jsondecode, 1, 1),
    "format": (_format, 1, None),
    "join": (_join, 2, None),
    "split": (_split, 2, 2),
    "lookup": (_lookup, 2, 3),
    "merge": (_merge, 0, None),
    "concat": (_concat, 0, None),
    "length": (_length, 1, 1),
    "replace": (_replace, 3, 3),
    "lower": (lambda ctx, a: to_string(a[0]).lower(), 1, 1),
    "upper": (lambda ctx, a: to_string(a[0]).upper(), 1, 1),
    "tostring": (_tostring, 1, 1),
    "tonumber": (_tonumber, 1, 1),
    "coalesce": (_coalesce, 1, None),
}
"""name -> (implementation, fewest arguments, most or None); `try` lives in the evaluator."""

LENIENT_ON_UNKNOWN = {"jsonencode", "templatefile", "merge", "concat", "length"}
"""Functions that handle unknown arguments themselves instead of returning unknown outright."""
