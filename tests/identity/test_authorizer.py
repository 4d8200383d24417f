"""The authorizer along the launch chain, with the seed's own policies (events role, execution role)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cronbridge.clock import FakeClock
from cronbridge.errors import AccessDenied, LaunchError
from cronbridge.iam import NamedPolicy, Policy, parse_policy
from cronbridge.identity import IdentityService
from cronbridge.identity.authorizer import Authorizer, IdentityPolicies, InvocationDenied, LaunchPlan, assumed_role_arn
from cronbridge.model.ecs import ContainerDefinition, LogConfiguration, Task, TaskDefinition, TaskOverride
from cronbridge.store.db import SqliteDatabase

SEED = Path("/work/shared/seed/terraform/policies")
ACCOUNT = "000000000000"
TASKDEF = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/ecs-scheduled-batch-task:1"
EVENTS_ROLE = f"arn:aws:iam::{ACCOUNT}:role/EcsEventsRole-sample"
EXEC_ROLE = f"arn:aws:iam::{ACCOUNT}:role/EcsTaskExecutionRole-sample"
RULE = f"arn:aws:events:us-east-1:{ACCOUNT}:rule/hello"
CLUSTER = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/default"


def seed(name: str, **substitute: str) -> dict[str, Any]:
    text = (SEED / name).read_text() if SEED.exists() else _FALLBACK[name]
    for key, value in substitute.items():
        text = text.replace("${" + key + "}", value)
    document: dict[str, Any] = json.loads(text)
    return document


_FALLBACK = {  # the seed's files, for machines without /work/shared
    "events-assume-role.json": json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    ),
    "ecs-task-assume-role.json": json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "",
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    ),
    "events-policy.json": json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
                {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": "${task_definition_arn}"},
            ],
        }
    ),
    "ecs-task-execution-policy.json": json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "ecr:BatchGetImage"],
                    "Resource": "*",
                }
            ],
        }
    ),
}


class Roles:
    """A PolicySource of roles only: name -> (trust policy, managed policies)."""

    def __init__(self) -> None:
        self.roles: dict[str, tuple[Policy, list[NamedPolicy]]] = {}
        self.changes = 0

    def add(self, arn: str, trust: dict[str, Any], *policies: tuple[str, dict[str, Any]]) -> None:
        self.changes += 1
        self.roles[arn] = (
            parse_policy(trust, kind="trust"),
            [NamedPolicy(name, parse_policy(doc)) for name, doc in policies],
        )

    def policies_for(self, principal_arn: str) -> tuple[list[NamedPolicy], list[NamedPolicy] | None]:
        for arn, (_trust, policies) in self.roles.items():
            if principal_arn.startswith(assumed_role_arn(arn, "")) or principal_arn == arn:
                return policies, None
        return [], None

    def boundary_for(self, principal_arn: str) -> NamedPolicy | None:
        return None

    def trust_policy(self, role_arn: str) -> Policy | None:
        found = self.roles.get(role_arn)
        return found[0] if found else None

    def generation(self) -> int:
        return self.changes


def events_policy(drop: str | None = None) -> tuple[str, dict[str, Any]]:
    document = seed("events-policy.json", task_definition_arn=TASKDEF)
    document["Statement"] = [s for s in document["Statement"] if s["Action"] != drop]
    return f"arn:aws:iam::{ACCOUNT}:policy/EcsRunTaskEventsPolicy", document


def execution_policy(drop: tuple[str, ...] = ()) -> tuple[str, dict[str, Any]]:
    document = seed("ecs-task-execution-policy.json")
    for statement in document["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a not in drop]
    return f"arn:aws:iam::{ACCOUNT}:policy/EcsTaskExecutionPolicy-sample", document


def world(
    *, drop_action: str | None = None, trust: str = "events-assume-role.json", exec_drop: tuple[str, ...] = ()
) -> Authorizer:
    roles = Roles()
    roles.add(EVENTS_ROLE, seed(trust), events_policy(drop_action))
    roles.add(EXEC_ROLE, seed("ecs-task-assume-role.json"), execution_policy(exec_drop))
    return Authorizer(roles)


def definition(create_group: bool = False) -> TaskDefinition:
    options = {
        "awslogs-group": "/ecs/fargate-task-definition",
        "awslogs-region": "ap-northeast-1",
        "awslogs-stream-prefix": "ecs",
    }
    if create_group:
        options["awslogs-create-group"] = "true"
    container = ContainerDefinition(
        name="hello", image="busybox", log_configuration=LogConfiguration("awslogs", options)
    )
    return TaskDefinition(
        task_definition_arn=TASKDEF,
        family="ecs-scheduled-batch-task",
        revision=1,
        container_definitions=[container],
        execution_role_arn=EXEC_ROLE,
        task_role_arn=EXEC_ROLE,
    )


def plan(**changes: Any) -> LaunchPlan:
    fields: dict[str, Any] = {
        "role_arn": EVENTS_ROLE,
        "service_principal": "events.amazonaws.com",
        "source_arn": RULE,
        "account": ACCOUNT,
        "task_definition": definition(),
        "cluster_arn": CLUSTER,
    }
    return LaunchPlan(**{**fields, **changes})


def test_the_seed_events_role_may_launch_the_seed_task() -> None:
    session = world().authorize_launch(plan())
    assert session == f"arn:aws:sts::{ACCOUNT}:assumed-role/EcsEventsRole-sample/hello"


def test_without_run_task_the_launch_is_refused_with_aws_message_and_the_statements() -> None:
    with pytest.raises(InvocationDenied) as caught:
        world(drop_action="ecs:RunTask").authorize_launch(plan())
    text = caught.value.message
    assert caught.value.code == "AccessDeniedException"
    assert text.startswith(
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/EcsEventsRole-sample/hello is not authorized to perform: "
        f"ecs:RunTask on resource: {TASKDEF} because no identity-based policy allows the ecs:RunTask action"
    )
    assert "EcsRunTaskEventsPolicy statement 1 (no Sid): Allow iam:PassRole on * -- does not apply: action" in text


def test_without_pass_role_the_launch_is_refused_on_the_execution_role() -> None:
    with pytest.raises(InvocationDenied) as caught:
        world(drop_action="iam:PassRole").authorize_launch(plan())
    assert f"perform: iam:PassRole on resource: {EXEC_ROLE}" in caught.value.message


def test_a_trust_policy_for_another_service_refuses_the_assume_role() -> None:
    with pytest.raises(InvocationDenied) as caught:
        world(trust="ecs-task-assume-role.json").authorize_launch(plan())
    assert caught.value.message.startswith(
        f"events.amazonaws.com is not authorized to perform: sts:AssumeRole on resource: {EVENTS_ROLE}"
    )


def test_a_schedule_needs_the_scheduler_principal_in_the_trust_policy() -> None:
    with pytest.raises(InvocationDenied, match="scheduler.amazonaws.com"):
        world().authorize_launch(plan(service_principal="scheduler.amazonaws.com"))


def test_a_missing_role_and_a_target_without_role_are_refused() -> None:
    with pytest.raises(InvocationDenied, match="does not exist"):
        world().authorize_launch(plan(role_arn=f"arn:aws:iam::{ACCOUNT}:role/Nope"))
    with pytest.raises(InvocationDenied, match="no RoleArn"):
        world().authorize_launch(plan(role_arn=None))


def test_a_run_task_grant_on_another_revision_does_not_allow_this_one() -> None:
    other = definition()
    other.task_definition_arn = TASKDEF.replace(":1", ":2")
    with pytest.raises(InvocationDenied, match="task-definition/ecs-scheduled-batch-task:2"):
        world().authorize_launch(plan(task_definition=other))


def test_an_override_role_must_be_passable_too() -> None:
    roles = Roles()
    narrow = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": TASKDEF},
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": EXEC_ROLE,
                "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            },
        ],
    }
    roles.add(EVENTS_ROLE, seed("events-assume-role.json"), ("inline:narrow", narrow))
    Authorizer(roles).authorize_launch(plan())
    other = f"arn:aws:iam::{ACCOUNT}:role/Other"
    with pytest.raises(InvocationDenied, match=f"iam:PassRole on resource: {other}"):
        Authorizer(roles).authorize_launch(plan(overrides=TaskOverride(task_role_arn=other)))


def test_propagated_tags_need_tag_resource_with_the_create_action() -> None:
    with pytest.raises(InvocationDenied, match="ecs:TagResource"):
        world().authorize_launch(plan(tags=["team"]))


def test_the_execution_role_must_write_the_log_stream() -> None:
    world().check_execution_role(definition(), "abc", "us-east-1")
    with pytest.raises(LaunchError) as caught:
        world(exec_drop=("logs:PutLogEvents",)).check_execution_role(definition(), "abc", "us-east-1")
    assert caught.value.kind == "ResourceInitializationError"
    assert (
        "logs:PutLogEvents on resource: arn:aws:logs:ap-northeast-1:000000000000:log-group:"
        "/ecs/fargate-task-definition:log-stream:ecs/hello/abc" in caught.value.detail
    )


def test_awslogs_create_group_needs_create_log_group() -> None:
    with pytest.raises(LaunchError, match="logs:CreateLogGroup"):
        world().check_execution_role(definition(create_group=True), "abc", "us-east-1")


def test_a_task_without_execution_role_cannot_write_awslogs_when_enforcing() -> None:
    bare = definition()
    bare.execution_role_arn = None
    with pytest.raises(LaunchError, match="no execution role"):
        world().check_execution_role(bare, "abc", "us-east-1")
    Authorizer(Roles(), enforcing=False).check_execution_role(bare, "abc", "us-east-1")  # open mode: allowed


def test_open_mode_authorizes_every_launch() -> None:
    assert Authorizer(Roles(), enforcing=False).authorize_launch(plan(role_arn=None)) is None
    assert not Authorizer(Roles(), enforcing=False).enforcing


def test_check_raises_aws_access_denied_and_explain_names_the_deciding_statement() -> None:
    authorizer = world()
    session = assumed_role_arn(EVENTS_ROLE, "s")
    found = authorizer.check(session, "ecs:RunTask", TASKDEF)
    assert [tuple(d) for d in found.decision.statements] == [
        (f"arn:aws:iam::{ACCOUNT}:policy/EcsRunTaskEventsPolicy", None, "Allow")
    ]
    with pytest.raises(AccessDenied, match="because no identity-based policy allows the ecs:StopTask action"):
        authorizer.check(session, "ecs:StopTask", TASKDEF)


# -- on the real identity store -------------------------------------------------------------------


@pytest.fixture
def identity(tmp_path: Path) -> Iterator[IdentityService]:
    db = SqliteDatabase(tmp_path / "state.db")
    yield IdentityService(db, FakeClock(1_800_000_000.0), ACCOUNT, lambda: None)
    db.close()


def store_world(identity: IdentityService, base_url: str | None = None) -> Authorizer:
    identity.create_role("EcsEventsRole-sample", json.dumps(seed("events-assume-role.json")))
    name, document = events_policy()
    policy = identity.policies.create("EcsRunTaskEventsPolicy", json.dumps(document))
    identity.policies.attach("role", "EcsEventsRole-sample", policy.arn)
    identity.create_role("EcsTaskExecutionRole-sample", json.dumps(seed("ecs-task-assume-role.json")))
    identity.policies.put_inline("role", "EcsTaskExecutionRole-sample", "exec", json.dumps(execution_policy()[1]))
    source = IdentityPolicies(identity, identity.clock)
    return Authorizer(source, issuer=source, base_url=base_url, token_key=b"test-key")


def test_the_identity_store_backs_launches_and_explanations(identity: IdentityService) -> None:
    authorizer = store_world(identity)
    assert authorizer.authorize_launch(plan()) == f"arn:aws:sts::{ACCOUNT}:assumed-role/EcsEventsRole-sample/hello"
    authorizer.check_execution_role(definition(), "abc", "us-east-1")
    for principal in (EVENTS_ROLE, assumed_role_arn(EVENTS_ROLE, "any")):
        found = authorizer.explain(principal, "ecs:RunTask", TASKDEF)
        assert [tuple(d) for d in found.decision.statements] == [
            (f"arn:aws:iam::{ACCOUNT}:policy/EcsRunTaskEventsPolicy", None, "Allow")
        ]
    assert not authorizer.explain(f"arn:aws:iam::{ACCOUNT}:user/nobody", "ecs:RunTask", TASKDEF).decision.allowed
    assert authorizer.explain(f"arn:aws:iam::{ACCOUNT}:root", "ecs:RunTask", TASKDEF).decision.allowed


def test_task_credentials_are_the_task_role_session_and_need_the_token(identity: IdentityService) -> None:
    authorizer = store_world(identity, base_url="http://127.0.0.1:4599")
    task = Task(task_arn=f"arn:aws:ecs:us-east-1:{ACCOUNT}:task/default/0123abcd", overrides=TaskOverride())
    env = authorizer.task_environment(task, definition())
    assert env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == "http://127.0.0.1:4599/_cronbridge/task-credentials/0123abcd"
    with pytest.raises(AccessDenied):
        authorizer.task_credentials("0123abcd", "not-the-token")
    found = authorizer.task_credentials("0123abcd", env["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
    assert found["RoleArn"] == EXEC_ROLE and found["AccessKeyId"].startswith("ASIA")
    principal = identity.principal_of_key(found["AccessKeyId"])
    assert principal is not None and principal.arn.startswith(
        f"arn:aws:sts::{ACCOUNT}:assumed-role/EcsTaskExecutionRole-sample/"
    )
    assert authorizer.task_environment(task, TaskDefinition(family="bare")) == {}


def test_an_allowed_launch_is_remembered_until_the_identity_store_changes(identity: IdentityService) -> None:
    authorizer = store_world(identity)
    assert authorizer.authorize_launch(plan())
    policy_arn = f"arn:aws:iam::{ACCOUNT}:policy/EcsRunTaskEventsPolicy"
    identity.policies.detach("role", "EcsEventsRole-sample", policy_arn)  # a change: decided again
    with pytest.raises(InvocationDenied, match="ecs:RunTask"):
        authorizer.authorize_launch(plan())
    identity.policies.attach("role", "EcsEventsRole-sample", policy_arn)
    assert authorizer.authorize_launch(plan())
    other = plan(source_arn=RULE.replace("/hello", "/other"))  # another rule: its own trust question
    assert authorizer.authorize_launch(other) == f"arn:aws:sts::{ACCOUNT}:assumed-role/EcsEventsRole-sample/other"


def test_a_refused_launch_is_decided_and_explained_every_time() -> None:
    authorizer = world(drop_action="ecs:RunTask")
    for _ in range(2):
        with pytest.raises(InvocationDenied, match="Statements evaluated"):
            authorizer.authorize_launch(plan())
