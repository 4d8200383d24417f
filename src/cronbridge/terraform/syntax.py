"""HCL2 text to our tree: python-hcl2's grammar parses, this converts, keeping file and line."""

from __future__ import annotations

from typing import Any

from hcl2.api import parses_to_tree
from hcl2.utils import process_escape_sequences
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from cronbridge.terraform import ast
from cronbridge.terraform.ast import Pos
from cronbridge.terraform.diagnostics import TerraformError

_SKIP = {"new_line_or_comment"}
_PUNCT = {
    "LPAR",
    "RPAR",
    "LSQB",
    "RSQB",
    "LBRACE",
    "RBRACE",
    "COMMA",
    "DOT",
    "EQ",
    "COLON",
    "QMARK",
    "DBLQUOTE",
    "INTERP_START",
    "FOR",
    "IN",
    "IF",
    "FOR_OBJECT_ARROW",
    "COLONS",
}


def parse_body(text: str, file: str) -> ast.Body:
    """Parse one .tf file into a Body; a syntax error names the file and line."""
    tree = _lark_parse(text, file, 0)
    return _Converter(file, 0).body(_kids(tree)[0])


def parse_expression(text: str, pos: Pos) -> ast.Expr:
    """Parse an expression written at `pos` (used for interpolations inside templates)."""
    tree = _lark_parse(f"__x = {text}\n", pos.file, pos.line - 1)
    attribute = _kids(_kids(tree)[0])[0]
    return _Converter(pos.file, pos.line - 1).expr(_kids(attribute)[-1])


def parse_template(text: str, pos: Pos) -> ast.Template:
    """Parse a template (heredoc body or templatefile content) with `${...}` interpolations."""
    parts: list[str | ast.Expr] = []
    i = 0
    literal: list[str] = []
    while i < len(text):
        if text.startswith("$${", i) or text.startswith("%%{", i):
            literal.append(text[i + 1 : i + 3])
            i += 3
        elif text.startswith("%{", i):
            raise TerraformError.at(
                _line_at(text, i, pos),
                "Template directive %{...} is not supported",
                "rewrite the directive with a for expression or a conditional",
            )
        elif text.startswith("${", i):
            end = _matching_brace(text, i + 2, pos)
            parts.extend(["".join(literal)] if literal else [])
            literal = []
            parts.append(parse_expression(text[i + 2 : end], _line_at(text, i, pos)))
            i = end + 1
        else:
            literal.append(text[i])
            i += 1
    parts.extend(["".join(literal)] if literal else [])
    return ast.Template(pos, tuple(parts))


def _line_at(text: str, index: int, pos: Pos) -> Pos:
    return Pos(pos.file, pos.line + text.count("\n", 0, index))


def _matching_brace(text: str, start: int, pos: Pos) -> int:
    depth, i, quote = 0, start, False
    while i < len(text):
        ch = text[i]
        if quote:
            i += 2 if ch == "\\" else 1
            quote = ch != '"' if ch != "\\" else True
            continue
        if ch == '"':
            quote = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise TerraformError.at(
        _line_at(text, start, pos),
        "Unterminated template interpolation",
        "close the `${` with a matching `}`",
    )


def _lark_parse(text: str, file: str, line_offset: int) -> Tree:
    try:
        return parses_to_tree(text)
    except UnexpectedInput as exc:
        line = (getattr(exc, "line", 0) or 0) + line_offset
        raise TerraformError.at(
            Pos(file, max(line, 1)),
            f"Invalid HCL syntax: {_short(exc)}",
            "correct the syntax at this line",
        ) from exc
    except LarkError as exc:
        raise TerraformError.at(
            Pos(file, max(line_offset, 1)),
            f"Invalid HCL syntax: {_short(exc)}",
            "correct the syntax",
        ) from exc


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:160]


def _kids(tree: Tree) -> list[Any]:
    """Children that carry meaning: no comments, newlines or punctuation."""
    out = []
    for child in tree.children:
        if isinstance(child, Tree) and child.data in _SKIP:
            continue
        if isinstance(child, Token) and child.type in _PUNCT:
            continue
        out.append(child)
    return out


