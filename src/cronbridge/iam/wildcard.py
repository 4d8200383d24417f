"""IAM wildcards, matched without regular expressions: `*` and `?` in actions, ARNs and strings."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

STAR: Final = object()
ONE: Final = object()
Token = str | object  # a single literal character, STAR or ONE

_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True)
class Pattern:
    """A compiled wildcard pattern: literal characters and the STAR / ONE markers."""

    tokens: tuple[Token, ...]

    def matches(self, value: str, *, case_sensitive: bool = True) -> bool:
        """Whether `value` matches the whole pattern."""
        plain = self._plain
        if plain is not None:
            return plain == value if case_sensitive else plain.lower() == value.lower()
        return glob_match(self.tokens, value, case_sensitive)

    def matches_arn(self, value: str) -> bool:
        """Segment-wise ARN match: wildcards stay inside a segment, except in the last one."""
        if self.tokens == (STAR,):
            return True
        segments = self._segments
        parts = value.split(":", len(segments) - 1)
        if len(parts) != len(segments):
            return False
        for (tokens, plain), part in zip(segments, parts, strict=True):
            if plain is not None and plain != part or plain is None and not glob_match(tokens, part, True):
                return False
        return True

    @functools.cached_property
    def _plain(self) -> str | None:
        """The text, when the pattern has no wildcard (then matching is comparing)."""
        return _plain(self.tokens)

    @functools.cached_property
    def _segments(self) -> list[tuple[list[Token], str | None]]:
        """The ARN segments (each with its plain text when it has no wildcard), split once."""
        return [(segment, _plain(segment)) for segment in _split(self.tokens, ":", 5)]


def _plain(tokens: Sequence[Token]) -> str | None:
    return "".join(t for t in tokens if isinstance(t, str)) if all(isinstance(t, str) for t in tokens) else None


def literal(text: str) -> Pattern:
    """A pattern matching `text` only (its `*` and `?` are plain characters)."""
    return Pattern(tuple(text))


def compile_pattern(text: str, variables: Mapping[str, str | list[str]] | None = None
                    ) -> Pattern | None:
    """`text` with `*`/`?` as wildcards and `${var}` substituted literally; None if unresolved.

    With `variables` None, `${...}` is kept as plain text (policy version 2008-10-17).
    """
    if variables is None or "${" not in text:
        return _compiled(text, variables is None)
    return _compile(text, variables)


@functools.lru_cache(maxsize=4096)
def _compiled(text: str, plain_dollars: bool) -> Pattern | None:
    """A pattern without variables to substitute, compiled once (policies are evaluated again and again)."""
    return _compile(text, None if plain_dollars else {})


def _compile(text: str, variables: Mapping[str, str | list[str]] | None) -> Pattern | None:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "$" and text.startswith("${", i) and variables is not None:
            end = text.find("}", i)
            if end == -1:
                tokens.extend(text[i:])
                break
            value = resolve_variable(text[i + 2:end], variables)
            if value is None:
                return None
            tokens.extend(value)
            i = end + 1
            continue
        tokens.append(STAR if char == "*" else ONE if char == "?" else char)
        i += 1
    return Pattern(tuple(tokens))


def resolve_variable(body: str, variables: Mapping[str, str | list[str]]) -> str | None:
    """The value of `${body}`: an escape, a single-valued key, or the `, 'default'` fallback."""
    name, comma, default = body.partition(",")
    name = name.strip()
    if name in _ESCAPES:
        return _ESCAPES[name]
    value = _lookup(variables, name)
    if isinstance(value, str):
        return value
    if comma:
        fallback = default.strip()
        if len(fallback) >= 2 and fallback[0] == fallback[-1] == "'":
            return fallback[1:-1]
    return None


def _lookup(variables: Mapping[str, str | list[str]], name: str) -> str | list[str] | None:
    lowered = name.lower()
    for key, value in variables.items():
        if key.lower() == lowered:
            return value
    return None


def glob_match(tokens: Sequence[Token], value: str, case_sensitive: bool) -> bool:
    """Iterative wildcard match with single-star backtracking: linear space, no regex."""
    if not case_sensitive:
        tokens = [t.lower() if isinstance(t, str) else t for t in tokens]
        value = value.lower()
    t = v = 0
    star_t, star_v = -1, 0
    while v < len(value):
        if t < len(tokens) and (tokens[t] is ONE or tokens[t] == value[v]):
            t, v = t + 1, v + 1
        elif t < len(tokens) and tokens[t] is STAR:
            star_t, star_v = t, v
            t += 1
        elif star_t != -1:
            t, star_v = star_t + 1, star_v + 1
            v = star_v
        else:
            return False
    while t < len(tokens) and tokens[t] is STAR:
        t += 1
    return t == len(tokens)


def _split(tokens: tuple[Token, ...], separator: str, maxsplit: int) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    for token in tokens:
        if token == separator and len(parts) <= maxsplit:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts
