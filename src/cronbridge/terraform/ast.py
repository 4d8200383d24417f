"""The tree the Terraform reader builds (expressions, bodies, blocks); every node knows its line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pos:
    """Where a construct starts: a file path and a 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Expr:
    """Base of every expression node."""

    pos: Pos


@dataclass(frozen=True)
class Literal(Expr):
    """A number, string without interpolation, bool or null."""

    value: Any


@dataclass(frozen=True)
class Template(Expr):
    """A string made of literal parts and interpolated expressions."""

    parts: tuple[str | Expr, ...]


@dataclass(frozen=True)
class TupleExpr(Expr):
    """`[a, b, c]`."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class ObjectExpr(Expr):
    """`{ key = value, ... }`; a bare identifier key is a literal string."""

    items: tuple[tuple[Expr, Expr], ...]


@dataclass(frozen=True)
class Ref(Expr):
    """A root name: var, local, path, count, each, a resource type, or a for-variable."""

    name: str


@dataclass(frozen=True)
class GetAttr(Expr):
    """`obj.name`."""

    obj: Expr
    name: str


@dataclass(frozen=True)
class Index(Expr):
    """`obj[key]`."""

    obj: Expr
    key: Expr


@dataclass(frozen=True)
class Splat(Expr):
    """`obj[*].rest` or `obj.*.rest`: `rest` is applied to each element through Ref('*')."""

    obj: Expr
    each: Expr


@dataclass(frozen=True)
class Call(Expr):
    """`name(args...)`; `expand` when the last argument ends with `...`."""

    name: str
    args: tuple[Expr, ...]
    expand: bool = False


@dataclass(frozen=True)
class Unary(Expr):
    """`-x` or `!x`."""

    op: str
    operand: Expr


@dataclass(frozen=True)
class Binary(Expr):
    """`a op b`."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Conditional(Expr):
    """`cond ? a : b`."""

    cond: Expr
    then: Expr
    other: Expr


@dataclass(frozen=True)
class ForExpr(Expr):
    """`[for k, v in coll : value if cond]` or `{for k, v in coll : key => value...}`."""

    key_var: str | None
    value_var: str
    collection: Expr
    value: Expr
    key: Expr | None = None
    cond: Expr | None = None
    grouping: bool = False


@dataclass(frozen=True)
class Attribute:
    """`name = expr` inside a body."""

    name: str
    expr: Expr
    pos: Pos


@dataclass(frozen=True)
class Block:
    """`type "label" ... { body }`."""

    type: str
    labels: tuple[str, ...]
    body: Body
    pos: Pos


@dataclass(frozen=True)
class Body:
    """The attributes and nested blocks of a block or a file."""

    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: tuple[Block, ...] = ()

    def blocks_of(self, type_: str) -> list[Block]:
        """The nested blocks of one type, in source order."""
        return [b for b in self.blocks if b.type == type_]
