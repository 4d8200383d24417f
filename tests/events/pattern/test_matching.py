"""What each operator matches, from AWS's documentation and EventBridge's observed answers (TestEventPattern)."""

from __future__ import annotations

import json

import pytest

from cronbridge.events.pattern import FlatEvent, compile_pattern

ENVELOPE = {
    "version": "0",
    "id": "1",
    "source": "test-source",
    "detail-type": "test-detail-type",
    "account": "123456789012",
    "region": "us-east-2",
    "time": "2022-07-13T13:48:01Z",
    "resources": [],
}

# (pattern, detail of the event, matches)
CASES = [
    # exact values, arrays on either side, null and empty values
    ({"detail": {"state": ["running"]}}, {"state": "running"}, True),
    ({"detail": {"state": ["running"]}}, {"state": "Running"}, False),
    ({"detail": {"state": ["initializing", "running"]}}, {"state": ["stopped", "running"]}, True),
    ({"detail": {"n": [300]}}, {"n": 300.0}, True),
    ({"detail": {"n": [300]}}, {"n": "300"}, False),
    ({"detail": {"n": ["300"]}}, {"n": 300}, False),
    ({"detail": {"n": [123456789012]}}, {"n": 123456789012}, True),
    ({"detail": {"b": [True]}}, {"b": True}, True),
    ({"detail": {"b": [True]}}, {"b": "true"}, False),
    ({"detail": {"u": [None]}}, {"u": None}, True),
    ({"detail": {"u": [None]}}, {}, False),
    ({"detail": {"u": [""]}}, {"u": ""}, True),
    ({"detail": {"u": [""]}}, {"u": None}, False),
    ({"resources": [None]}, {}, False),  # an empty array holds no value, not null
    ({"detail": {"ip": ["10.0.0.1"]}}, {"ip": "10.0.0.1"}, True),
    ({"detail": {"ip": ["2001:db8::1"]}}, {"ip": "2001:0db8:0000:0000:0000:0000:0000:0001"}, True),
    # nested paths, and the dots Event Ruler joins them with
    ({"detail": {"state": {"status": ["running"]}}}, {"state": {"status": "running"}}, True),
    ({"detail": {"state": {"status": ["running"]}}}, {"state.status": "running"}, True),
    ({"detail": {"state.status": {"status": ["running"]}}}, {"state": {"status": "running"}}, False),
    # prefix / suffix, with and without case
    ({"time": [{"prefix": "2022-07"}]}, None, True),
    ({"time": [{"prefix": "2017-10"}]}, None, False),
    ({"detail": {"n": [{"prefix": "1"}]}}, {"n": 12}, False),
    ({"detail": {"s": [{"prefix": {"equals-ignore-case": "EventB"}}]}}, {"s": "eventbridge"}, True),
    ({"detail": {"f": [{"suffix": ".png"}]}}, {"f": "a.png"}, True),
    ({"detail": {"f": [{"suffix": ".png"}]}}, {"f": "a.PNG"}, False),
    ({"detail": {"f": [{"suffix": {"equals-ignore-case": ".png"}}]}}, {"f": "a.PNG"}, True),
    ({"detail": {"s": [{"equals-ignore-case": "alice"}]}}, {"s": "ALICE"}, True),
    ({"detail": {"s": [{"equals-ignore-case": "alice"}]}}, {"s": "alicia"}, False),
    # wildcard
    ({"detail": {"f": [{"wildcard": "dir/*.png"}]}}, {"f": "dir/a/b.png"}, True),
    ({"detail": {"f": [{"wildcard": "dir/*.png"}]}}, {"f": "other/b.png"}, False),
    ({"detail": {"f": [{"wildcard": "a\\*b"}]}}, {"f": "a*b"}, True),
    ({"detail": {"f": [{"wildcard": "a\\*b"}]}}, {"f": "axxb"}, False),
    (
        {"detail": {"f": [{"wildcard": "/Users/*/dir/dir/dir/dir/dir/doc.txt"}]}},
        {"f": "/Users/ls_user/dir/dir/dir/dir/dir/doc.txt"},
        True,
    ),
    ({"detail": {"f": [{"wildcard": "*"}]}}, {"f": 5}, False),
    # anything-but, in all its forms
    ({"detail": {"s": [{"anything-but": "initializing"}]}}, {"s": "running"}, True),
    ({"detail": {"s": [{"anything-but": "initializing"}]}}, {"s": "initializing"}, False),
    ({"detail": {"s": [{"anything-but": "initializing"}]}}, {"s": None}, True),
    ({"detail": {"s": [{"anything-but": "initializing"}]}}, {}, False),
    ({"detail": {"s": [{"anything-but": ["stopped", "overloaded"]}]}}, {"s": ["stopped", "running"]}, True),
    ({"detail": {"n": [{"anything-but": [100, 200]}]}}, {"n": 100.0}, False),
    ({"detail": {"n": [{"anything-but": [100, 200]}]}}, {"n": "100"}, True),
    ({"detail": {"n": [{"anything-but": 0}]}}, {"n": 789}, True),
    ({"detail": {"s": [{"anything-but": {"prefix": "init"}}]}}, {"s": "initializing"}, False),
    ({"detail": {"s": [{"anything-but": {"prefix": "init"}}]}}, {"s": 12}, True),
    ({"detail": {"s": [{"anything-but": {"suffix": [".png", ".jpg"]}}]}}, {"s": "a.jpg"}, False),
    ({"detail": {"s": [{"anything-but": {"equals-ignore-case": ["Stopped"]}}]}}, {"s": "STOPPED"}, False),
    ({"detail": {"s": [{"anything-but": {"equals-ignore-case": "Stopped"}}]}}, {"s": None}, True),
    ({"detail": {"s": [{"anything-but": {"wildcard": "*/lib/*"}}]}}, {"s": "/usr/lib/x"}, False),
    ({"detail": {"s": [{"anything-but": {"wildcard": "*/lib/*"}}]}}, {"s": 123}, True),
    # numeric ranges: JSON numbers only, six decimal digits
    ({"detail": {"c": [{"numeric": [">", 0, "<=", 5]}]}}, {"c": 5}, True),
    ({"detail": {"c": [{"numeric": [">", 0, "<=", 5]}]}}, {"c": 0}, False),
    ({"detail": {"c": [{"numeric": [">", 100]}]}}, {"c": 101.0}, True),
    ({"detail": {"c": [{"numeric": [">", 100]}]}}, {"c": "300"}, False),
    ({"detail": {"c": [{"numeric": [">", 100]}]}}, {"c": None}, False),
    ({"detail": {"c": [{"numeric": ["=", 3.018e2]}]}}, {"c": 301.8}, True),
    ({"detail": {"c": [{"numeric": ["=", 1]}]}}, {"c": 1.0000001}, True),
    ({"detail": {"c": [{"numeric": ["<", 10]}]}}, {"c": 6e9}, False),
    # IP ranges
    ({"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, {"ip": "10.0.0.255"}, True),
    ({"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, {"ip": "10.0.1.0"}, False),
    ({"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, {"ip": 123}, False),
    ({"detail": {"ip": [{"cidr": "2001:db8::/32"}]}}, {"ip": "2001:db8:1234:1a00::"}, True),
    # exists
    ({"detail": {"c": [{"exists": True}]}}, {"c": None}, True),
    ({"detail": {"c": [{"exists": True}]}}, {"c": []}, False),
    ({"detail": {"c": [{"exists": False}]}}, {"state": "x"}, True),
    ({"detail": {"c": [{"exists": False}]}}, {"c": {"c1": 100}}, True),  # not a leaf: as AWS documents
    ({"detail": {"c": [{"exists": False}]}}, {"c": 0}, False),
    ({"resources": [{"exists": True}]}, {}, False),
    ({"detail": {"h": {"S": [{"anything-but": ["roses"]}, {"exists": False}]}}}, {"p": {"N": "789"}}, True),
    # $or at any level, with an And inside
    ({"source": ["test-source"], "$or": [{"detail": {"a": ["x"]}}, {"detail": {"b": ["y"]}}]}, {"b": "y"}, True),
    ({"source": ["test-source"], "$or": [{"detail": {"a": ["x"]}}, {"detail": {"b": ["y"]}}]}, {"b": "z"}, False),
    ({"detail": {"$or": [{"a": [1], "b": [2]}, {"c": [3]}]}}, {"a": 1, "b": 3}, False),
    ({"detail": {"$or": [{"a": [1], "b": [2]}, {"c": [3]}]}}, {"a": 1, "b": 2}, True),
    # arrays of objects: two fields must come from the same element
    (
        {"detail": {"c": {"exitCode": [1], "name": ["app"]}}},
        {"c": [{"name": "app", "exitCode": 0}, {"name": "b", "exitCode": 1}]},
        False,
    ),
    (
        {"detail": {"c": {"exitCode": [1], "name": ["app"]}}},
        {"c": [{"name": "b", "exitCode": 0}, {"name": "app", "exitCode": 1}]},
        True,
    ),
    ({"detail": {"c": {"exitCode": [1]}}}, {"c": [[{"exitCode": 0}], [{"exitCode": 1}]]}, True),
]


def event_with(detail: dict[str, object] | None) -> str:
    return json.dumps({**ENVELOPE, "detail": detail if detail is not None else {}})


@pytest.mark.parametrize(("pattern", "detail", "expected"), CASES)
def test_each_operator_matches_as_eventbridge_does(
    pattern: dict[str, object], detail: dict[str, object] | None, expected: bool
) -> None:
    assert compile_pattern(json.dumps(pattern)).matches_text(event_with(detail)) is expected


def test_the_seeds_failure_rule_matches_a_stopped_task_whose_container_exited_1() -> None:
    pattern = compile_pattern(
        json.dumps(
            {
                "source": ["aws.ecs"],
                "detail-type": ["ECS Task State Change"],
                "detail": {"lastStatus": ["STOPPED"], "containers": {"exitCode": [{"anything-but": 0}]}},
            }
        )
    )
    event = {
        **ENVELOPE,
        "source": "aws.ecs",
        "detail-type": "ECS Task State Change",
        "detail": {
            "lastStatus": "STOPPED",
            "stopCode": "EssentialContainerExited",
            "containers": [{"name": "batch", "exitCode": 1, "lastStatus": "STOPPED"}],
        },
    }
    assert pattern.matches(FlatEvent.from_document(event))
    event["detail"]["containers"][0]["exitCode"] = 0  # type: ignore[index]
    assert not pattern.matches(FlatEvent.from_document(event))


def test_a_pattern_names_the_strings_a_field_must_equal_for_indexing() -> None:
    pattern = compile_pattern('{"source": ["aws.ecs", "aws.events"], "detail": {"a": [1]}}')
    assert pattern.required("source") == {"aws.ecs", "aws.events"}
    assert pattern.required("detail.a") is None
    either = compile_pattern('{"$or": [{"source": ["a"]}, {"source": ["b"], "x": ["y"]}]}')
    assert either.required("source") == {"a", "b"}
    assert compile_pattern('{"$or": [{"source": ["a"]}, {"x": ["y"]}]}').required("source") is None
