"""The awslogs driver's line splitting: events of at most 262,118 bytes, never cutting a UTF-8 character."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.awslogs import MAX_MESSAGE_BYTES, split_message


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=0, max_size=40), st.integers(min_value=0, max_value=3), st.sampled_from(["a", "é", "€", "😀"]))
def test_pieces_fit_and_join_back(prefix: str, filler_len: int, char: str) -> None:
    line = prefix + char * (MAX_MESSAGE_BYTES // len(char.encode()) + filler_len * 7919)
    pieces = split_message(line)
    assert "".join(pieces) == line
    assert all(0 < len(p.encode()) <= MAX_MESSAGE_BYTES for p in pieces)


def test_a_short_line_is_one_event() -> None:
    assert split_message("hello") == ["hello"]
