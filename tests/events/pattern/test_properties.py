"""Properties: the compiled matcher agrees with the slow reference on random patterns and events; nothing crashes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cronbridge.events.pattern import FlatEvent, InvalidEventPattern, compile_pattern
from events.pattern.reference import load, reference_matches

KEYS = st.sampled_from(["a", "b", "c"])
WORDS = st.sampled_from(["", "x", "xy", "Xy", "yx", "x*y", "10.0.0.1", "10.0.1.7", "::1", "true", "5"])
NUMBERS = st.sampled_from(["0", "1", "1.0", "-1", "5", "5.0000001", "300", "3.0e2", "6000000000", "-2.5"])
SCALARS = st.one_of(WORDS.map(json.dumps), NUMBERS, st.sampled_from(["null", "true", "false"]))


def _object(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.dictionaries(KEYS, children, max_size=3).map(
        lambda d: "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in d.items()) + "}"
    )


EVENT_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"), _object(inner)),
    max_leaves=12,
)
EVENTS = _object(EVENT_VALUES)

STRING_ARG = st.sampled_from(["x", "X", "y", "xy"])
WILDCARD_ARG = st.sampled_from(["*", "x*", "*y", "x*y", "*x*", "x\\\\*y"])
OPERATORS = st.one_of(
    STRING_ARG.map(lambda s: {"prefix": s}),
    STRING_ARG.map(lambda s: {"suffix": s}),
    STRING_ARG.map(lambda s: {"prefix": {"equals-ignore-case": s}}),
    STRING_ARG.map(lambda s: {"suffix": {"equals-ignore-case": s}}),
    STRING_ARG.map(lambda s: {"equals-ignore-case": s}),
    WILDCARD_ARG.map(lambda s: {"wildcard": json.loads(f'"{s}"')}),
    st.sampled_from([True, False]).map(lambda b: {"exists": b}),
    st.sampled_from(["10.0.0.0/24", "::/0", "10.0.0.0/8"]).map(lambda c: {"cidr": c}),
    st.sampled_from([[">", 0], ["<", 5], [">=", 1, "<", 300], [">", -3, "<=", 1], ["=", 5]]).map(
        lambda r: {"numeric": r}
    ),
    st.one_of(WORDS, st.lists(WORDS, min_size=1, max_size=2)).map(lambda w: {"anything-but": w}),
    st.lists(st.sampled_from([0, 1, 5, 300]), min_size=1, max_size=2).map(lambda n: {"anything-but": n}),
    st.tuples(st.sampled_from(["prefix", "suffix", "equals-ignore-case", "wildcard"]), STRING_ARG).map(
        lambda t: {"anything-but": {t[0]: t[1]}}
    ),
)
PATTERN_VALUES = st.lists(
    st.one_of(WORDS, st.sampled_from([0, 1, 5, 300, 2.5, None, True, False]), OPERATORS), min_size=1, max_size=3
)


def _pattern_objects(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    leaf_or_object = (
        PATTERN_VALUES if depth == 0 else st.one_of(PATTERN_VALUES, st.deferred(lambda: _pattern_objects(depth - 1)))
    )
    plain = st.dictionaries(KEYS, leaf_or_object, min_size=1, max_size=2)
    if depth == 0:
        return plain
    ors = st.lists(st.deferred(lambda: _pattern_objects(depth - 1)), min_size=2, max_size=3)
    return st.tuples(plain, st.one_of(st.none(), ors)).map(lambda t: {**t[0], **({"$or": t[1]} if t[1] else {})})


PATTERNS = _pattern_objects(2)


def _hints(spec: list[Any]) -> list[Any]:
    """Values likely to pass the operators in a pattern's value list."""
    hints: list[Any] = []
    for item in spec:
        if isinstance(item, dict):
            name, arg = next(iter(item.items()))
            if isinstance(arg, str):
                hints += [arg, arg + "y", "y" + arg, arg.replace("*", "q"), arg.upper()]
            hints += {"numeric": [0, 1, 4.5, 300], "cidr": ["10.0.0.9", "::2"]}.get(name, [])
    return hints


def _near_value(data: st.DataObject, spec: Any, depth: int = 0) -> str:
    """An event value shaped after a pattern value: often one the pattern names, sometimes in an array."""
    if isinstance(spec, dict):
        branches = [spec, *spec.get("$or", [])]
        merged = {k: v for branch in branches for k, v in branch.items() if k != "$or"}
        keys = [k for k in merged if data.draw(st.integers(0, 6)) > 0]
        body = "{" + ", ".join(f"{json.dumps(k)}: {_near_value(data, merged[k], depth + 1)}" for k in keys) + "}"
    else:
        named = [json.dumps(x) for x in spec if not isinstance(x, dict)] + [json.dumps(x) for x in _hints(spec)]
        body = data.draw(st.sampled_from(named)) if named and data.draw(st.integers(0, 3)) else data.draw(SCALARS)
    if depth < 3 and data.draw(st.integers(0, 4)) == 0:
        others = data.draw(st.lists(EVENT_VALUES if not isinstance(spec, dict) else st.just(body), max_size=2))
        return "[" + ", ".join([body, *others]) + "]"
    return body


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PATTERNS, st.data())
def test_the_compiled_matcher_agrees_with_the_reference(pattern: dict[str, Any], data: st.DataObject) -> None:
    text = json.dumps(pattern)
    event = data.draw(st.one_of(EVENTS, st.builds(lambda: _near_value(data, pattern))))
    compiled = compile_pattern(text)
    assert compiled.matches(FlatEvent.from_text(event)) == reference_matches(load(text), event)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='{}[]":,0123456789.-eE truefalsnl$orexistsprefix*\\', max_size=60))
def test_any_text_is_compiled_or_refused_with_invalid_event_pattern(text: str) -> None:
    try:
        compile_pattern(text)
    except InvalidEventPattern as refused:
        assert refused.message.startswith("Event pattern is not valid. Reason: ")


@settings(max_examples=200, deadline=None)
@given(PATTERNS)
def test_a_pattern_reads_the_same_however_it_is_spaced(pattern: dict[str, Any]) -> None:
    compact, spaced = json.dumps(pattern, separators=(",", ":")), json.dumps(pattern, indent=3)
    events = ['{"a": "x", "b": {"c": 5}}', '{"c": [1, "xy", null]}', '{"b": [{"a": "Xy"}, {"c": true}]}']
    for event in events:
        flat = FlatEvent.from_text(event)
        assert compile_pattern(compact).matches(flat) == compile_pattern(spaced).matches(flat)
