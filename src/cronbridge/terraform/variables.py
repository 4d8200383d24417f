"""Input variable values: defaults, terraform.tfvars, *.auto.tfvars, -var-file and -var, then
type conversion and validation rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cronbridge.terraform import ast
from cronbridge.terraform.config import Module, Variable
from cronbridge.terraform.diagnostics import Diagnostic, TerraformError, error
from cronbridge.terraform.evaluate import Evaluator
from cronbridge.terraform.syntax import parse_body, parse_expression
from cronbridge.terraform.values import convert, describe, to_bool, to_string


def read_tfvars(path: Path) -> dict[str, Any]:
    """The assignments of a .tfvars file (HCL with literal values) or a .tfvars.json file."""
    if path.name.endswith(".json"):
        return _read_json_tfvars(path)
    body = parse_body(path.read_text(encoding="utf-8"), str(path))
    evaluator = Evaluator({}, path.parent)
    return {name: evaluator.eval(attr.expr) for name, attr in body.attributes.items()}


def _read_json_tfvars(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TerraformError.at(ast.Pos(path.name, exc.lineno), f"Invalid JSON: {exc.msg}", "fix the JSON") from None
    if not isinstance(doc, dict):
        raise TerraformError.at(ast.Pos(path.name, 1), "A .tfvars.json file must hold an object", "write {...}")
    return doc


def gather(module: Module, cli_vars: dict[str, Any], var_files: list[Path]) -> dict[str, Any]:
    """Raw values in Terraform's order of precedence (later wins)."""
    values: dict[str, Any] = {}
    auto = [
        module.dir / "terraform.tfvars",
        module.dir / "terraform.tfvars.json",
        *sorted([*module.dir.glob("*.auto.tfvars"), *module.dir.glob("*.auto.tfvars.json")]),
    ]
    for path in [p for p in auto if p.exists()] + [Path(p) for p in var_files]:
        values.update(read_tfvars(path))
    for name, raw in cli_vars.items():
        values[name] = _cli_value(module.variables.get(name), raw)
    return values


def _cli_value(variable: Variable | None, raw: Any) -> Any:
    """-var name=value: a string, parsed as HCL when the variable's type is not a string."""
    if not isinstance(raw, str) or variable is None or variable.type in ("string", "any"):
        return raw
    try:
        return Evaluator({}, Path(".")).eval(parse_expression(raw, ast.Pos("<-var>", 1)))
    except TerraformError:
        return raw


def resolve(module: Module, raw: dict[str, Any]) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Final variable values (converted and validated) and the problems found."""
    values: dict[str, Any] = {}
    problems: list[Diagnostic] = []
    for name in raw:
        if name not in module.variables:
            problems.append(
                error(
                    ast.Pos("<variables>", 0),
                    f'Value for undeclared variable "{name}"',
                    f'declare it with `variable "{name}" {{}}` or remove the value',
                )
            )
    for name, variable in module.variables.items():
        value, found = _value_of(variable, raw, module.dir, problems)
        if found:
            values[name] = value
            problems.extend(_validate(variable, value, module.dir))
    return values, problems


def _value_of(variable: Variable, raw: dict[str, Any], base: Path, problems: list[Diagnostic]) -> tuple[Any, bool]:
    if variable.name in raw:
        value = raw[variable.name]
    elif variable.default is not None:
        value = Evaluator({}, base).eval(variable.default)
    else:
        problems.append(
            error(
                variable.pos,
                f'No value for required variable "{variable.name}"',
                f"set it with -var '{variable.name}=...', in terraform.tfvars, or give the variable a default",
            )
        )
        return None, False
    try:
        return convert(value, variable.type), True
    except ValueError as exc:
        problems.append(
            error(
                variable.pos,
                f'Invalid value for variable "{variable.name}": {exc}',
                f"give a {describe(variable.type)}",
            )
        )
        return None, False


def _validate(variable: Variable, value: Any, base: Path) -> list[Diagnostic]:
    evaluator = Evaluator({"var": {variable.name: value}}, base)
    problems = []
    for condition, message in variable.validations:
        try:
            ok = to_bool(evaluator.eval(condition))
            text = "" if ok else to_string(evaluator.eval(message))
        except (TerraformError, ValueError) as exc:
            problems.append(
                error(
                    condition.pos,
                    f"Invalid validation rule: {exc}",
                    "the condition must be a bool about this variable",
                )
            )
            continue
        if not ok:
            problems.append(
                error(
                    condition.pos,
                    f'Invalid value for variable "{variable.name}": {text}',
                    "change the value so the validation condition holds",
                )
            )
    return problems
