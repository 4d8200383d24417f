"""The evaluation truth table, drawn from AWS's policy-evaluation documentation; explanations."""

from __future__ import annotations

from typing import Any

import pytest

from cronbridge.iam import NamedPolicy, Request, evaluate, parse_policy
from cronbridge.iam.explain import explain

ACCOUNT = "123456789012"
USER = f"arn:aws:iam::{ACCOUNT}:user/Bob"
TASKDEF = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/job:3"
CLUSTER = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def stmt(effect: str, **fields: Any) -> dict[str, Any]:
    return {"Effect": effect, **fields}


def cond(operator: str, key: str, value: Any) -> dict[str, Any]:
    return {"Condition": {operator: {key: value}}}


def named(statements: list[dict[str, Any]], name: str = "policy/P",
          version: str = "2012-10-17") -> NamedPolicy:
    return NamedPolicy(name, parse_policy({"Version": version, "Statement": statements}))


A, D, N = "Allow", "ExplicitDeny", "ImplicitDeny"  # N: no allow (implicit deny)
NOW = "2026-11-28T12:00:00Z"

# (case, statements of one identity policy, action, resource, context, expected effect)
TABLE: list[tuple[str, list[dict[str, Any]], str, str, dict[str, Any], str]] = [
    # decision order: default deny, explicit deny wins, otherwise an allow is needed
    ("no statement at all denies implicitly", [], "ecs:RunTask", TASKDEF, {}, N),
    ("an exact action and resource allow", [allow("ecs:RunTask", TASKDEF)],
     "ecs:RunTask", TASKDEF, {}, A),
    ("a service wildcard allows", [allow("ecs:*")], "ecs:RunTask", TASKDEF, {}, A),
    ("action names are case-insensitive", [allow("ECS:runtask")], "ecs:RunTask", TASKDEF, {}, A),
    ("a prefix wildcard allows", [allow("ecs:Run*")], "ecs:RunTask", TASKDEF, {}, A),
    ("a prefix wildcard does not stretch to others", [allow("ecs:Run*")],
     "ecs:StopTask", TASKDEF, {}, N),
    ("a question mark is one character", [allow("ecs:?unTask")], "ecs:RunTask", TASKDEF, {}, A),
    ("a question mark is not zero characters", [allow("ecs:?RunTask")],
     "ecs:RunTask", TASKDEF, {}, N),
    ("the full wildcard allows everything", [allow("*")], "logs:PutLogEvents", "x", {}, A),
    ("an explicit deny beats an allow", [allow("ecs:*"), deny("ecs:RunTask")],
     "ecs:RunTask", TASKDEF, {}, D),
    ("order does not matter to a deny", [deny("ecs:RunTask"), allow("*")],
     "ecs:RunTask", TASKDEF, {}, D),
    ("a deny of another action leaves the allow", [allow("ecs:*"), deny("ecs:StopTask")],
     "ecs:RunTask", TASKDEF, {}, A),
    ("an allow of another service does not allow", [allow("logs:*")],
     "ecs:RunTask", TASKDEF, {}, N),
    # resources: case-sensitive ARNs, per-segment wildcards, dots are dots
    ("resource ARNs are case-sensitive", [allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/bob")],
     "iam:GetUser", USER, {}, N),
    ("a revision wildcard matches a revision",
     [allow("ecs:RunTask", f"arn:aws:ecs:*:{ACCOUNT}:task-definition/job:*")],
     "ecs:RunTask", TASKDEF, {}, A),
    ("a revision wildcard does not match another family",
     [allow("ecs:RunTask", f"arn:aws:ecs:*:{ACCOUNT}:task-definition/job:*")],
     "ecs:RunTask", TASKDEF.replace("job:", "job2:"), {}, N),
    ("a wildcard in the region stays inside the region segment",
     [allow("ecs:RunTask", "arn:aws:ecs:*:task-definition/job:3")],
     "ecs:RunTask", TASKDEF, {}, N),
    ("a dot in a resource is not a wildcard", [allow("s3:GetObject", "arn:aws:s3:::my.bucket/*")],
     "s3:GetObject", "arn:aws:s3:::myxbucket/k", {}, N),
    ("a dot in a resource matches a dot", [allow("s3:GetObject", "arn:aws:s3:::my.bucket/*")],
     "s3:GetObject", "arn:aws:s3:::my.bucket/k", {}, A),
    ("a trailing wildcard expands beyond colons",
     [allow("logs:PutLogEvents", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/ecs/job*")],
     "logs:PutLogEvents", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/ecs/job:log-stream:a/b",
     {}, A),
    ("another account is not matched",
     [allow("ecs:RunTask", "arn:aws:ecs:us-east-1:210987654321:task-definition/*")],
     "ecs:RunTask", TASKDEF, {}, N),
    ("a list of resources is an OR", [allow("ecs:RunTask", ["arn:aws:ecs:::x", TASKDEF])],
     "ecs:RunTask", TASKDEF, {}, A),
    ("a list of actions is an OR", [allow(["logs:*", "ecs:RunTask"], TASKDEF)],
     "ecs:RunTask", TASKDEF, {}, A),
    # NotAction and NotResource, and their traps
    ("an allow with NotAction allows what it does not list",
     [stmt("Allow", NotAction="iam:*", Resource="*")], "ecs:RunTask", TASKDEF, {}, A),
    ("an allow with NotAction does not allow what it lists",
     [stmt("Allow", NotAction="iam:*", Resource="*")], "iam:CreateRole", ROLE, {}, N),
    ("a deny with NotAction denies every other action, even with allow *",
     [allow("*"), stmt("Deny", NotAction="iam:*", Resource="*")],
     "ecs:RunTask", TASKDEF, {}, D),
    ("a deny with NotAction leaves the listed actions to the allow",
     [allow("*"), stmt("Deny", NotAction="iam:*", Resource="*")],
     "iam:ListRoles", "*", {}, A),
    ("NotAction alone grants nothing on a deny",
     [stmt("Deny", NotAction="iam:*", Resource="*")], "iam:ListRoles", "*", {}, N),
    ("an allow with NotResource allows elsewhere",
     [stmt("Allow", Action="s3:*", NotResource="arn:aws:s3:::hr/*")],
     "s3:GetObject", "arn:aws:s3:::eng/doc", {}, A),
    ("an allow with NotResource does not allow the listed resource",
     [stmt("Allow", Action="s3:*", NotResource="arn:aws:s3:::hr/*")],
     "s3:GetObject", "arn:aws:s3:::hr/pay", {}, N),
    ("a deny with NotResource denies all other resources",
     [allow("ecs:*"), stmt("Deny", Action="ecs:*", NotResource=CLUSTER + "prod")],
     "ecs:ListTasks", CLUSTER + "dev", {}, D),
    ("a deny with NotResource leaves the listed resource to the allow",
     [allow("ecs:*"), stmt("Deny", Action="ecs:*", NotResource=CLUSTER + "prod")],
     "ecs:ListTasks", CLUSTER + "prod", {}, A),
    # string conditions and missing keys
    ("StringEquals holds on an equal value",
     [allow("iam:PassRole", ROLE, **cond("StringEquals", "iam:PassedToService",
                                         "ecs-tasks.amazonaws.com"))],
     "iam:PassRole", ROLE, {"iam:PassedToService": "ecs-tasks.amazonaws.com"}, A),
    ("StringEquals fails on another value",
     [allow("iam:PassRole", ROLE, **cond("StringEquals", "iam:PassedToService",
                                         "ecs-tasks.amazonaws.com"))],
     "iam:PassRole", ROLE, {"iam:PassedToService": "lambda.amazonaws.com"}, N),
    ("StringEquals fails on a missing key",
     [allow("iam:PassRole", ROLE, **cond("StringEquals", "iam:PassedToService", "x"))],
     "iam:PassRole", ROLE, {}, N),
    ("condition key names are case-insensitive",
     [allow("iam:PassRole", ROLE, **cond("StringEquals", "IAM:passedtoservice", "x"))],
     "iam:PassRole", ROLE, {"iam:PassedToService": "x"}, A),
    ("StringEquals values are case-sensitive",
     [allow("iam:PassRole", ROLE, **cond("StringEquals", "iam:PassedToService", "X"))],
     "iam:PassRole", ROLE, {"iam:PassedToService": "x"}, N),
    ("StringNotEquals holds on a missing key",
     [allow("ecs:RunTask", **cond("StringNotEquals", "ecs:cluster", "prod"))],
     "ecs:RunTask", TASKDEF, {}, A),
    ("StringNotEquals fails on an equal value",
     [allow("ecs:RunTask", **cond("StringNotEquals", "ecs:cluster", "prod"))],
     "ecs:RunTask", TASKDEF, {"ecs:cluster": "prod"}, N),
    ("StringLike holds on a wildcard match",
     [allow("iam:PassRole", ROLE, **cond("StringLike", "iam:PassedToService", "ecs-tasks.*"))],
     "iam:PassRole", ROLE, {"iam:PassedToService": "ecs-tasks.amazonaws.com"}, A),
    ("StringNotLike holds on a missing key",
     [allow("ecs:RunTask", **cond("StringNotLike", "ecs:cluster", "prod*"))],
     "ecs:RunTask", TASKDEF, {}, A),
    ("StringEqualsIgnoreCase ignores case",
     [allow("ecs:RunTask", **cond("StringEqualsIgnoreCase", "ecs:cluster", "PROD"))],
     "ecs:RunTask", TASKDEF, {"ecs:cluster": "prod"}, A),
    ("StringLikeIfExists holds on a missing key",
     [allow("ecs:RunTask", **cond("StringLikeIfExists", "ecs:cluster", "prod*"))],
     "ecs:RunTask", TASKDEF, {}, A),
    ("StringEqualsIfExists still checks a present key",
     [allow("ecs:RunTask", **cond("StringEqualsIfExists", "ecs:cluster", "prod"))],
     "ecs:RunTask", TASKDEF, {"ecs:cluster": "dev"}, N),
    ("several values for one key are an OR",
     [allow("ecs:RunTask", **cond("StringEquals", "ecs:cluster", ["dev", "prod"]))],
     "ecs:RunTask", TASKDEF, {"ecs:cluster": "prod"}, A),
    ("several keys in a condition are an AND",
     [allow("ecs:RunTask", Condition={"StringEquals": {"ecs:cluster": "prod",
                                                       "aws:RequestedRegion": "eu-west-1"}})],
     "ecs:RunTask", TASKDEF, {"ecs:cluster": "prod", "aws:RequestedRegion": "us-east-1"}, N),
    # Bool and Null
    ("a Bool deny applies when the key is false",
     [allow("*"), deny("*", **cond("Bool", "aws:SecureTransport", "false"))],
     "ecs:RunTask", TASKDEF, {"aws:SecureTransport": "false"}, D),
    ("a Bool deny does not apply on a missing key",
     [allow("*"), deny("*", **cond("Bool", "aws:SecureTransport", "false"))],
     "ecs:RunTask", TASKDEF, {}, A),
    ("a BoolIfExists deny applies on a missing key",
     [allow("*"), deny("*", **cond("BoolIfExists", "aws:MultiFactorAuthPresent", "false"))],
     "ecs:RunTask", TASKDEF, {}, D),
    ("Bool accepts a JSON boolean in the policy",
     [allow("*", **cond("Bool", "aws:MultiFactorAuthPresent", True))],
     "ecs:RunTask", TASKDEF, {"aws:MultiFactorAuthPresent": "true"}, A),
    ("Null true holds when the key is absent",
     [deny("*", **cond("Null", "aws:TokenIssueTime", "true")), allow("*")],
     "ecs:RunTask", TASKDEF, {}, D),
    ("Null false holds when the key is present",
     [allow("*", **cond("Null", "aws:TokenIssueTime", "false"))],
     "ecs:RunTask", TASKDEF, {"aws:TokenIssueTime": NOW}, A),
    ("Null false fails when the key is absent",
     [allow("*", **cond("Null", "aws:TokenIssueTime", "false"))],
     "ecs:RunTask", TASKDEF, {}, N),
    # numbers, dates, addresses, ARNs
    ("NumericLessThan holds below the bound",
     [allow("*", **cond("NumericLessThan", "aws:MultiFactorAuthAge", "3600"))],
     "ecs:RunTask", TASKDEF, {"aws:MultiFactorAuthAge": "100"}, A),
    ("NumericLessThan fails above the bound",
     [allow("*", **cond("NumericLessThan", "aws:MultiFactorAuthAge", "3600"))],
     "ecs:RunTask", TASKDEF, {"aws:MultiFactorAuthAge": "4000"}, N),
    ("a number condition fails on a non-number",
     [allow("*", **cond("NumericGreaterThanEquals", "aws:MultiFactorAuthAge", "1"))],
     "ecs:RunTask", TASKDEF, {"aws:MultiFactorAuthAge": "soon"}, N),
    ("DateLessThan compares ISO 8601 instants",
     [allow("*", **cond("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"))],
     "ecs:RunTask", TASKDEF, {"aws:CurrentTime": NOW}, A),
    ("DateGreaterThan accepts epoch seconds",
     [allow("*", **cond("DateGreaterThan", "aws:CurrentTime", "1893456000"))],
     "ecs:RunTask", TASKDEF, {"aws:CurrentTime": NOW}, N),
    ("IpAddress holds inside the block",
     [allow("*", **cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"))],
     "ecs:RunTask", TASKDEF, {"aws:SourceIp": "203.0.113.5"}, A),
    ("a NotIpAddress deny applies outside the block",
     [allow("*"), deny("*", **cond("NotIpAddress", "aws:SourceIp", ["203.0.113.0/24"]))],
     "ecs:RunTask", TASKDEF, {"aws:SourceIp": "198.51.100.7"}, D),
    ("a NotIpAddress deny does not apply inside the block",
     [allow("*"), deny("*", **cond("NotIpAddress", "aws:SourceIp", ["203.0.113.0/24"]))],
     "ecs:RunTask", TASKDEF, {"aws:SourceIp": "203.0.113.9"}, A),
    ("IpAddress handles IPv6",
     [allow("*", **cond("IpAddress", "aws:SourceIp", "2001:db8::/32"))],
     "ecs:RunTask", TASKDEF, {"aws:SourceIp": "2001:db8::1"}, A),
    ("ArnLike matches a rule wildcard",
     [allow("ecs:RunTask", **cond("ArnLike", "aws:SourceArn",
                                  f"arn:aws:events:*:{ACCOUNT}:rule/*"))],
     "ecs:RunTask", TASKDEF, {"aws:SourceArn": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/r"}, A),
    ("ArnNotEquals holds on a missing key",
     [allow("ecs:RunTask", **cond("ArnNotEquals", "aws:SourceArn", "arn:aws:events:::rule/x"))],
     "ecs:RunTask", TASKDEF, {}, A),
    ("ArnEquals fails on another ARN",
     [allow("ecs:RunTask", **cond("ArnEquals", "aws:SourceArn", "arn:aws:events:::rule/x"))],
     "ecs:RunTask", TASKDEF, {"aws:SourceArn": "arn:aws:events:::rule/y"}, N),
    # multi-valued keys: ForAllValues and ForAnyValue
    ("ForAllValues holds when every value is listed",
     [allow("*", **cond("ForAllValues:StringEquals", "aws:TagKeys", ["team", "env"]))],
     "ecs:TagResource", TASKDEF, {"aws:TagKeys": ["team"]}, A),
    ("ForAllValues fails when one value is not listed",
     [allow("*", **cond("ForAllValues:StringEquals", "aws:TagKeys", ["team", "env"]))],
     "ecs:TagResource", TASKDEF, {"aws:TagKeys": ["team", "cost"]}, N),
    ("ForAllValues holds on a missing key (the trap)",
     [allow("*", **cond("ForAllValues:StringEquals", "aws:TagKeys", ["team"]))],
     "ecs:TagResource", TASKDEF, {}, A),
    ("ForAllValues holds on an empty set",
     [allow("*", **cond("ForAllValues:StringEquals", "aws:TagKeys", ["team"]))],
     "ecs:TagResource", TASKDEF, {"aws:TagKeys": []}, A),
    ("ForAnyValue holds when one value is listed",
     [allow("*", **cond("ForAnyValue:StringEquals", "aws:TagKeys", ["team"]))],
     "ecs:TagResource", TASKDEF, {"aws:TagKeys": ["cost", "team"]}, A),
    ("ForAnyValue fails on a missing key",
     [allow("*", **cond("ForAnyValue:StringEquals", "aws:TagKeys", ["team"]))],
     "ecs:TagResource", TASKDEF, {}, N),
    ("ForAnyValue with a negated operator fails on a missing key",
     [allow("*", **cond("ForAnyValue:StringNotEquals", "aws:TagKeys", ["team"]))],
     "ecs:TagResource", TASKDEF, {}, N),
    ("a ForAnyValue deny catches one forbidden value",
     [allow("*"), deny("*", **cond("ForAnyValue:StringLike", "aws:TagKeys", ["sec*"]))],
     "ecs:TagResource", TASKDEF, {"aws:TagKeys": ["team", "secret"]}, D),
    ("ForAllValues with StringNotEquals needs every value unlisted",
     [allow("*", **cond("ForAllValues:StringNotEquals", "aws:TagKeys", ["owner"]))],
     "ecs:TagResource", TASKDEF, {"aws:TagKeys": ["team", "owner"]}, N),
    # policy variables
    ("a username variable matches the caller's own user",
     [allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}")],
     "iam:GetUser", USER, {"aws:username": "Bob"}, A),
    ("a username variable does not match another user",
     [allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}")],
     "iam:GetUser", USER.replace("Bob", "Alice"), {"aws:username": "Bob"}, N),
    ("an unresolvable variable does not match",
     [allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}")],
     "iam:GetUser", USER, {}, N),
    ("a variable default applies when the key is missing",
     [allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username, 'Bob'}}")],
     "iam:GetUser", USER, {}, A),
    ("a variable's value is literal, never a wildcard",
     [allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}")],
     "iam:GetUser", USER, {"aws:username": "*"}, N),
    ("a ${*} escape is a literal star",
     [allow("s3:GetObject", "arn:aws:s3:::b/${*}x")], "s3:GetObject", "arn:aws:s3:::b/ax", {}, N),
    ("a variable in a condition value is substituted",
     [allow("s3:ListBucket", **cond("StringLike", "s3:prefix", "home/${aws:username}/*"))],
     "s3:ListBucket", "arn:aws:s3:::b", {"aws:username": "Bob", "s3:prefix": "home/Bob/x"}, A),
    ("the events role passes the execution role to ECS only",
     [allow("iam:PassRole", "*", **cond("StringLike", "iam:PassedToService",
                                        "ecs-tasks.amazonaws.com"))],
     "iam:PassRole", ROLE, {"iam:PassedToService": "ecs-tasks.amazonaws.com"}, A),
    ("the events role may tag only while running a task",
     [allow("ecs:TagResource", "*", **cond("StringEquals", "ecs:CreateAction", ["RunTask"]))],
     "ecs:TagResource", TASKDEF, {"ecs:CreateAction": "CreateService"}, N),
]


@pytest.mark.parametrize(("statements", "action", "resource", "context", "expected"),
                         [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_truth_table(statements: list[dict[str, Any]], action: str, resource: str,
                     context: dict[str, Any], expected: str) -> None:
    policies = [named(statements)] if statements else []
    decision = evaluate(Request(action, resource, USER, context), policies)
    assert decision.effect == expected


def test_the_truth_table_is_at_least_sixty_cases() -> None:
    assert len(TABLE) >= 60


def test_version_2008_treats_a_variable_as_plain_text() -> None:
    policy = named([allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}")],
                   version="2008-10-17")
    decision = evaluate(Request("iam:GetUser", USER, USER, {"aws:username": "Bob"}), [policy])
    assert decision.effect == "ImplicitDeny"


# -- identity and session policies together -------------------------------------------------

IDENTITY = named([allow("ecs:*", Sid="Ecs")], "arn:aws:iam::aws:policy/Ecs")
RUN = Request("ecs:RunTask", TASKDEF, USER, {})


@pytest.mark.parametrize(("session", "expected", "scope"), [
    ([named([allow("ecs:RunTask")], "session")], "Allow", "identity"),
    ([named([allow("logs:*")], "session")], "ImplicitDeny", "session"),
    ([named([allow("*"), deny("ecs:Run*", Sid="NoRun")], "session")], "ExplicitDeny", "session"),
    (None, "Allow", "identity"),
    ([], "Allow", "identity"),
])
def test_session_policies_limit_what_the_identity_allows(
        session: Any, expected: str, scope: str) -> None:
    decision = evaluate(RUN, [IDENTITY], session)
    assert (decision.effect, decision.scope) == (expected, scope)


def test_a_session_policy_alone_grants_nothing() -> None:
    decision = evaluate(RUN, [], [named([allow("*")], "session")])
    assert (decision.effect, decision.scope) == ("ImplicitDeny", "identity")


def test_inline_and_managed_allows_are_all_reported() -> None:
    inline = named([allow("ecs:RunTask", TASKDEF, Sid="RunJob")], "inline:Runner/run")
    decision = evaluate(RUN, [IDENTITY, inline])
    assert [tuple(d) for d in decision.statements] == [
        ("arn:aws:iam::aws:policy/Ecs", "Ecs", "Allow"), ("inline:Runner/run", "RunJob", "Allow")]


def test_a_deny_reports_only_the_denying_statements() -> None:
    guard = named([deny("ecs:RunTask", Sid="Freeze")], "inline:Runner/freeze")
    decision = evaluate(RUN, [IDENTITY, guard])
    assert [tuple(d) for d in decision.statements] == [("inline:Runner/freeze", "Freeze", "Deny")]
    assert "Deny statement Freeze in inline:Runner/freeze" in decision.explain()


# -- AWS's AccessDenied wording ---------------------------------------------------------------

def test_the_implicit_deny_message_is_worded_as_aws() -> None:
    decision = evaluate(RUN, [])
    assert decision.message(USER, "ecs:RunTask", TASKDEF) == (
        f"User: {USER} is not authorized to perform: ecs:RunTask on resource: {TASKDEF} "
        "because no identity-based policy allows the ecs:RunTask action")


def test_the_explicit_deny_message_is_worded_as_aws() -> None:
    decision = evaluate(RUN, [named([deny("*")])])
    assert decision.message(USER, "ecs:RunTask", TASKDEF) == (
        f"User: {USER} is not authorized to perform: ecs:RunTask on resource: {TASKDEF} "
        "with an explicit deny in an identity-based policy")


def test_a_session_policy_denial_names_the_session_policy() -> None:
    decision = evaluate(RUN, [IDENTITY], [named([allow("logs:*")], "session")])
    assert decision.message(USER, "ecs:RunTask", TASKDEF).endswith(
        "because no session policy allows the ecs:RunTask action")


def test_an_implicit_deny_explains_that_nothing_allowed() -> None:
    assert evaluate(RUN, []).explain() == (
        "Implicitly denied: no identity-based policy allows the request.")


def test_an_allow_explains_each_statement_with_its_policy_and_sid() -> None:
    anonymous = named([allow("ecs:RunTask")], "inline:Runner/any")
    assert evaluate(RUN, [IDENTITY, anonymous]).explain() == (
        "Allowed by:\n"
        "  - Allow statement Ecs in arn:aws:iam::aws:policy/Ecs\n"
        "  - Allow statement (no Sid) in inline:Runner/any")


# -- permissions boundaries: the intersection with identity (and session) policies -------------------------------

BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/Boundary"


def boundary(*statements: dict[str, Any]) -> NamedPolicy:
    return named(list(statements), BOUNDARY_ARN)


BOUNDARY_TABLE: list[tuple[str, Any, NamedPolicy, Any, str, str]] = [
    ("an allow in both", [IDENTITY], boundary(allow("ecs:RunTask")), None, A, "identity"),
    ("a boundary wildcard", [IDENTITY], boundary(allow("*")), None, A, "identity"),
    ("a boundary that allows other actions", [IDENTITY], boundary(allow("logs:*")), None, N, "boundary"),
    ("a boundary scoped to other resources", [IDENTITY], boundary(allow("ecs:*", CLUSTER + "*")), None,
     N, "boundary"),
    ("a boundary alone grants nothing", [], boundary(allow("*")), None, N, "identity"),
    ("a deny in the boundary", [IDENTITY], boundary(allow("*"), deny("ecs:RunTask", Sid="Freeze")), None,
     D, "boundary"),
    ("an identity deny is named before the boundary's", [named([allow("*"), deny("ecs:*")])],
     boundary(deny("*")), None, D, "identity"),
    ("a boundary condition not met", [IDENTITY],
     boundary(allow("ecs:RunTask", **cond("StringEquals", "ecs:cluster", "prod"))), None, N, "boundary"),
    ("session policies limit too", [IDENTITY], boundary(allow("ecs:*")), [named([allow("logs:*")], "session")],
     N, "session"),
    ("all three allow", [IDENTITY], boundary(allow("ecs:*")), [named([allow("ecs:RunTask")], "session")],
     A, "identity"),
    ("the boundary is checked before the session", [IDENTITY], boundary(allow("logs:*")),
     [named([allow("logs:*")], "session")], N, "boundary"),
    ("a session deny", [IDENTITY], boundary(allow("*")), [named([allow("*"), deny("ecs:*")], "session")],
     D, "session"),
]


@pytest.mark.parametrize(("identity", "limit", "session", "expected", "scope"), [r[1:] for r in BOUNDARY_TABLE],
                         ids=[r[0] for r in BOUNDARY_TABLE])
def test_a_permissions_boundary_intersects_with_the_identity_policies(
        identity: Any, limit: NamedPolicy, session: Any, expected: str, scope: str) -> None:
    decision = evaluate(RUN, identity, session, limit)
    assert (decision.effect, decision.scope) == (expected, scope)


def test_a_boundary_denial_is_worded_as_aws() -> None:
    implicit = evaluate(RUN, [IDENTITY], None, boundary(allow("logs:*")))
    assert implicit.message(USER, "ecs:RunTask", TASKDEF) == (
        f"User: {USER} is not authorized to perform: ecs:RunTask on resource: {TASKDEF} "
        "because no permissions boundary allows the ecs:RunTask action")
    explicit = evaluate(RUN, [IDENTITY], None, boundary(allow("*"), deny("ecs:*", Sid="NoEcs")))
    assert explicit.message(USER, "ecs:RunTask", TASKDEF).endswith("with an explicit deny in a permissions boundary")
    assert [tuple(d) for d in explicit.statements] == [(BOUNDARY_ARN, "NoEcs", "Deny")]


def test_an_allow_names_the_boundary_statement_too() -> None:
    decision = evaluate(RUN, [IDENTITY], None, boundary(allow("ecs:*", Sid="EcsOnly")))
    assert [tuple(d) for d in decision.statements] == [
        ("arn:aws:iam::aws:policy/Ecs", "Ecs", "Allow"), (BOUNDARY_ARN, "EcsOnly", "Allow")]


def test_explain_shows_the_boundary_and_why_it_refused() -> None:
    found = explain(RUN, [IDENTITY], None, boundary(allow("logs:*", Sid="LogsOnly")))
    text = found.text()
    assert text.startswith(f"DENIED (implicit deny): {USER} -> ecs:RunTask on {TASKDEF}")
    assert "Implicitly denied: no permissions boundary allows the request." in text
    assert f"Permissions boundary {BOUNDARY_ARN}:" in text
    assert f"{BOUNDARY_ARN} statement 1 (Sid LogsOnly): Allow logs:* on * -- does not apply: action not matched" in text
    answer = found.to_json()
    assert answer["permissionsBoundary"] == BOUNDARY_ARN
    assert [(s["policy"], s["policyType"], s["applies"]) for s in answer["evaluatedStatements"]] == [
        ("arn:aws:iam::aws:policy/Ecs", "identity", True), (BOUNDARY_ARN, "permissionsBoundary", False)]


def test_explain_without_a_boundary_says_nothing_of_one() -> None:
    found = explain(RUN, [IDENTITY])
    assert "Permissions boundary" not in found.text() and found.to_json()["permissionsBoundary"] is None
