"""Parsing and validating policy documents: what IAM accepts, and its reason when it refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cronbridge.iam.policy import Condition, MalformedPolicy, parse_policy, split_operator

OK = {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": "*"}
SEED = Path("/work/shared/seed/terraform/policies")


def doc(*statements: Any, **top: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements), **top}


def test_a_json_text_parses_into_statements() -> None:
    policy = parse_policy(json.dumps(doc(OK | {"Sid": "Run"})))
    assert policy.statements[0].sid == "Run"
    assert policy.statements[0].actions == ("ecs:RunTask",)
    assert policy.statements[0].resources == ("*",)


def test_a_single_statement_object_is_accepted() -> None:
    assert len(parse_policy({"Version": "2012-10-17", "Statement": OK}).statements) == 1


def test_a_missing_version_means_the_legacy_2008_grammar() -> None:
    policy = parse_policy({"Statement": [OK]})
    assert policy.version == "2008-10-17" and not policy.uses_variables


def test_conditions_are_flattened_with_their_qualifiers() -> None:
    statement = OK | {"Condition": {"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*"]},
                                    "Bool": {"aws:SecureTransport": True}}}
    conditions = parse_policy(doc(statement)).statements[0].conditions
    assert conditions == (Condition("StringLike", "aws:TagKeys", ("a*",), "ForAnyValue", True),
                          Condition("Bool", "aws:SecureTransport", ("true",)))


# (case, document or text, kind, IAM's reason)
REFUSED: list[tuple[str, Any, str, str]] = [
    ("text that is not JSON", "{not json", "identity", "Syntax errors in policy."),
    ("a JSON list", "[]", "identity", "Syntax errors in policy."),
    ("an unknown top-level field", doc(OK, Foo=1), "identity", "Unknown field Foo"),
    ("an unknown version", doc(OK, Version="2012-10-18"), "identity",
     "The policy failed legacy parsing"),
    ("no statement", {"Version": "2012-10-17"}, "identity", "Missing required field Statement"),
    ("no effect", doc({"Action": "ecs:*", "Resource": "*"}), "identity",
     "Missing required field Effect"),
    ("a misspelt effect", doc(OK | {"Effect": "Alow"}), "identity", "Invalid effect: Alow"),
    ("no action", doc({"Effect": "Allow", "Resource": "*"}), "identity",
     "Policy statement must contain actions."),
    ("both Action and NotAction", doc(OK | {"NotAction": "iam:*"}), "identity",
     "Statement can't contain both Action and NotAction"),
    ("no resource in an identity policy", doc({"Effect": "Allow", "Action": "ecs:*"}),
     "identity", "Policy statement must contain resources."),
    ("both Resource and NotResource", doc(OK | {"NotResource": "x"}), "identity",
     "Statement can't contain both Resource and NotResource"),
    ("a principal in an identity policy", doc(OK | {"Principal": "*"}), "identity",
     "Has prohibited field Principal"),
    ("a principal in a session policy", doc(OK | {"Principal": "*"}), "session",
     "Has prohibited field Principal"),
    ("no principal in a trust policy",
     doc({"Effect": "Allow", "Action": "sts:AssumeRole"}), "trust",
     "Missing required field Principal"),
    ("a resource in a trust policy",
     doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"}),
     "trust", "Has prohibited field Resource"),
    ("an action without a vendor", doc(OK | {"Action": "RunTask"}), "identity",
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ("a wildcard vendor", doc(OK | {"Action": "e*:RunTask"}), "identity", "Vendor e* is not valid"),
    ("an unknown condition operator",
     doc(OK | {"Condition": {"StringEqualz": {"a:b": "c"}}}), "identity",
     "Invalid Condition type : StringEqualz"),
    ("Null with IfExists", doc(OK | {"Condition": {"NullIfExists": {"a:b": "true"}}}),
     "identity", "Invalid Condition type : NullIfExists"),
    ("an unknown set qualifier",
     doc(OK | {"Condition": {"ForSomeValues:StringEquals": {"a:b": "c"}}}), "identity",
     "Invalid Condition type : ForSomeValues:StringEquals"),
    ("a repeated Sid", doc(OK | {"Sid": "A"}, OK | {"Sid": "A"}), "identity",
     "Statement IDs (SID) in a single policy must be unique"),
    ("a Sid with spaces", doc(OK | {"Sid": "a b"}), "identity",
     "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
     "expression [0-9A-Za-z]*"),
    ("an unknown principal type",
     doc({"Effect": "Allow", "Principal": {"Robot": "x"}, "Action": "sts:AssumeRole"}), "trust",
     "Invalid principal in policy"),
    ("a partial wildcard principal",
     doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:user/*"},
          "Action": "sts:AssumeRole"}), "trust", "Invalid principal in policy"),
    ("an action that is not a string", doc(OK | {"Action": 3}), "identity",
     "Syntax errors in policy."),
    ("an empty action list", doc(OK | {"Action": []}), "identity", "Syntax errors in policy."),
    ("an unknown statement field", doc(OK | {"Effects": "Allow"}), "identity",
     "Unknown field Effects"),
]


@pytest.mark.parametrize(("document", "kind", "reason"), [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
def test_a_malformed_policy_is_refused_with_iams_reason(document: Any, kind: Any,
                                                        reason: str) -> None:
    with pytest.raises(MalformedPolicy) as caught:
        parse_policy(document, kind=kind)
    assert (caught.value.code, caught.value.status, caught.value.message) == (
        "MalformedPolicyDocument", 400, reason)


def test_an_empty_sid_is_allowed_as_the_console_writes_it() -> None:
    assert parse_policy(doc(OK | {"Sid": ""})).statements[0].sid == ""


@pytest.mark.parametrize(("text", "parts"), [
    ("StringEquals", (None, "StringEquals", False)),
    ("StringLikeIfExists", (None, "StringLike", True)),
    ("ForAllValues:StringEquals", ("ForAllValues", "StringEquals", False)),
    ("ForAnyValue:ArnLikeIfExists", ("ForAnyValue", "ArnLike", True)),
    ("Null", (None, "Null", False)),
])
def test_an_operator_splits_into_qualifier_base_and_ifexists(text: str, parts: Any) -> None:
    assert split_operator(text) == parts


def test_every_seed_policy_parses() -> None:
    files = sorted(SEED.glob("*.json")) if SEED.exists() else []
    if not files:
        pytest.skip("no seed policies")
    for path in files:
        parse_policy(path.read_text(), kind="trust" if "assume" in path.name else "identity")
