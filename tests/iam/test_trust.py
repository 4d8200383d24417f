"""Trust policies: which principals may assume a role, and on which conditions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cronbridge.iam import parse_policy, trust_allows

ACCOUNT = "123456789012"
SEED = Path("/work/shared/seed/terraform/policies")


def trust(*statements: dict[str, Any]) -> Any:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, kind="trust")


def assume(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


EVENTS = trust(assume({"Service": "events.amazonaws.com"}))


@pytest.mark.parametrize(("policy", "principal", "expected"), [
    (EVENTS, {"Service": "events.amazonaws.com"}, "Allow"),
    (EVENTS, {"Service": "scheduler.amazonaws.com"}, "ImplicitDeny"),
    (EVENTS, {"AWS": f"arn:aws:iam::{ACCOUNT}:user/Bob"}, "ImplicitDeny"),
    (trust(assume({"AWS": ACCOUNT})), {"AWS": f"arn:aws:iam::{ACCOUNT}:user/Bob"}, "Allow"),
    (trust(assume({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})),
     {"AWS": f"arn:aws:iam::{ACCOUNT}:role/Ops"}, "Allow"),
    (trust(assume({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})),
     {"AWS": "arn:aws:iam::210987654321:role/Ops"}, "ImplicitDeny"),
    (trust(assume({"AWS": f"arn:aws:iam::{ACCOUNT}:user/Bob"})),
     {"AWS": f"arn:aws:iam::{ACCOUNT}:user/Alice"}, "ImplicitDeny"),
    (trust(assume("*")), {"Service": "ecs-tasks.amazonaws.com"}, "Allow"),
    (trust(assume("*"), {"Effect": "Deny", "Principal": {"Service": "events.amazonaws.com"},
                         "Action": "sts:*"}), {"Service": "events.amazonaws.com"}, "ExplicitDeny"),
    (trust({"Effect": "Allow", "NotPrincipal": {"Service": "events.amazonaws.com"},
            "Action": "sts:AssumeRole"}), {"Service": "ecs-tasks.amazonaws.com"}, "Allow"),
])
def test_a_trust_policy_admits_only_its_principals(policy: Any, principal: dict[str, str],
                                                   expected: str) -> None:
    assert trust_allows(policy, principal).effect == expected


def test_a_trust_policy_checks_its_action() -> None:
    decision = trust_allows(EVENTS, {"Service": "events.amazonaws.com"},
                            action="sts:AssumeRoleWithWebIdentity")
    assert decision.effect == "ImplicitDeny"


def test_a_trust_policy_condition_on_the_source_account_is_checked() -> None:
    policy = trust(assume({"Service": "events.amazonaws.com"},
                          Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}}))
    service = {"Service": "events.amazonaws.com"}
    assert trust_allows(policy, service, context={"aws:SourceAccount": ACCOUNT}).allowed
    assert not trust_allows(policy, service, context={"aws:SourceAccount": "1"}).allowed
    assert not trust_allows(policy, service).allowed


@pytest.mark.parametrize(("file", "service"), [
    ("events-assume-role.json", "events.amazonaws.com"),
    ("ecs-task-assume-role.json", "ecs-tasks.amazonaws.com"),
])
def test_the_seed_trust_policies_admit_their_service(file: str, service: str) -> None:
    path = SEED / file
    if not path.exists():
        pytest.skip(f"seed policy {path} is not present")
    policy = parse_policy(json.loads(path.read_text()), kind="trust")
    assert trust_allows(policy, {"Service": service}).allowed
    assert not trust_allows(policy, {"Service": "lambda.amazonaws.com"}).allowed


def test_a_trust_decision_names_the_resource_based_policy_in_its_message() -> None:
    decision = trust_allows(EVENTS, {"Service": "scheduler.amazonaws.com"})
    assert decision.message("scheduler.amazonaws.com", "sts:AssumeRole", "arn:r").endswith(
        "because no resource-based policy allows the sts:AssumeRole action")
