"""The awsJson body parser: orjson's fast reading gives what the standard library's gives, errors included."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronbridge.api.protocols.json import parse_body, parse_input
from cronbridge.errors import AwsError

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30,
)


def _error(body: bytes) -> str:
    with pytest.raises(AwsError) as caught:
        parse_body(body)
    assert caught.value.code == "SerializationException"
    return caught.value.message


@given(st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=5))
def test_any_object_reads_as_the_standard_library_reads_it(value: dict[str, Any]) -> None:
    body = json.dumps(value).encode()
    assert parse_body(body) == json.loads(body)


def test_integers_past_64_bits_stay_integers() -> None:
    body = b'{"logEvents": [{"timestamp": 18446744073709551616, "message": "m"}], "n": 1.5}'
    parsed = parse_body(body)
    assert parsed["logEvents"][0]["timestamp"] == 18446744073709551616
    assert type(parsed["logEvents"][0]["timestamp"]) is int


def test_what_only_the_standard_library_reads_is_still_read() -> None:
    assert parse_body(b'{"a": NaN}')["a"] != parse_body(b'{"a": NaN}')["a"]  # NaN, as json reads it
    assert parse_body('{"a": "é"}'.encode("utf-16")) == {"a": "é"}


def test_errors_keep_their_words() -> None:
    assert _error(b'{"a": "\\ud800"}').startswith("Invalid UTF-8: the request holds a lone surrogate")
    assert "deeper than 64 levels" in _error(b'{"a": ' + b"[" * 64 + b"]" * 64 + b"}")  # 65 levels
    assert "deeper than 64 levels" in _error(b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    assert _error(b'{"a": ').startswith("Malformed JSON: ")
    assert parse_body(b'{"a": ' + b"[" * 63 + b"]" * 63 + b"}") == json.loads(b'{"a": ' + b"[" * 63 + b"]" * 63 + b"}")


def test_null_members_are_left_out_wherever_they_are() -> None:
    body = b'{"a": null, "b": [{"c" :null, "d": 1}, null], "e": {"f":\nnull}}'
    assert parse_input(body) == {"b": [{"d": 1}, None], "e": {}}
    assert parse_input(b'{"message": "x:null"}') == {"message": "x:null"}  # a string that spells it: kept
