"""SQS's constraints as tables: queue names, queue attributes, message attributes, batch ids, attribute selection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronbridge.api.protocols.json import error_headers
from cronbridge.api.services import sqs as sqs_api
from cronbridge.model.sqs import MessageAttribute
from cronbridge.sqs import rules
from cronbridge.sqs.errors import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidBatchEntryId,
    InvalidMessageContents,
    InvalidParameterValue,
    MissingParameter,
    SqsError,
    TooManyEntriesInBatchRequest,
)


@pytest.mark.parametrize(
    ("name", "fifo", "ok"),
    [
        ("orders", False, True),
        ("a" * 80, False, True),
        ("a" * 81, False, False),
        ("", False, False),
        ("with space", False, False),
        ("dots.not.allowed", False, False),
        ("jobs.fifo", True, True),
        ("jobs", True, False),
        ("a" * 76 + ".fifo", True, False),
    ],
)
def test_queue_names_follow_the_documented_pattern(name: str, fifo: bool, ok: bool) -> None:
    if ok:
        rules.check_queue_name(name, fifo)
    else:
        with pytest.raises(InvalidParameterValue):
            rules.check_queue_name(name, fifo)


@pytest.mark.parametrize(
    ("attribute", "value", "error"),
    [
        ("VisibilityTimeout", "43200", None),
        ("VisibilityTimeout", "43201", InvalidAttributeValue),
        ("VisibilityTimeout", "-1", InvalidAttributeValue),
        ("VisibilityTimeout", "soon", InvalidAttributeValue),
        ("DelaySeconds", "900", None),
        ("DelaySeconds", "901", InvalidAttributeValue),
        ("MessageRetentionPeriod", "59", InvalidAttributeValue),
        ("MessageRetentionPeriod", "1209600", None),
        ("ReceiveMessageWaitTimeSeconds", "21", InvalidAttributeValue),
        ("MaximumMessageSize", "1023", InvalidAttributeValue),
        ("Policy", "{}", None),
        ("ContentBasedDeduplication", "true", InvalidAttributeName),
        ("Colour", "blue", InvalidAttributeName),
        ("QueueArn", "arn:aws:sqs:us-east-1:0:x", InvalidAttributeName),
        ("RedrivePolicy", "{\"deadLetterTargetArn\": \"arn:aws:sqs:us-east-1:0:d\", \"maxReceiveCount\": 0}",
         InvalidParameterValue),
        ("RedrivePolicy", "not json", InvalidParameterValue),
    ],
)
def test_standard_queue_attributes_are_checked(attribute: str, value: str, error: type[SqsError] | None) -> None:
    if error is None:
        assert rules.checked_attributes({attribute: value}, fifo=False) == {attribute: value}
    else:
        with pytest.raises(error):
            rules.checked_attributes({attribute: value}, fifo=False)


def test_a_new_queue_gets_the_default_attributes() -> None:
    attributes = rules.creation_attributes("q", {"VisibilityTimeout": "60"})
    assert attributes["VisibilityTimeout"] == "60"
    assert attributes["MessageRetentionPeriod"] == "345600" and attributes["DelaySeconds"] == "0"
    assert "FifoQueue" not in attributes


def test_a_fifo_queue_gets_the_fifo_defaults_and_must_be_named_dot_fifo() -> None:
    assert rules.creation_attributes("jobs.fifo", {"FifoQueue": "true"})["DeduplicationScope"] == "queue"
    with pytest.raises(InvalidParameterValue):
        rules.creation_attributes("jobs", {"FifoQueue": "true"})
    with pytest.raises(InvalidParameterValue):
        rules.creation_attributes("jobs.fifo", {})


@pytest.mark.parametrize(
    ("name", "attribute", "error"),
    [
        ("ok", MessageAttribute("String", "v"), None),
        ("ok", MessageAttribute("Number", "-1.5e3"), None),
        ("ok", MessageAttribute("Number.int", "12"), None),
        ("ok", MessageAttribute("Binary", binary_value=b"\x00"), None),
        ("ok", MessageAttribute("Number", "twelve"), InvalidParameterValue),
        ("ok", MessageAttribute("Number", "1e200"), InvalidParameterValue),
        ("ok", MessageAttribute("Text", "v"), InvalidParameterValue),
        ("ok", MessageAttribute("String", ""), InvalidParameterValue),
        ("ok", MessageAttribute("Binary"), InvalidParameterValue),
        ("AWS.reserved", MessageAttribute("String", "v"), InvalidParameterValue),
        ("amazon.reserved", MessageAttribute("String", "v"), InvalidParameterValue),
        (".leading", MessageAttribute("String", "v"), InvalidParameterValue),
        ("double..dot", MessageAttribute("String", "v"), InvalidParameterValue),
        ("spa ce", MessageAttribute("String", "v"), InvalidParameterValue),
    ],
)
def test_message_attributes_are_checked(name: str, attribute: MessageAttribute, error: type[SqsError] | None) -> None:
    if error is None:
        rules.check_message_attributes({name: attribute})
    else:
        with pytest.raises(error):
            rules.check_message_attributes({name: attribute})


def test_at_most_ten_message_attributes() -> None:
    with pytest.raises(InvalidParameterValue, match=r"\[11\] exceeds the allowed maximum \[10\]"):
        rules.check_message_attributes({f"a{i}": MessageAttribute("String", "v") for i in range(11)})


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("hello", None), ("", MissingParameter), ("bell\x07", InvalidMessageContents),
        ("x" * 1025, InvalidParameterValue),
    ],
)
def test_bodies_are_checked_for_presence_characters_and_size(body: str, error: type[SqsError] | None) -> None:
    if error is None:
        rules.check_body(body, {}, 1024)
    else:
        with pytest.raises(error):
            rules.check_body(body, {}, 1024)


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=50))
def test_any_printable_unicode_body_is_valid(body: str) -> None:
    rules.check_body(body, {}, 1_048_576)


def test_the_size_limit_counts_attribute_names_types_and_values() -> None:
    attributes = {"name": MessageAttribute("String", "value")}
    assert rules.message_size("body", attributes) == 4 + 4 + 6 + 5


@pytest.mark.parametrize(
    ("ids", "error"),
    [
        (["a", "b"], None),
        ([], EmptyBatchRequest),
        ([str(i) for i in range(11)], TooManyEntriesInBatchRequest),
        (["a", "a"], BatchEntryIdsNotDistinct),
        (["bad id"], InvalidBatchEntryId),
        (["x" * 81], InvalidBatchEntryId),
    ],
)
def test_batch_ids_are_checked(ids: list[str], error: type[SqsError] | None) -> None:
    if error is None:
        rules.check_batch_ids(ids, "Entry")
    else:
        with pytest.raises(error):
            rules.check_batch_ids(ids, "Entry")


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["All"], ["a.x", "a.y", "b"]),
        ([".*"], ["a.x", "a.y", "b"]),
        (["a.*"], ["a.x", "a.y"]),
        (["b", "missing"], ["b"]),
        ([], []),
    ],
)
def test_attribute_selection_takes_names_all_and_prefixes(names: list[str], expected: list[str]) -> None:
    assert rules.wanted(names, ["a.x", "a.y", "b"]) == expected


def test_sqs_errors_carry_the_json_type_and_the_query_error_header() -> None:
    err = rules.InvalidParameterValue("bad")
    assert err.code == "com.amazonaws.sqs#InvalidParameterValue"
    headers = error_headers(err, sqs_api.SERVICE)  # the wire's part is api/'s: the SQS service is query-compatible
    assert {k: v for k, v in headers.items() if k == "x-amzn-query-error"} == {
        "x-amzn-query-error": "InvalidParameterValue;Sender"
    }
