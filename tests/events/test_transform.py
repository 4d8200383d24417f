"""What a target receives: Input, InputPath and InputTransformer as EventBridge fills them, and their refusals."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronbridge.errors import ValidationError
from cronbridge.events.transform import (
    Invocation,
    TransformFailed,
    check_target_input,
    scheduler_input,
    select,
    target_input,
    transform,
)

EVENT = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {
        "instance-id": "i-0123456789",
        "state": "RUNNING",
        "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"},
        "listsingle": ["HIGH"],
        "listmulti": ["ACTIVE", "INACTIVE"],
        "valid": True,
        "containers": [{"name": "batch", "exitCode": 1}],
    },
}
CALL = Invocation("arn:aws:events:us-east-1:123456789012:rule/example", "example", EVENT, "2015-11-11T21:29:55Z")
PATHS = {
    "instance": "$.detail.instance-id",
    "state": "$.detail.state",
    "payload": "$.detail.payload",
    "userId": "$.detail.payload.acc_id",
    "listsingle": "$.detail.listsingle",
    "listmulti": "$.detail.listmulti",
    "valid": "$.detail.valid",
    "missing": "$.detail.notinmessage",
}

# (template, what the target receives) — the examples of AWS's guide and EventBridge's observed output
FILLED = [
    ('"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
    ('{"instance" : <instance>, "state": <state>}', '{"instance":"i-0123456789","state":"RUNNING"}'),
    (
        '{"instance": <instance>, "state": [9, <state>, true], "Transformed": "Yes"}',
        '{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}',
    ),
    ('{"status": "instance \\"<instance>\\" is in <state>"}', '{"status":"instance \\"i-0123456789\\" is in RUNNING"}'),
    (
        '{"ruleArn": <aws.events.rule-arn>, "ruleName": <aws.events.rule-name>}',
        '{"ruleArn":"arn:aws:events:us-east-1:123456789012:rule/example","ruleName":"example"}',
    ),
    ('"<aws.events.rule-name> triggered"', '"example triggered"'),
    ('"Payload of <payload> and <userId>"', '"Payload of {acc_id:0a787ecb-4015,sf_id:baz} and 0a787ecb-4015"'),
    ('"<listsingle> single, <listmulti> multiple"', '"[HIGH] single, [ACTIVE,INACTIVE] multiple"'),
    ('{"singlelistitem": <listsingle>}', '{"singlelistitem":["HIGH"]}'),
    (
        '{"path": "users/<userId>/second/<userId>", "body": <payload>}',
        '{"path":"users/0a787ecb-4015/second/0a787ecb-4015","body":{"acc_id":"0a787ecb-4015","sf_id":"baz"}}',
    ),
    ('"Command is <valid>!"', '"Command is true!"'),
    ('"Missing is <missing>."', '"Missing is ."'),
    ('{"command": <missing>}', '{"command":""}'),
    ('"{[/special starting characters <state>"', '"{[/special starting characters RUNNING"'),
]


@pytest.mark.parametrize(("template", "expected"), FILLED)
def test_a_template_is_filled_as_eventbridge_fills_it(template: str, expected: str) -> None:
    assert transform(CALL, PATHS, template) == expected


@pytest.mark.parametrize("template", ['{"payload": "<payload>"}', '{"singlelistitem": "<listsingle>"}'])
def test_a_json_value_inside_quotes_breaks_the_template_and_the_invocation_fails(template: str) -> None:
    with pytest.raises(TransformFailed):
        transform(CALL, PATHS, template)


def test_the_original_event_variables() -> None:
    filled = json.loads(transform(CALL, {}, '{"e": <aws.events.event>, "j": <aws.events.event.json>}'))
    assert filled["j"] == EVENT
    assert filled["e"]["detailType"] == EVENT["detail-type"]
    assert filled["e"]["time"] == "2015-11-11T21:29:55Z"
    assert "detail" not in filled["e"]


def test_input_path_sends_the_selected_part_as_json() -> None:
    assert json.loads(target_input(CALL, None, "$.detail.payload", None)) == EVENT["detail"]["payload"]
    assert target_input(CALL, None, "$.detail.payload.sf_id", None) == '"baz"'
    assert target_input(CALL, None, "$.detail.containers[0].exitCode", None) == "1"
    assert json.loads(target_input(CALL, None, "$", None)) == EVENT


def test_without_settings_the_target_gets_the_whole_event_and_with_input_that_text() -> None:
    assert json.loads(target_input(CALL, None, None, None)) == EVENT
    assert target_input(CALL, '{"fixed": 1}', None, None) == '{"fixed": 1}'


@pytest.mark.parametrize(
    ("path", "expected"),
    [("$.detail.state", "RUNNING"), ("$['detail']['state']", "RUNNING"), ("$.resources[0]", EVENT["resources"][0])],
)
def test_json_paths(path: str, expected: object) -> None:
    assert select(EVENT, path) == expected


def test_refusals_at_put_targets() -> None:
    with pytest.raises(
        ValidationError, match="Only one of Input, InputPath, or InputTransformer must be provided for target t1."
    ):
        check_target_input("t1", None, "$.detail", {"InputTemplate": "{}"})
    with pytest.raises(
        ValidationError, match="InputTemplate for target t1 contains invalid placeholder notdefinedkey."
    ):
        check_target_input("t1", None, None, {"InputPathsMap": {"a": "$.a"}, "InputTemplate": '"<notdefinedkey>"'})
    with pytest.raises(ValidationError, match="invalid key"):
        check_target_input("t1", None, None, {"InputPathsMap": {"aws.mine": "$.a"}, "InputTemplate": '"x"'})
    check_target_input(
        "t1", None, None, {"InputPathsMap": {"a": "$.a"}, "InputTemplate": '"<a> <aws.events.rule-arn>"'}
    )


def test_scheduler_context_attributes_are_replaced_in_the_input() -> None:
    context = {"aws.scheduler.scheduled-time": "2024-01-01T00:00:00Z", "aws.scheduler.attempt-number": "1"}
    filled = scheduler_input('{"at": "<aws.scheduler.scheduled-time>", "n": <aws.scheduler.attempt-number>}', context)
    assert json.loads(filled) == {"at": "2024-01-01T00:00:00Z", "n": 1}


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.text(alphabet="ab c-_/", max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("xyz"), inner, max_size=3)),
    max_leaves=6,
)


@given(st.dictionaries(st.sampled_from(["v1", "v2", "v3"]), JSON_VALUES, min_size=1))
def test_unquoted_placeholders_in_a_json_template_carry_the_values_unchanged(values: dict[str, object]) -> None:
    event = {**EVENT, "detail": values}
    paths = {name: f"$.detail.{name}" for name in values}
    template = "{" + ", ".join(f'"{name}": <{name}>' for name in values) + "}"
    call = Invocation(CALL.rule_arn, CALL.rule_name, event, CALL.ingestion_time)
    assert json.loads(transform(call, paths, template)) == values
