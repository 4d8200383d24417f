"""A JSON token cursor over pattern text that reports where it is as Jackson does (EventBridge's error locations)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z0-9_$.+\-]+")
_SPACE = " \t\r\n"
_STRING_END = re.compile(r'(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
SOURCE_LIMIT = 500


class Token(Enum):
    """Jackson's JsonToken kinds (the ones a pattern can hold)."""

    START_OBJECT = "START_OBJECT"
    END_OBJECT = "END_OBJECT"
    START_ARRAY = "START_ARRAY"
    END_ARRAY = "END_ARRAY"
    FIELD_NAME = "FIELD_NAME"
    STRING = "VALUE_STRING"
    INT = "VALUE_NUMBER_INT"
    FLOAT = "VALUE_NUMBER_FLOAT"
    TRUE = "VALUE_TRUE"
    FALSE = "VALUE_FALSE"
    NULL = "VALUE_NULL"
    END = "END"

    @property
    def numeric(self) -> bool:
        return self in (Token.INT, Token.FLOAT)


class PatternSyntaxError(Exception):
    """A pattern the compiler refuses: the reason and Jackson's location text (empty when AWS gives none)."""

    def __init__(self, reason: str, location: str = "") -> None:
        super().__init__(reason + location)
        self.reason = reason
        self.location = location


@dataclass(frozen=True)
class _Lexeme:
    token: Token
    text: str
    start: int  # offset of the token's first character
    end: int  # offset after its last character


class Cursor:
    """Jackson's streaming parser, as far as pattern compilation sees it: tokens in order, a current location.

    Like Jackson's reader, a field name is read together with the start of its value (the location moves past
    the colon and the value's first token), and a string's location stays after its opening quote until its
    text is asked for.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.loc = 0
        self.stack: list[str] = []  # "{" or "[" for each open container
        self.expect = "value"  # value | name_or_close | value_or_close | comma_or_close | end
        self.pending: _Lexeme | None = None
        self.current: _Lexeme | None = None
        self.name = ""

    # the parser's calls -------------------------------------------------------------------------------------
    def next_token(self) -> Token:
        if self.pending is not None:
            self.current, self.pending = self.pending, None
            return self.current.token
        lexeme = self._advance()
        self.current = lexeme
        self.loc = _location_after(lexeme)
        if lexeme.token is Token.FIELD_NAME:
            self.name = lexeme.text
            self._colon()
            value = self._value()
            self.pending = value
            self.loc = _location_after(value)
        return lexeme.token

    def get_text(self) -> str:
        """The current token's text (a string's content); completes a string, moving the location past it."""
        assert self.current is not None
        if self.current.token is Token.STRING:
            self.loc = self.current.end
        return self.current.text

    def fail(self, reason: str) -> PatternSyntaxError:
        return PatternSyntaxError(reason, self.location())

    def location(self) -> str:
        line = self.text.count("\n", 0, self.loc) + 1
        column = self.loc - (self.text.rfind("\n", 0, self.loc) + 1) + 1
        return f'\n at [Source: (String)"{_source(self.text)}"; line: {line}, column: {column}]'

    # the lexer ----------------------------------------------------------------------------------------------
    def _advance(self) -> _Lexeme:
        self._skip_space()
        if self.expect == "end":
            return _Lexeme(Token.END, "", self.pos, self.pos)
        if self.expect == "comma_or_close":
            if self._peek() not in (",", self._closer()):
                entries = "Object" if self.stack[-1] == "{" else "Array"
                raise self._unexpected(f"was expecting comma to separate {entries} entries")
            if self._peek() == ",":
                self.pos += 1
                self.expect = "name" if self.stack[-1] == "{" else "value"
                return self._advance()
        if self.expect in ("comma_or_close", "name_or_close", "value_or_close") and self._peek() == self._closer():
            return self._close()
        if self.expect in ("name", "name_or_close"):
            return self._field_name()
        return self._value()

    def _closer(self) -> str:
        return "}" if self.stack and self.stack[-1] == "{" else "]"

    def _close(self) -> _Lexeme:
        char = self.stack.pop()
        self.pos += 1
        self._after_value()
        token = Token.END_OBJECT if char == "{" else Token.END_ARRAY
        return _Lexeme(token, self.text[self.pos - 1], self.pos - 1, self.pos)

    def _after_value(self) -> None:
        self.expect = "comma_or_close" if self.stack else "end"

    def _field_name(self) -> _Lexeme:
        if self._peek() != '"':
            raise self._unexpected("was expecting double-quote to start field name")
        start = self.pos
        text, end = self._string_body(start)
        self.pos = end
        return _Lexeme(Token.FIELD_NAME, text, start, end)

    def _colon(self) -> None:
        self._skip_space()
        if self._peek() != ":":
            raise self._unexpected("was expecting a colon to separate field name and value")
        self.pos += 1

    def _value(self) -> _Lexeme:
        self._skip_space()
        start, char = self.pos, self._peek()
        if char in ("{", "["):
            self.stack.append(char)
            self.pos += 1
            self.expect = "name_or_close" if char == "{" else "value_or_close"
            token = Token.START_OBJECT if char == "{" else Token.START_ARRAY
            return _Lexeme(token, char, start, start + 1)
        if char == '"':
            text, end = self._string_body(start)
            self.pos = end
            self._after_value()
            return _Lexeme(Token.STRING, text, start, end)
        lexeme = self._literal(start)
        self._after_value()
        return lexeme

    def _literal(self, start: int) -> _Lexeme:
        if self.pos >= len(self.text):
            raise self._end_of_input()
        number = _NUMBER.match(self.text, start)
        if number and not _WORD.match(self.text, number.end()):
            self.pos = number.end()
            kind = Token.INT if re.fullmatch(r"-?\d+", number.group()) else Token.FLOAT
            return _Lexeme(kind, number.group(), start, self.pos)
        word = _WORD.match(self.text, start)
        literals = {"true": Token.TRUE, "false": Token.FALSE, "null": Token.NULL}
        if word and word.group() in literals:
            self.pos = word.end()
            return _Lexeme(literals[word.group()], word.group(), start, self.pos)
        if word:
            self.loc = word.end()
            raise self.fail(
                f"Unrecognized token '{word.group()}': was expecting "
                "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
            )
        raise self._unexpected(
            "expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
        )

    def _string_body(self, start: int) -> tuple[str, int]:
        match = _STRING_END.match(self.text, start + 1)
        if match is None:
            self.loc = len(self.text)
            raise self._end_of_input()
        end = match.end()
        return json.loads(self.text[start:end]), end

    def _skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _SPACE:
            self.pos += 1

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _unexpected(self, expecting: str) -> PatternSyntaxError:
        char = self._peek()
        if not char:
            return self._end_of_input()
        self.loc = self.pos + 1
        return self.fail(f"Unexpected character ('{char}' (code {ord(char)})): {expecting}")

    def _end_of_input(self) -> PatternSyntaxError:
        self.loc = len(self.text)
        if self.stack:
            kind = "Object" if self.stack[-1] == "{" else "Array"
            return self.fail(f"Unexpected end-of-input: expected close marker for {kind}")
        return self.fail("No content to map due to end-of-input")


def _location_after(lexeme: _Lexeme) -> int:
    """Where Jackson's location is once a token is read: after a string's opening quote, else after the token."""
    return lexeme.start + 1 if lexeme.token is Token.STRING else lexeme.end


def _source(text: str) -> str:
    if len(text) <= SOURCE_LIMIT:
        return text
    return f'{text[:SOURCE_LIMIT]}"[truncated {len(text) - SOURCE_LIMIT} chars]'
