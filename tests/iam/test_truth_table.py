"""The truth table across several policies: managed plus inline, session limits, and the explanations they give.

Single-policy cases (decision order, NotAction/NotResource, conditions, missing keys, variables) are in
test_evaluate.py's TABLE; this table adds the cases AWS's policy-evaluation logic documents across policy types.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.iam import NamedPolicy, Request, parse_policy
from cronbridge.iam.explain import explain

A = "123456789012"
SESSION = f"arn:aws:sts::{A}:assumed-role/EcsEventsRole/hello"
TD = f"arn:aws:ecs:us-east-1:{A}:task-definition/ecs-scheduled-batch-task:1"
TD2 = TD.replace(":1", ":2")
EXEC = f"arn:aws:iam::{A}:role/EcsTaskExecutionRole"
STREAM = f"arn:aws:logs:us-east-1:{A}:log-group:/ecs/job:log-stream:ecs/hello/1"
PASSED = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def s(effect: str, action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource, **extra}


SEED_EVENTS = doc(s("Allow", "iam:PassRole"), s("Allow", "ecs:RunTask", TD))
SEED_EXEC = doc(s("Allow", ["logs:CreateLogStream", "logs:PutLogEvents", "ecr:BatchGetImage"]))
ADMIN = doc(s("Allow", "*", Sid="Admin"))
READ_ONLY = doc(s("Allow", ["ecs:Describe*", "ecs:List*", "logs:Get*"], Sid="Read"))
NO_PROD = doc(s("Deny", "ecs:*", f"arn:aws:ecs:*:{A}:cluster/prod", Sid="NoProd"))
PASS_TO_ECS = doc(
    s(
        "Allow",
        "iam:PassRole",
        EXEC,
        Sid="PassToEcs",
        Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
    )
)
LOG_GROUP_ONLY = doc(s("Allow", "logs:PutLogEvents", f"arn:aws:logs:*:{A}:log-group:/ecs/job", Sid="NoStar"))
LOG_GROUP_STAR = doc(s("Allow", "logs:PutLogEvents", f"arn:aws:logs:*:{A}:log-group:/ecs/job:*", Sid="Star"))

# (case, identity policies, session policies or None, action, resource, context, expected effect)
Row = tuple[str, list[dict[str, Any]], list[dict[str, Any]] | None, str, str, dict[str, Any], str]
MULTI: list[Row] = [
    ("the seed's events role may run its task", [SEED_EVENTS], None, "ecs:RunTask", TD, {}, "Allow"),
    (
        "the seed's events role may not run another revision",
        [SEED_EVENTS],
        None,
        "ecs:RunTask",
        TD2,
        {},
        "ImplicitDeny",
    ),
    ("the seed's events role may pass any role", [SEED_EVENTS], None, "iam:PassRole", EXEC, PASSED, "Allow"),
    ("the seed's events role may not stop tasks", [SEED_EVENTS], None, "ecs:StopTask", "*", {}, "ImplicitDeny"),
    ("the seed's execution role may write its stream", [SEED_EXEC], None, "logs:PutLogEvents", STREAM, {}, "Allow"),
    (
        "the seed's execution role may not create log groups",
        [SEED_EXEC],
        None,
        "logs:CreateLogGroup",
        STREAM,
        {},
        "ImplicitDeny",
    ),
    ("an allow in any attached policy is enough", [READ_ONLY, SEED_EVENTS], None, "ecs:RunTask", TD, {}, "Allow"),
    (
        "a deny in any attached policy wins over an admin policy",
        [ADMIN, NO_PROD],
        None,
        "ecs:ListTasks",
        f"arn:aws:ecs:us-east-1:{A}:cluster/prod",
        {},
        "ExplicitDeny",
    ),
    (
        "a deny elsewhere leaves other resources to the admin policy",
        [ADMIN, NO_PROD],
        None,
        "ecs:ListTasks",
        f"arn:aws:ecs:us-east-1:{A}:cluster/dev",
        {},
        "Allow",
    ),
    ("read-only wildcards do not reach writes", [READ_ONLY], None, "ecs:RunTask", TD, {}, "ImplicitDeny"),
    ("read-only wildcards reach describes", [READ_ONLY], None, "ecs:DescribeTasks", "*", {}, "Allow"),
    ("PassRole limited to ECS passes to ECS", [PASS_TO_ECS], None, "iam:PassRole", EXEC, PASSED, "Allow"),
    (
        "PassRole limited to ECS does not pass to Lambda",
        [PASS_TO_ECS],
        None,
        "iam:PassRole",
        EXEC,
        {"iam:PassedToService": "lambda.amazonaws.com"},
        "ImplicitDeny",
    ),
    ("PassRole limited to ECS needs the service key", [PASS_TO_ECS], None, "iam:PassRole", EXEC, {}, "ImplicitDeny"),
    (
        "a log-group ARN without :* does not cover its streams (the trap)",
        [LOG_GROUP_ONLY],
        None,
        "logs:PutLogEvents",
        STREAM,
        {},
        "ImplicitDeny",
    ),
    ("a log-group ARN with :* covers its streams", [LOG_GROUP_STAR], None, "logs:PutLogEvents", STREAM, {}, "Allow"),
    (
        "a session policy allowing the action keeps the identity's allow",
        [ADMIN],
        [SEED_EVENTS],
        "ecs:RunTask",
        TD,
        {},
        "Allow",
    ),
    ("a session policy narrows an admin identity", [ADMIN], [SEED_EVENTS], "ecs:StopTask", "*", {}, "ImplicitDeny"),
    ("a session policy never widens the identity", [READ_ONLY], [ADMIN], "ecs:RunTask", TD, {}, "ImplicitDeny"),
    ("the intersection of identity and session is allowed", [READ_ONLY], [ADMIN], "ecs:ListTasks", "*", {}, "Allow"),
    (
        "a deny in the session policy wins",
        [ADMIN],
        [doc(s("Allow", "*"), s("Deny", "ecs:RunTask"))],
        "ecs:RunTask",
        TD,
        {},
        "ExplicitDeny",
    ),
    (
        "a deny in the identity wins over a session allow",
        [ADMIN, NO_PROD],
        [ADMIN],
        "ecs:RunTask",
        f"arn:aws:ecs:us-east-1:{A}:cluster/prod",
        {},
        "ExplicitDeny",
    ),
    ("an empty session policy list does not limit", [SEED_EVENTS], [], "ecs:RunTask", TD, {}, "Allow"),
    ("no policy at all denies implicitly", [], None, "sts:AssumeRole", EXEC, {}, "ImplicitDeny"),
    (
        "a session policy with NotAction limits to everything else",
        [ADMIN],
        [doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})],
        "iam:PassRole",
        EXEC,
        PASSED,
        "ImplicitDeny",
    ),
]


def named(documents: list[dict[str, Any]], prefix: str) -> list[NamedPolicy]:
    return [NamedPolicy(f"{prefix}{i}", parse_policy(d)) for i, d in enumerate(documents)]


@pytest.mark.parametrize(
    ("identity", "session", "action", "resource", "context", "expected"),
    [row[1:] for row in MULTI],
    ids=[row[0] for row in MULTI],
)
def test_multi_policy_truth_table(
    identity: list[dict[str, Any]],
    session: list[dict[str, Any]] | None,
    action: str,
    resource: str,
    context: dict[str, Any],
    expected: str,
) -> None:
    found = explain(
        Request(action, resource, SESSION, context),
        named(identity, "policy/p"),
        None if session is None else named(session, "session/s"),
    )
    assert found.decision.effect == expected


def test_this_table_adds_two_dozen_cases_to_the_single_policy_table() -> None:
    assert len(MULTI) >= 24  # with test_evaluate.TABLE's 80-odd: well over sixty documented cases


def test_an_explanation_lists_why_each_statement_did_not_apply() -> None:
    found = explain(Request("ecs:RunTask", TD2, SESSION), named([SEED_EVENTS], "EcsRunTaskEventsPolicy"))
    assert found.text().splitlines() == [
        f"DENIED (implicit deny): {SESSION} -> ecs:RunTask on {TD2}",
        f"User: {SESSION} is not authorized to perform: ecs:RunTask on resource: {TD2} because no "
        "identity-based policy allows the ecs:RunTask action",
        "Implicitly denied: no identity-based policy allows the request.",
        "Statements evaluated:",
        "  - EcsRunTaskEventsPolicy0 statement 1 (no Sid): Allow iam:PassRole on * -- does not apply: action "
        "not matched",
        f"  - EcsRunTaskEventsPolicy0 statement 2 (no Sid): Allow ecs:RunTask on {TD} -- does not apply: "
        "resource not matched",
    ]


def test_an_explanation_says_which_condition_failed_and_serializes() -> None:
    found = explain(
        Request("iam:PassRole", EXEC, SESSION, {"iam:PassedToService": "lambda.amazonaws.com"}),
        named([PASS_TO_ECS], "Pass"),
    )
    assert "Sid PassToEcs" in found.text()
    assert "if StringEquals iam:PassedToService -- does not apply: condition not met" in found.text()
    body = found.to_json()
    assert body["decision"] == "ImplicitDeny" and body["allowed"] is False
    assert body["evaluatedStatements"][0]["conditionsMet"] is False


def test_an_allow_explanation_names_the_deciding_statement() -> None:
    found = explain(Request("ecs:RunTask", TD, SESSION), named([ADMIN], "Admin"))
    assert found.to_json()["decidingStatements"] == [{"policy": "Admin0", "sid": "Admin", "effect": "Allow"}]
    assert found.to_json()["message"] is None


STATEMENTS = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Deny"]),
        "Action": st.lists(st.sampled_from(["*", "ecs:*", "ecs:RunTask", "iam:PassRole", "logs:Put*"]), min_size=1),
        "Resource": st.sampled_from(["*", TD, TD2, EXEC, f"arn:aws:ecs:*:{A}:task-definition/*"]),
    }
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(STATEMENTS, max_size=4),
    st.sampled_from(["ecs:RunTask", "iam:PassRole", "logs:PutLogEvents"]),
    st.sampled_from([TD, TD2, EXEC, STREAM]),
)
def test_the_statements_an_explanation_says_apply_are_the_deciding_ones(
    statements: list[dict[str, Any]], action: str, resource: str
) -> None:
    found = explain(Request(action, resource, SESSION), named([doc(*statements)] if statements else [], "p"))
    applying = {(c.policy, c.effect) for c in found.checks if c.applies}
    if found.decision.effect == "ExplicitDeny":
        assert ("p0", "Deny") in applying
    elif found.decision.effect == "Allow":
        assert applying == {("p0", "Allow")}
    else:
        assert not applying
