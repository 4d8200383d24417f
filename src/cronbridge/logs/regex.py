"""PURE. CloudWatch Logs' regular-expression subset (`%...%`) and wildcards, compiled for RE2: linear time, never
backtracking, so no pattern can hold a thread (and the GIL) for long."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import re2

from cronbridge.errors import InvalidParameter

MAX_PER_PATTERN = 2  # regular expressions in one JSON or space-delimited filter pattern (AWS's quota)
MAX_PROGRAM = 1100  # RE2 instructions: a 1,000-character literal fits, `.{999}x` (8,000) does not
PROGRAM_PER_WEIGHT = 25  # RE2 falls back to its NFA (time ~ message x program) on patterns its DFA cannot hold
_ALLOWED = re.compile(r"[A-Za-z0-9:_#=@/;,\- ^$?\[\]{}|\\*+.]+")  # AWS's characters: no ( ), nothing multi-byte
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is the caller's mistake, not a line in the server log

Test = Callable[[str], bool]


@dataclass(frozen=True)
class Search:
    """A compiled `%regex%`: `test` says whether it occurs in a string; `weight` what that costs per character."""

    test: Test
    weight: int


def search(body: str) -> Search:
    """The expression between the `%` signs; InvalidParameter when AWS would refuse the expression or RE2 cannot
    build it small enough (a repetition over 1000, a program over MAX_PROGRAM instructions)."""
    if not _ALLOWED.fullmatch(body):
        raise InvalidParameter("Invalid filter pattern")
    try:
        compiled = re2.compile(body, _OPTIONS)
    except re2.error as exc:
        raise InvalidParameter("Invalid filter pattern") from exc
    if compiled.programsize > MAX_PROGRAM:
        raise InvalidParameter("Invalid filter pattern: the regular expression is too complex")
    return Search(lambda text: compiled.search(text) is not None, 1 + compiled.programsize // PROGRAM_PER_WEIGHT)


def glob(text: str) -> Test:
    """Whether a whole string matches a wildcard value (`ERR*`, `123.123.*`): `*` is any run of characters."""
    if "*" not in text:
        return lambda actual: actual == text
    compiled = re2.compile("(?s)" + ".*".join(re2.escape(part) for part in text.split("*")), _OPTIONS)
    return lambda actual: compiled.fullmatch(actual) is not None
