"""Properties of evaluation: an explicit deny never grants, an allow never denies."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.iam import NamedPolicy, Request, evaluate, parse_policy
from cronbridge.iam.explain import explain

ACTIONS = ["ecs:RunTask", "ecs:StopTask", "logs:PutLogEvents", "iam:PassRole"]
RESOURCES = ["arn:aws:ecs:us-east-1:1:task-definition/job:1", "arn:aws:ecs:us-east-1:1:cluster/c",
             "arn:aws:iam::1:role/r"]
ACTION_PATTERNS = st.sampled_from(["*", "ecs:*", "ecs:Run*", "logs:*", "iam:PassRole",
                                   "ECS:STOPTASK", "ecs:*Task", "ecs:?topTask"])
RESOURCE_PATTERNS = st.sampled_from(["*", "arn:aws:ecs:*:1:*", "arn:aws:iam::1:role/*",
                                     "arn:aws:ecs:us-east-1:1:cluster/?", "arn:aws:s3:::x"])
CONDITIONS = st.sampled_from([
    None,
    {"StringEquals": {"ecs:cluster": "c"}},
    {"StringNotEquals": {"ecs:cluster": "c"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": ["a*"]}},
    {"BoolIfExists": {"aws:SecureTransport": "true"}},
    {"Null": {"ecs:cluster": "true"}},
])
CONTEXTS = st.fixed_dictionaries({}, optional={
    "ecs:cluster": st.sampled_from(["c", "d"]),
    "aws:TagKeys": st.lists(st.sampled_from(["a", "ab", "b"]), max_size=3),
    "aws:SecureTransport": st.sampled_from(["true", "false"]),
})


@st.composite
def statements(draw: Any, effect: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": effect or draw(st.sampled_from(["Allow", "Deny"])),
        draw(st.sampled_from(["Action", "NotAction"])): draw(st.lists(ACTION_PATTERNS,
                                                                        min_size=1, max_size=2)),
        draw(st.sampled_from(["Resource", "NotResource"])): draw(RESOURCE_PATTERNS),
    }
    condition = draw(CONDITIONS)
    if condition:
        statement["Condition"] = condition
    return statement


def policy(items: list[dict[str, Any]], name: str = "p") -> NamedPolicy:
    return NamedPolicy(name, parse_policy({"Version": "2012-10-17", "Statement": items}))


REQUESTS = st.builds(Request, st.sampled_from(ACTIONS), st.sampled_from(RESOURCES),
                     st.just("arn:aws:iam::1:user/u"), CONTEXTS)
POLICY_LISTS = st.lists(st.lists(statements(), min_size=1, max_size=3), max_size=3)


def _named(lists: list[list[dict[str, Any]]]) -> list[NamedPolicy]:
    return [policy(items, f"p{i}") for i, items in enumerate(lists)]


@settings(max_examples=300, deadline=None)
@given(POLICY_LISTS, statements(effect="Deny"), REQUESTS)
def test_adding_an_explicit_deny_never_grants(lists: Any, extra: Any, request: Request) -> None:
    before = evaluate(request, _named(lists))
    after = evaluate(request, [*_named(lists), policy([extra], "extra")])
    assert not (after.allowed and not before.allowed)
    if before.effect == "ExplicitDeny":
        assert after.effect == "ExplicitDeny"


@settings(max_examples=300, deadline=None)
@given(POLICY_LISTS, statements(effect="Allow"), REQUESTS)
def test_adding_an_allow_never_denies(lists: Any, extra: Any, request: Request) -> None:
    before = evaluate(request, _named(lists))
    after = evaluate(request, [*_named(lists), policy([extra], "extra")])
    if before.allowed:
        assert after.allowed
    if before.effect == "ExplicitDeny":
        assert after.effect == "ExplicitDeny"


@settings(max_examples=200, deadline=None)
@given(POLICY_LISTS, POLICY_LISTS, REQUESTS)
def test_a_session_policy_only_ever_narrows(lists: Any, session: Any, request: Request) -> None:
    alone = evaluate(request, _named(lists))
    limited = evaluate(request, _named(lists), _named(session))
    assert not (limited.allowed and not alone.allowed)


@settings(max_examples=200, deadline=None)
@given(POLICY_LISTS, REQUESTS)
def test_statement_and_policy_order_do_not_matter(lists: Any, request: Request) -> None:
    forward = evaluate(request, _named(lists)).effect
    backward = evaluate(request, _named([list(reversed(x)) for x in reversed(lists)])).effect
    assert forward == backward


@settings(max_examples=200, deadline=None)
@given(POLICY_LISTS, REQUESTS)
def test_an_allowed_decision_always_names_an_allow(lists: Any, request: Request) -> None:
    decision = evaluate(request, _named(lists))
    effects = {d.effect for d in decision.statements}
    expected = {"Allow": {"Allow"}, "ExplicitDeny": {"Deny"}, "ImplicitDeny": set()}
    assert effects == expected[decision.effect]


BOUNDARIES = st.lists(statements(), min_size=1, max_size=3).map(lambda items: policy(items, "boundary"))


@settings(max_examples=300, deadline=None)
@given(POLICY_LISTS, BOUNDARIES, REQUESTS)
def test_a_boundary_allows_exactly_the_intersection(lists: Any, limit: NamedPolicy, request: Request) -> None:
    together = evaluate(request, _named(lists), None, limit)
    assert together.allowed == (evaluate(request, _named(lists)).allowed and evaluate(request, [limit]).allowed)


@settings(max_examples=300, deadline=None)
@given(POLICY_LISTS, POLICY_LISTS, BOUNDARIES, REQUESTS)
def test_identity_boundary_and_session_policies_all_must_allow(
        lists: Any, session: Any, limit: NamedPolicy, request: Request) -> None:
    together = evaluate(request, _named(lists), _named(session), limit)
    parts = [evaluate(request, _named(lists)), evaluate(request, [limit])]
    if session:
        parts.append(evaluate(request, _named(session)))
    assert together.allowed == all(p.allowed for p in parts)
    if any(p.effect == "ExplicitDeny" for p in parts):
        assert together.effect == "ExplicitDeny"


@settings(max_examples=200, deadline=None)
@given(POLICY_LISTS, BOUNDARIES, REQUESTS)
def test_explain_agrees_with_evaluate_under_a_boundary(lists: Any, limit: NamedPolicy, request: Request) -> None:
    found = explain(request, _named(lists), None, limit)
    assert found.decision == evaluate(request, _named(lists), None, limit)
    applying = {(c.policy, c.sid, c.effect) for c in found.checks + found.boundary_checks if c.applies}
    assert {tuple(d) for d in found.decision.statements} <= applying
