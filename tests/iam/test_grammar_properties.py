"""Properties of the policy grammar: any JSON gets an answer in IAM's terms, generated valid policies are
accepted as written, one defect in a valid policy gets that defect's message, sizes ignore white space."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.iam import grammar
from cronbridge.iam.dates import is_policy_date
from cronbridge.iam.limits import policy_size
from cronbridge.iam.policy import MalformedPolicy, parse_policy

KINDS = st.sampled_from(["identity", "managed", "trust", "session"])
FIELDS = ["Version", "Statement", "Id", "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
          "Principal", "NotPrincipal", "Condition", "StringEquals", "DateLessThan", "AWS", "Service"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.sampled_from(["2012-10-17", "Allow", "Deny", "*", "ecs:RunTask", "arn:aws:s3:::b", "x"]),
                    st.text(max_size=8))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=4), inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=500, deadline=None)
@given(JSON, KINDS)
def test_any_json_gets_iams_answer_never_an_error_of_ours(document: Any, kind: Any) -> None:
    try:
        parse_policy(json.dumps(document), kind=kind)
    except MalformedPolicy as refused:
        assert refused.code == "MalformedPolicyDocument" and refused.message


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), KINDS)
def test_any_text_gets_iams_answer(text: str, kind: Any) -> None:
    try:
        parse_policy(text, kind=kind)
    except MalformedPolicy as refused:
        assert refused.status == 400


# generated valid policies ------------------------------------------------------------------------------------
NAMES = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./*?", min_size=1, max_size=12)
VENDORS = st.sampled_from(["ecs", "logs", "iam", "s3", "events", "scheduler", "sts", "*", "s3-object-lambda"])
ACTIONS = st.one_of(st.just("*"), st.builds(lambda v, n: f"{v}:{n}", VENDORS, NAMES.filter(lambda n: ":" not in n)))
# what a trust policy can allow (other actions are refused: grammar.TRUST_ACTIONS), in any case, or a wildcard
TRUST_ACTIONS = st.sampled_from(["sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:assumerolewithwebidentity",
                                 "sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext", "sts:*", "*",
                                 "sts:Assume*", "sts:AssumeRol?"])
ACCOUNTS = st.sampled_from(["123456789012", "*", "aws"])


@st.composite
def resources(draw: Any) -> str:
    partition = draw(st.sampled_from(["aws", "aws-cn", "*"]))
    service = draw(st.sampled_from(["iam", "s3", "ecs", "logs", "sqs"]))
    name = draw(NAMES)
    if service == "iam":
        path = draw(st.sampled_from(["role/", "user/", "policy/", "group/", "instance-profile/"]))
        return f"arn:{partition}:iam::{draw(ACCOUNTS)}:{path}{name}"
    if service == "s3":
        return f"arn:{partition}:s3:::{name}"
    region = draw(st.sampled_from(["us-east-1", "ap-northeast-1", "*"]))
    return f"arn:{partition}:{service}:{region}:{draw(ACCOUNTS)}:{name}"


DATES = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2199, 12, 31),
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))]))
DATE_TEXT = st.one_of(DATES.map(lambda d: d.isoformat()), DATES.map(lambda d: str(int(d.timestamp()))),
                      DATES.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")))


@st.composite
def conditions(draw: Any) -> dict[str, Any]:
    block: dict[str, Any] = {}
    for operator in draw(st.lists(st.sampled_from(sorted(grammar.BASE_OPERATORS)), max_size=3, unique=True)):
        qualifier = draw(st.sampled_from(["", "ForAllValues:", "ForAnyValue:"]))
        suffix = "" if operator == "Null" else draw(st.sampled_from(["", "IfExists"]))
        value: Any = DATE_TEXT if operator.startswith("Date") else st.text(max_size=6) | st.booleans() | st.integers()
        keys = st.dictionaries(st.sampled_from(["aws:CurrentTime", "aws:TagKeys", "ecs:cluster", "a"]),
                               value | st.lists(value, max_size=2), min_size=1, max_size=2)
        block[f"{qualifier}{operator}{suffix}"] = draw(keys)
    return block


def one_or_list(values: Any) -> Any:
    return st.one_of(values, st.lists(values, min_size=1, max_size=3))


@st.composite
def statements(draw: Any, trust: bool) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Deny"]))}
    statement[draw(st.sampled_from(["Action", "NotAction"]))] = draw(one_or_list(TRUST_ACTIONS if trust else ACTIONS))
    if trust:
        statement["Principal"] = draw(st.one_of(st.just("*"), st.fixed_dictionaries({}, optional={
            "AWS": one_or_list(st.sampled_from(["*", "123456789012", "arn:aws:iam::123456789012:role/R"])),
            "Service": one_or_list(st.sampled_from(["events.amazonaws.com", "ecs-tasks.amazonaws.com"]))}).filter(
            bool)))
    else:
        statement[draw(st.sampled_from(["Resource", "NotResource"]))] = draw(one_or_list(st.just("*") | resources()))
    block = draw(conditions())
    if block:
        statement["Condition"] = block
    return statement


@st.composite
def documents(draw: Any, trust: bool = False) -> dict[str, Any]:
    items = draw(st.lists(statements(trust), min_size=1, max_size=4))
    sids = draw(st.lists(st.text("abcXYZ019", min_size=1, max_size=6), min_size=len(items), max_size=len(items),
                         unique=True))
    for item, sid in zip(items, sids, strict=True):
        if draw(st.booleans()):
            item["Sid"] = sid
    return {"Version": "2012-10-17", "Statement": items if draw(st.booleans()) or len(items) > 1 else items[0]}


@settings(max_examples=100, deadline=None)  # whole documents are slow to draw: under 60 s beside a CPU hog
@given(documents(), st.sampled_from(["identity", "managed", "session"]))
def test_a_valid_policy_is_accepted_as_written(document: dict[str, Any], kind: Any) -> None:
    policy = parse_policy(json.dumps(document), kind=kind)
    raw = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    assert [s.effect for s in policy.statements] == [r["Effect"] for r in raw]
    for statement, written in zip(policy.statements, raw, strict=True):
        listed = written.get("Resource", written.get("NotResource"))
        assert (statement.resources or statement.not_resources) == ((listed,) if isinstance(listed, str)
                                                                    else tuple(listed))


@settings(max_examples=75, deadline=None)  # whole documents are slow to draw: under 60 s beside a CPU hog
@given(documents(trust=True))
def test_a_valid_trust_policy_is_accepted(document: dict[str, Any]) -> None:
    assert parse_policy(json.dumps(document), kind="trust").statements


# one defect, IAM's message -------------------------------------------------------------------------------------
def _set_action(statement: dict[str, Any], value: Any) -> None:
    statement.pop("NotAction", None)
    statement["Action"] = value


def _set_resource(statement: dict[str, Any], value: Any) -> None:
    statement.pop("NotResource", None)
    statement["Resource"] = value


DEFECTS: dict[str, tuple[Any, str]] = {
    "an unknown field": (lambda s: s.update(Effects="Allow"), grammar.SYNTAX),
    "an effect in lower case": (lambda s: s.update(Effect=s["Effect"].lower()), grammar.LEGACY),
    "an effect nobody knows": (lambda s: s.update(Effect="Permit"), grammar.SYNTAX),
    "an action without a vendor": (lambda s: _set_action(s, "RunTask"), grammar.NO_VENDOR),
    "an action with two colons": (lambda s: _set_action(s, "ecs:Run:Task"), grammar.ONE_COLON),
    "no action": (lambda s: (s.pop("Action", None), s.pop("NotAction", None)), grammar.NO_ACTIONS),
    "no resource": (lambda s: (s.pop("Resource", None), s.pop("NotResource", None)), grammar.NO_RESOURCES),
    "a principal": (lambda s: s.update(Principal="*"), grammar.HAS_PRINCIPAL),
    "a bare name as resource": (lambda s: _set_resource(s, "bucket"), 'Resource bucket must be in ARN format or "*".'),
    "a short ARN with a gap": (lambda s: _set_resource(s, "arn:aws:s3::b"), grammar.LEGACY),
    "a date that is no date": (lambda s: s.update(Condition={"DateLessThan": {"aws:CurrentTime": "soon"}}),
                               grammar.LEGACY),
    "a Sid with a hyphen": (lambda s: s.update(Sid="a-b"), grammar.SID_CHARACTERS),
}


@settings(max_examples=100, deadline=None)  # whole documents are slow to draw: under 60 s beside a CPU hog
@given(documents(), st.sampled_from(sorted(DEFECTS)), st.data())
def test_one_defect_gets_that_defects_message(document: dict[str, Any], defect: str, data: Any) -> None:
    broken = copy.deepcopy(document)
    items = broken["Statement"] if isinstance(broken["Statement"], list) else [broken["Statement"]]
    target = data.draw(st.sampled_from(items))
    change, message = DEFECTS[defect]
    change(target)
    try:
        parse_policy(json.dumps(broken), kind="managed")
    except MalformedPolicy as refused:
        assert refused.message == message
    else:
        raise AssertionError(f"{defect} was accepted")


@settings(max_examples=75, deadline=None)  # whole documents are slow to draw: under 60 s beside a CPU hog
@given(documents(), st.integers(min_value=0, max_value=8))
def test_white_space_does_not_count_towards_the_size(document: dict[str, Any], indent: int) -> None:
    compact = json.dumps(document, separators=(",", ":"))
    assert policy_size(json.dumps(document, indent=indent)) == policy_size(compact)


@settings(max_examples=300, deadline=None)
@given(DATE_TEXT)
def test_dates_as_clients_write_them_are_accepted(text: str) -> None:
    assert is_policy_date(text)