class _Converter:
    """Turns one Lark tree into ast nodes, shifting lines by `offset`."""

    def __init__(self, file: str, offset: int) -> None:
        self.file = file
        self.offset = offset

    def pos(self, node: Tree | Token) -> Pos:
        line = node.line if isinstance(node, Token) else getattr(node.meta, "line", 1)
        return Pos(self.file, (line or 1) + self.offset)

    def body(self, tree: Tree) -> ast.Body:
        attributes: dict[str, ast.Attribute] = {}
        blocks: list[ast.Block] = []
        for child in _kids(tree):
            if child.data == "attribute":
                attr = self.attribute(child)
                if attr.name in attributes:
                    raise TerraformError.at(
                        attr.pos,
                        f'Duplicate argument "{attr.name}"',
                        f"remove one of the two `{attr.name} = ...` lines",
                    )
                attributes[attr.name] = attr
            else:
                blocks.append(self.block(child))
        return ast.Body(attributes, tuple(blocks))

    def attribute(self, tree: Tree) -> ast.Attribute:
        kids = _kids(tree)
        return ast.Attribute(self.name_of(kids[0]), self.expr(kids[-1]), self.pos(tree))

    def block(self, tree: Tree) -> ast.Block:
        kids = _kids(tree)
        names = [self.name_of(k) for k in kids[:-1]]
        return ast.Block(names[0], tuple(names[1:]), self.body(kids[-1]), self.pos(tree))

    def name_of(self, node: Tree | Token) -> str:
        if isinstance(node, Token):
            return str(node)
        if node.data == "string":
            return "".join(str(_kids(p)[0]) for p in _kids(node))
        return str(_kids(node)[0])

    def expr(self, node: Tree | Token) -> ast.Expr:
        if isinstance(node, Token):
            raise TerraformError.at(self.pos(node), f"Unsupported syntax {node.type}", "simplify it")
        handler = getattr(self, f"x_{node.data}", None)
        if handler is None:
            raise TerraformError.at(
                self.pos(node),
                f"Unsupported expression: {node.data}",
                "rewrite it with supported constructs (see docs/terraform.md)",
            )
        result: ast.Expr = handler(node)
        return result

    def x_expr_term(self, node: Tree) -> ast.Expr:
        return self.expr(_kids(node)[0])

    def x_identifier(self, node: Tree) -> ast.Expr:
        return ast.Ref(self.pos(node), str(_kids(node)[0]))

    def x_literal_value(self, node: Tree) -> ast.Expr:
        word = str(_kids(node)[0])
        return ast.Literal(self.pos(node), {"true": True, "false": False, "null": None}[word])

    def x_int_lit(self, node: Tree) -> ast.Expr:
        return ast.Literal(self.pos(node), int(str(_kids(node)[0])))

    def x_float_lit(self, node: Tree) -> ast.Expr:
        return ast.Literal(self.pos(node), float(str(_kids(node)[0])))

    def x_string(self, node: Tree) -> ast.Expr:
        parts: list[str | ast.Expr] = []
        for part in _kids(node):
            inner = _kids(part)[0]
            if isinstance(inner, Tree) and inner.data == "interpolation":
                parts.append(self.expr(_kids(inner)[0]))
            elif isinstance(inner, Tree):
                raise TerraformError.at(
                    self.pos(inner),
                    "Template directive %{...} is not supported",
                    "rewrite the directive with a for expression or conditional",
                )
            elif inner.type in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
                parts.append(str(inner)[1:])
            else:
                parts.append(process_escape_sequences(str(inner)))
        if all(isinstance(p, str) for p in parts):
            return ast.Literal(self.pos(node), "".join(str(p) for p in parts))
        return ast.Template(self.pos(node), tuple(parts))

    def x_heredoc_template(self, node: Tree) -> ast.Expr:
        return self._heredoc(node, trim=False)

    def x_heredoc_template_trim(self, node: Tree) -> ast.Expr:
        return self._heredoc(node, trim=True)

    def _heredoc(self, node: Tree, trim: bool) -> ast.Expr:
        raw = str(_kids(node)[0])
        lines = raw.split("\n")
        body_lines = lines[1:-2]
        if trim:
            indents = [len(x) - len(x.lstrip()) for x in body_lines if x.strip()]
            cut = min(indents, default=0)
            body_lines = [x[cut:] for x in body_lines]
        text = "\n".join(body_lines) + ("\n" if body_lines else "")
        start = self.pos(node)
        return parse_template(text, Pos(start.file, start.line + 1))

    def x_tuple(self, node: Tree) -> ast.Expr:
        return ast.TupleExpr(self.pos(node), tuple(self.expr(k) for k in _kids(node)))

    def x_object(self, node: Tree) -> ast.Expr:
        items = []
        for elem in _kids(node):
            key_node, value_node = _kids(elem)[0], _kids(elem)[-1]
            items.append((self.object_key(key_node), self.expr(value_node)))
        return ast.ObjectExpr(self.pos(node), tuple(items))

    def object_key(self, node: Tree) -> ast.Expr:
        inner = _kids(node)[0]
        if isinstance(inner, Tree) and inner.data == "keyword":
            return ast.Literal(self.pos(node), str(_kids(inner)[0]))
        key = self.expr(inner)
        if isinstance(key, ast.Ref):
            return ast.Literal(key.pos, key.name)
        return key

    def x_function_call(self, node: Tree) -> ast.Expr:
        kids = _kids(node)
        if len(kids) > 2 or (len(kids) == 2 and kids[1].data != "arguments"):
            raise TerraformError.at(
                self.pos(node),
                "Provider-defined functions are not supported",
                "use a built-in function instead",
            )
        name = self.name_of(kids[0])
        if len(kids) == 1:
            return ast.Call(self.pos(node), name, ())
        arg_nodes = _kids(kids[1])
        expand = bool(arg_nodes) and isinstance(arg_nodes[-1], Token)
        args = tuple(self.expr(a) for a in arg_nodes if isinstance(a, Tree))
        return ast.Call(self.pos(node), name, args, expand)

    def x_get_attr_expr_term(self, node: Tree) -> ast.Expr:
        obj, op = _kids(node)
        return self.apply_op(self.expr(obj), op)

    def x_index_expr_term(self, node: Tree) -> ast.Expr:
        obj, op = _kids(node)
        return self.apply_op(self.expr(obj), op)

    def x_attr_splat_expr_term(self, node: Tree) -> ast.Expr:
        return self._splat(node)

    def x_full_splat_expr_term(self, node: Tree) -> ast.Expr:
        return self._splat(node)

    def _splat(self, node: Tree) -> ast.Expr:
        obj, splat = _kids(node)
        each: ast.Expr = ast.Ref(self.pos(splat), "*")
        for op in _kids(splat):
            if isinstance(op, Tree):
                each = self.apply_op(each, op)
        return ast.Splat(self.pos(node), self.expr(obj), each)

    def apply_op(self, obj: ast.Expr, op: Tree) -> ast.Expr:
        pos = self.pos(op)
        if op.data == "get_attr":
            return ast.GetAttr(pos, obj, self.name_of(_kids(op)[0]))
        if op.data == "short_index":
            return ast.Index(pos, obj, ast.Literal(pos, int(str(_kids(op)[0]))))
        return ast.Index(pos, obj, self.expr(_kids(op)[0]))

    def x_unary_op(self, node: Tree) -> ast.Expr:
        op, operand = _kids(node)
        return ast.Unary(self.pos(node), str(op), self.expr(operand))

    def x_binary_op(self, node: Tree) -> ast.Expr:
        left, term = _kids(node)[:2]
        op_tree, right = _kids(term)[:2]
        return ast.Binary(self.pos(node), str(_kids(op_tree)[0]), self.expr(left), self.expr(right))

    def x_conditional(self, node: Tree) -> ast.Expr:
        cond, then, other = _kids(node)
        return ast.Conditional(self.pos(node), self.expr(cond), self.expr(then), self.expr(other))

    def _for_intro(self, node: Tree) -> tuple[str | None, str, ast.Expr]:
        kids = _kids(node)
        names = [self.name_of(k) for k in kids[:-1]]
        key_var = names[0] if len(names) == 2 else None
        return key_var, names[-1], self.expr(kids[-1])

    def _for_cond(self, kids: list[Any]) -> ast.Expr | None:
        last = kids[-1]
        if isinstance(last, Tree) and last.data == "for_cond":
            return self.expr(_kids(last)[0])
        return None

    def x_for_tuple_expr(self, node: Tree) -> ast.Expr:
        kids = _kids(node)
        key_var, value_var, coll = self._for_intro(kids[0])
        return ast.ForExpr(self.pos(node), key_var, value_var, coll, self.expr(kids[1]), cond=self._for_cond(kids))

    def x_for_object_expr(self, node: Tree) -> ast.Expr:
        kids = _kids(node)
        key_var, value_var, coll = self._for_intro(kids[0])
        grouping = any(isinstance(k, Token) and k.type == "ELLIPSIS" for k in kids)
        return ast.ForExpr(
            self.pos(node),
            key_var,
            value_var,
            coll,
            self.expr(kids[2]),
            key=self.expr(kids[1]),
            cond=self._for_cond(kids),
            grouping=grouping,
        )
