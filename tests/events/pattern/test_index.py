"""Patterns indexed by source: an event finds exactly the patterns that match it, whatever the index skips."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.events.pattern import FlatEvent, compile_pattern
from cronbridge.events.pattern.index import PatternIndex

SOURCES = ["aws.ecs", "aws.events", "my.app"]
PATTERNS = st.one_of(
    st.lists(st.sampled_from(SOURCES), min_size=1, max_size=2).map(lambda s: {"source": s}),
    st.sampled_from(SOURCES).map(lambda s: {"source": [{"prefix": s[:4]}]}),
    st.sampled_from(["A", "B"]).map(lambda t: {"detail-type": [t]}),
    st.sampled_from(["A", "B"]).map(lambda t: {"$or": [{"source": ["my.app"]}, {"detail-type": [t]}]}),
    st.just({"detail": {"n": [{"numeric": [">", 0]}]}}),
)
EVENTS = st.fixed_dictionaries(
    {
        "source": st.sampled_from(SOURCES),
        "detail-type": st.sampled_from(["A", "B"]),
        "detail": st.fixed_dictionaries({"n": st.integers(-1, 1)}),
    }
)


@settings(max_examples=200, deadline=None)
@given(st.lists(PATTERNS, max_size=12), EVENTS)
def test_the_index_finds_exactly_the_matching_patterns(
    patterns: list[dict[str, object]], event: dict[str, object]
) -> None:
    compiled = [(i, compile_pattern(json.dumps(p))) for i, p in enumerate(patterns)]
    flat = FlatEvent.from_document(event)
    index = PatternIndex.of(compiled)
    assert sorted(index.matching(flat)) == [i for i, p in compiled if p.matches(flat)]  # type: ignore[type-var]
    for key, _ in compiled[::2]:
        index.remove(key)
    assert sorted(index.matching(flat)) == [i for i, p in compiled[1::2] if p.matches(flat)]  # type: ignore[type-var]
