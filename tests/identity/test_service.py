"""IdentityService on a real SQLite file with a fake clock: users, roles, keys, policies, sessions, bootstrap."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cronbridge.clock import FakeClock
from cronbridge.iam import MalformedPolicy, Request, evaluate
from cronbridge.iam.limits import PolicyTooLarge
from cronbridge.identity import IdentityService
from cronbridge.identity.bootstrap import read_credentials, write_credentials
from cronbridge.identity.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    IamAccessDenied,
    IamValidationError,
    LimitExceeded,
    NoSuchEntity,
)
from cronbridge.store.database import open_database

ACCOUNT = "123456789012"
EVENTS_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
ACCOUNT_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
)
RUN_TASK = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Run", "Effect": "Allow", "Action": "ecs:RunTask", "Resource": "*"}],
    }
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_800_000_000.0)


@pytest.fixture
def identity(database_location: str, clock: FakeClock) -> Iterator[IdentityService]:
    db = open_database(database_location)  # IAM's tables on both engines (names compared without regard to case)
    yield IdentityService(db, clock, ACCOUNT, lambda: None)
    db.close()


def test_bootstrap_creates_an_administrator_with_one_key_once(identity: IdentityService) -> None:
    pair, new = identity.bootstrap()
    again, new_again = identity.bootstrap()
    assert new and not new_again and again.access_key_id == pair.access_key_id
    assert pair.access_key_id.startswith("AKIA") and len(pair.access_key_id) == 20
    assert len(pair.secret_access_key) == 40
    principal = identity.principal_of_key(pair.access_key_id)
    assert principal is not None and principal.arn == f"arn:aws:iam::{ACCOUNT}:user/admin"
    decision = evaluate(
        Request("ecs:RunTask", "arn:aws:ecs:us-east-1:1:task/x", principal.arn), identity.policies_for(principal)
    )
    assert decision.allowed and decision.statements[0].policy == "inline:admin/AdministratorAccess"


def test_processes_bootstrapping_at_once_make_everything_once(database_location: str, clock: FakeClock) -> None:
    """A server process starting while another resets (both bootstrap the same database): no duplicate, no error."""
    dbs = [open_database(database_location) for _ in range(4)]
    services = [IdentityService(db, clock, ACCOUNT, lambda: None) for db in dbs]
    try:
        for _ in range(3):
            for db in dbs[:1]:
                db.wipe()
            with ThreadPoolExecutor(len(services)) as pool:
                pairs = list(pool.map(lambda s: s.bootstrap("AKIDTEST", "secret")[0], services))
            assert {p.access_key_id for p in pairs} == {"AKIDTEST"}
            assert [u.name for u in services[0].list_users()] == ["admin"]
            events_role = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceEventsRole"
            assert services[0].policies.get(events_role).default_version == "v1"
    finally:
        for db in dbs:
            db.close()


def test_bootstrap_with_fixed_credentials_uses_them(identity: IdentityService) -> None:
    pair, _ = identity.bootstrap("AKIDTEST", "secret")
    key = identity.lookup_key("AKIDTEST")
    assert pair.access_key_id == "AKIDTEST" and key is not None and key.secret_access_key == "secret"


def test_the_credentials_file_is_private_and_readable(tmp_path: Path, identity: IdentityService) -> None:
    pair, _ = identity.bootstrap()
    path = tmp_path / "admin-credentials"
    write_credentials(path, pair)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert read_credentials(path) == (pair.access_key_id, pair.secret_access_key)


def test_state_survives_reopening_the_database(database_location: str, clock: FakeClock) -> None:
    db = open_database(database_location)
    first = IdentityService(db, clock, ACCOUNT, lambda: None)
    pair, _ = first.bootstrap()
    first.create_role("r", EVENTS_TRUST)
    db.close()
    second = IdentityService(open_database(database_location), clock, ACCOUNT, lambda: None)
    assert second.bootstrap()[0].access_key_id == pair.access_key_id
    assert second.get_role("r").trust_policy == EVENTS_TRUST


def test_users_and_roles_are_unique_regardless_of_case(identity: IdentityService) -> None:
    identity.create_user("Alice")
    with pytest.raises(EntityAlreadyExists, match="User with name alice already exists."):
        identity.create_user("alice")
    identity.create_role("Runner", EVENTS_TRUST)
    with pytest.raises(EntityAlreadyExists):
        identity.create_role("RUNNER", EVENTS_TRUST)
    with pytest.raises(NoSuchEntity, match="The role with name ghost cannot be found."):
        identity.get_role("ghost")


def test_a_role_is_found_by_name_or_arn(identity: IdentityService) -> None:
    role = identity.create_role("events", EVENTS_TRUST, path="/service/")
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/service/events" and role.role_id.startswith("AROA")
    assert identity.get_role(role.arn) == identity.get_role("events")


def test_a_trust_policy_is_validated_as_iam_does(identity: IdentityService) -> None:
    no_principal = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]})
    with pytest.raises(MalformedPolicy, match="The passed in policy has a statement with no principals!"):
        identity.create_role("r", no_principal)


def test_a_managed_policy_needs_the_2012_version_an_inline_one_does_not(identity: IdentityService) -> None:
    old = json.dumps({"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]})
    with pytest.raises(MalformedPolicy, match="Policy document must be version 2012-10-17 or greater."):
        identity.policies.create("old", old)
    identity.create_user("u")
    identity.policies.put_inline("user", "u", "old", old)
    assert identity.policies.inline("user", "u", "old")[1] == old


def test_policy_sizes_are_limited_per_type(identity: IdentityService) -> None:
    def sized(padding: int) -> str:
        return json.dumps({"Version": "2012-10-17",
                           "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                          "Resource": "arn:aws:s3:::" + "b" * padding}]})
    with pytest.raises(PolicyTooLarge, match="Cannot exceed quota for PolicySize: 6144"):
        identity.policies.create("big", sized(6100))
    identity.create_user("u")
    identity.policies.put_inline("user", "u", "one", sized(900))
    identity.policies.put_inline("user", "u", "one", sized(1000))  # replacing a policy counts it once
    with pytest.raises(PolicyTooLarge, match="Maximum policy size of 2048 bytes exceeded for user u"):
        identity.policies.put_inline("user", "u", "two", sized(1000))
    identity.create_role("r", EVENTS_TRUST)
    identity.policies.put_inline("role", "r", "two", sized(4000))
    big_trust = json.loads(EVENTS_TRUST)
    big_trust["Statement"][0]["Principal"]["Service"] = [f"s{i:04}.amazonaws.com" for i in range(100)]
    with pytest.raises(PolicyTooLarge, match="Cannot exceed quota for ACLSizePerRole: 2048"):
        identity.update_trust_policy("r", json.dumps(big_trust))


def test_a_policy_stored_before_a_rule_was_added_still_evaluates(identity: IdentityService) -> None:
    identity.create_user("u")
    stored = json.dumps({"Version": "2012-10-17",
                         "Statement": [{"Sid": "old-style", "Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]})
    identity.store.put_inline("user", "u", "legacy", stored)
    principal = identity.principal_of_key(identity.create_access_key("u").access_key_id)
    assert principal is not None
    decision = evaluate(Request("ecs:RunTask", "*", principal.arn), identity.policies_for(principal))
    assert decision.allowed and decision.statements[0].sid == "old-style"


def test_a_role_with_policies_cannot_be_deleted(identity: IdentityService) -> None:
    identity.create_role("r", EVENTS_TRUST)
    policy = identity.policies.create("run", RUN_TASK)
    identity.policies.attach("role", "r", policy.arn)
    with pytest.raises(DeleteConflict, match="must detach all policies first"):
        identity.delete_role("r")
    with pytest.raises(DeleteConflict, match="Cannot delete a policy attached to entities."):
        identity.policies.delete(policy.arn)
    identity.policies.detach("role", "r", policy.arn)
    identity.policies.put_inline("role", "r", "inline", RUN_TASK)
    with pytest.raises(DeleteConflict, match="must delete policies first"):
        identity.delete_role("r")
    identity.policies.delete_inline("role", "r", "inline")
    identity.delete_role("r")


def test_policy_versions_keep_a_default_and_at_most_five(identity: IdentityService) -> None:
    policy = identity.policies.create("run", RUN_TASK)
    for _ in range(4):
        identity.policies.create_version(policy.arn, RUN_TASK, set_as_default=False)
    with pytest.raises(LimitExceeded, match="up to 5 versions"):
        identity.policies.create_version(policy.arn, RUN_TASK, set_as_default=True)
    identity.policies.delete_version(policy.arn, "v2")
    made = identity.policies.create_version(policy.arn, RUN_TASK.replace("Run", "Run2"), set_as_default=True)
    assert made.version_id == "v6" and identity.policies.get(policy.arn).default_version == "v6"
    with pytest.raises(DeleteConflict, match="default version"):
        identity.policies.delete_version(policy.arn, "v6")
    assert [v.version_id for v in identity.policies.versions(policy.arn) if v.is_default] == ["v6"]


def test_policies_for_a_role_session_include_attached_and_inline_policies(identity: IdentityService) -> None:
    identity.create_role("r", ACCOUNT_TRUST)
    policy = identity.policies.create("run", RUN_TASK)
    identity.policies.attach("role", "r", policy.arn)
    identity.policies.put_inline(
        "role",
        "r",
        "logs",
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}),
    )
    identity.bootstrap()
    creds = identity.assume_role(identity.get_role("r").arn, "s1", caller=identity.admin())
    principal = identity.principal_of_key(creds.access_key_id)
    assert principal is not None and principal.kind == "assumed-role"
    assert principal.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s1"
    assert [p.name for p in identity.policies_for(principal)] == ["inline:r/logs", policy.arn]


def test_a_changed_policy_is_seen_at_once(identity: IdentityService) -> None:
    identity.create_user("u")
    pair = identity.create_access_key("u")
    principal = identity.principal_of_key(pair.access_key_id)
    assert principal is not None and identity.policies_for(principal) == []
    identity.policies.put_inline("user", "u", "run", RUN_TASK)
    assert [p.name for p in identity.policies_for(principal)] == ["inline:u/run"]


def test_assume_role_checks_the_trust_policy(identity: IdentityService) -> None:
    role = identity.create_role("events", EVENTS_TRUST)
    identity.bootstrap()
    creds = identity.assume_role(role.arn, "fire", caller="events.amazonaws.com")
    assert creds.access_key_id.startswith("ASIA") and creds.assumed_role_id.startswith(role.role_id + ":")
    with pytest.raises(IamAccessDenied, match="not authorized to perform: sts:AssumeRole"):
        identity.assume_role(role.arn, "fire", caller="scheduler.amazonaws.com")
    with pytest.raises(IamAccessDenied):
        identity.assume_role(role.arn, "me", caller=identity.admin())
    with pytest.raises(IamAccessDenied):
        identity.assume_role(f"arn:aws:iam::{ACCOUNT}:role/ghost", "me", caller=identity.admin())


def test_session_keys_expire_with_their_duration(identity: IdentityService, clock: FakeClock) -> None:
    role = identity.create_role("r", EVENTS_TRUST, max_session_duration=7200)
    creds = identity.assume_role(role.arn, "s", duration=900, caller="events.amazonaws.com")
    assert creds.expires_at == clock.now() + 900
    key = identity.lookup_key(creds.access_key_id)
    assert key is not None and key.session_token == creds.session_token and key.expires_at == creds.expires_at
    with pytest.raises(IamValidationError, match="MaxSessionDuration"):
        identity.assume_role(role.arn, "s", duration=7201, caller="events.amazonaws.com")


def test_session_policies_travel_with_the_session(identity: IdentityService) -> None:
    role = identity.create_role("r", EVENTS_TRUST)
    creds = identity.assume_role(role.arn, "s", caller="events.amazonaws.com", session_policy=RUN_TASK)
    principal = identity.principal_of_key(creds.access_key_id)
    assert principal is not None and [p.name for p in principal.session_policies] == ["session policy"]


def test_a_user_has_at_most_two_access_keys(identity: IdentityService) -> None:
    identity.create_user("u")
    first = identity.create_access_key("u")
    identity.create_access_key("u")
    with pytest.raises(LimitExceeded, match="AccessKeysPerUser: 2"):
        identity.create_access_key("u")
    with pytest.raises(DeleteConflict, match="access keys"):
        identity.delete_user("u")
    identity.update_access_key("u", first.access_key_id, "Inactive")
    key = identity.lookup_key(first.access_key_id)
    assert key is not None and not key.active
    with pytest.raises(NoSuchEntity, match="The Access Key with id AKIAX cannot be found."):
        identity.delete_access_key("u", "AKIAX")


def test_aws_managed_policies_exist_and_can_be_attached(identity: IdentityService) -> None:
    identity.bootstrap()
    arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    assert identity.policies.get(arn).path == "/service-role/"
    identity.create_role("exec", EVENTS_TRUST)
    identity.policies.attach("role", "exec", arn)
    assert [p.arn for p in identity.policies.attached("role", "exec")] == [arn]


def test_a_trust_policy_condition_sees_the_context_given(identity: IdentityService) -> None:
    guarded = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/hello"}},
                }
            ],
        }
    )
    role = identity.create_role("guarded", guarded)
    rule = {"aws:SourceArn": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/hello"}
    assert identity.assume_role(role.arn, "fire", caller="events.amazonaws.com", context=rule).access_key_id
    with pytest.raises(IamAccessDenied):
        identity.assume_role(
            role.arn,
            "fire",
            caller="events.amazonaws.com",
            context={"aws:SourceArn": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/other"},
        )
    explained = identity.sessions.trust(role, "events.amazonaws.com")
    assert not explained.allowed and "no resource-based policy" in explained.explain()


def test_a_users_groups_policies_and_boundary_shape_what_it_may_do(identity: IdentityService) -> None:
    user = identity.create_user("ann")
    principal = identity.principal_of_key(identity.create_access_key("ann").access_key_id)
    assert principal is not None and identity.boundary_for(principal) is None
    identity.groups.create("ops")
    identity.groups.add_user("ops", "ann")
    identity.policies.put_inline("group", "ops", "run", RUN_TASK)
    assert [p.name for p in identity.policies_for(principal)] == ["inline:group/ops/run"]
    request = Request("ecs:RunTask", "*", user.arn)
    assert evaluate(request, identity.policies_for(principal), None, identity.boundary_for(principal)).allowed
    limit = identity.policies.create("LogsOnly", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}))
    identity.put_user_boundary("ann", limit.arn)
    boundary = identity.boundary_for(principal)
    assert boundary is not None and boundary.name == limit.arn
    decision = evaluate(request, identity.policies_for(principal), None, boundary)
    assert (decision.effect, decision.scope) == ("ImplicitDeny", "boundary")
    assert identity.policies.get(limit.arn).boundary_count == 1
    identity.groups.remove_user("ops", "ann")
    assert identity.policies_for(principal) == []


def test_a_role_sessions_boundary_is_its_roles(identity: IdentityService) -> None:
    limit = identity.policies.create("Limit", RUN_TASK)
    identity.create_role("r", ACCOUNT_TRUST, permissions_boundary=limit.arn)
    creds = identity.assume_role(f"arn:aws:iam::{ACCOUNT}:role/r", "s", caller=identity.root())
    principal = identity.principal_of_key(creds.access_key_id)
    assert principal is not None
    found = identity.boundary_for(principal)
    assert found is not None and found.name == limit.arn
    identity.delete_role_boundary("r")
    assert identity.boundary_for(principal) is None
