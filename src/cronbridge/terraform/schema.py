"""Resource schemas (arguments, nested blocks, defaults, computed and force-new attributes) and
evaluating a resource body against its schema, one diagnostic per bad argument."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cronbridge.terraform import ast
from cronbridge.terraform.diagnostics import Diagnostic, TerraformError, error
from cronbridge.terraform.evaluate import Evaluator
from cronbridge.terraform.values import UNKNOWN, Type, convert, describe

META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle"}


@dataclass(frozen=True)
class Attr:
    """One argument or attribute of a resource, as the AWS provider documents it."""

    type: Type = "string"
    required: bool = False
    optional: bool = True
    computed: bool = False
    default: Any = None
    force_new: bool = False
    json: bool = False

    @property
    def configurable(self) -> bool:
        """False for read-only attributes (arn, id...)."""
        return self.required or self.optional


def computed(type_: Type = "string") -> Attr:
    """A read-only attribute set by AWS."""
    return Attr(type_, optional=False, computed=True)


def required(type_: Type = "string", force_new: bool = False, json: bool = False) -> Attr:
    """An argument the configuration must give."""
    return Attr(type_, required=True, optional=False, force_new=force_new, json=json)


def optional_computed(type_: Type = "string", force_new: bool = False) -> Attr:
    """An argument AWS fills in when the configuration leaves it out (e.g. a generated name)."""
    return Attr(type_, computed=True, force_new=force_new)


@dataclass(frozen=True)
class BlockSpec:
    """A body: its arguments and nested blocks (stored as lists of objects, as Terraform does)."""

    attrs: dict[str, Attr]
    blocks: dict[str, BlockSpec] = field(default_factory=dict)
    max_items: int | None = None
    required: bool = False
    force_new: bool = False


def normalize_json(text: Any) -> Any:
    """JSON text in a canonical compact form, so formatting changes are not diffs."""
    if not isinstance(text, str):
        return text
    try:
        return json.dumps(json.loads(text), separators=(",", ":"), sort_keys=False)
    except json.JSONDecodeError:
        return text


class BodyEvaluator:
    """Evaluates a resource body against its schema, collecting diagnostics instead of stopping."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator
        self.diagnostics: list[Diagnostic] = []

    def block(self, body: ast.Body, spec: BlockSpec, pos: ast.Pos, top: bool = True) -> dict[str, Any]:
        """All schema attributes: configured values converted, defaults filled, computed unknown."""
        self._reject_unknown(body, spec, top)
        values = {name: self.attribute(body, name, attr, pos) for name, attr in spec.attrs.items()}
        for name, child in spec.blocks.items():
            values[name] = self.nested(body, name, child, pos)
        return values

    def attribute(self, body: ast.Body, name: str, attr: Attr, pos: ast.Pos) -> Any:
        node = body.attributes.get(name)
        if node is None:
            if attr.required:
                self.diagnostics.append(
                    error(
                        pos,
                        f'Missing required argument "{name}"',
                        f"add `{name} = ...` ({describe(attr.type)})",
                    )
                )
                return UNKNOWN
            return UNKNOWN if attr.computed and attr.default is None else attr.default
        if not attr.configurable:
            self.diagnostics.append(
                error(
                    node.pos,
                    f'Invalid argument "{name}": it is read-only',
                    f"remove `{name}`: AWS sets it",
                )
            )
            return UNKNOWN
        return self._value(node, attr)

    def _value(self, node: ast.Attribute, attr: Attr) -> Any:
        try:
            value = self.evaluator.eval(node.expr)
        except TerraformError as exc:
            self.diagnostics.extend(exc.diagnostics)
            return UNKNOWN
        try:
            value = convert(value, attr.type)
        except ValueError as exc:
            self.diagnostics.append(
                error(
                    node.pos,
                    f'Inappropriate value for attribute "{node.name}": {describe(attr.type)} required',
                    _type_hint(node.name, attr.type, str(exc)),
                )
            )
            return UNKNOWN
        return normalize_json(value) if attr.json else value

    def nested(self, body: ast.Body, name: str, spec: BlockSpec, pos: ast.Pos) -> list[Any]:
        blocks = body.blocks_of(name)
        if spec.required and not blocks:
            self.diagnostics.append(error(pos, f'Missing required block "{name}"', f"add a `{name} {{ ... }}` block"))
        if spec.max_items is not None and len(blocks) > spec.max_items:
            self.diagnostics.append(
                error(
                    blocks[spec.max_items].pos,
                    f'Too many "{name}" blocks',
                    f"keep at most {spec.max_items}",
                )
            )
        return [self.block(b.body, spec, b.pos, top=False) for b in blocks]

    def _reject_unknown(self, body: ast.Body, spec: BlockSpec, top: bool) -> None:
        allowed = set(spec.attrs) | (META_ARGUMENTS if top else set())
        for name, node in body.attributes.items():
            if name not in allowed:
                self.diagnostics.append(
                    error(
                        node.pos,
                        f'Unsupported argument "{name}"',
                        "remove it or use one of: " + ", ".join(sorted(spec.attrs)),
                    )
                )
        for block in body.blocks:
            if block.type not in spec.blocks and not (top and block.type in ("lifecycle", "provisioner", "connection")):
                what = (
                    "Dynamic blocks are not supported"
                    if block.type == "dynamic"
                    else f'Unsupported block type "{block.type}"'
                )
                self.diagnostics.append(
                    error(
                        block.pos,
                        what,
                        "write the blocks out, or remove it"
                        if block.type == "dynamic"
                        else "use one of: " + ", ".join(sorted(spec.blocks)) or "none",
                    )
                )


def _type_hint(name: str, type_: Type, reason: str) -> str:
    if isinstance(type_, tuple) and type_[0] in ("list", "set"):
        return f'{reason}; write a list: {name} = ["..."]'
    return f"{reason}; give a {describe(type_)}"


def configured_view(values: dict[str, Any], spec: BlockSpec) -> dict[str, Any]:
    """Only the arguments the configuration decides (what a plan compares)."""
    out: dict[str, Any] = {}
    for name, attr in spec.attrs.items():
        value = values.get(name)
        if attr.configurable and not (attr.computed and value is UNKNOWN):
            out[name] = value
    for name, child in spec.blocks.items():
        out[name] = [configured_view(v, child) for v in values.get(name) or []]
    return out
