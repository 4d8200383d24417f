"""IdentityService on a real SQLite file with a fake clock: users, roles, keys, policies, sessions, bootstrap."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cronbridge.clock import FakeClock
from cronbridge.iam import MalformedPolicy, Request, evaluate
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
from cronbridge.store.db import Database

ACCOUNT = "123456789012"
EVENTS_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
ACCOUNT_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})
RUN_TASK = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Run", "Effect": "Allow", "Action": "ecs:RunTask", "Resource": "*"}]})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_800_000_000.0)


@pytest.fixture
def identity(tmp_path: Path, clock: FakeClock) -> Iterator[IdentityService]:
    db = Database(tmp_path / "state.db")
    yield IdentityService(db, clock, ACCOUNT)
    db.close()


def test_bootstrap_creates_an_administrator_with_one_key_once(identity: IdentityService) -> None:
    pair, new = identity.bootstrap()
    again, new_again = identity.bootstrap()
    assert new and not new_again and again.access_key_id == pair.access_key_id
    assert pair.access_key_id.startswith("AKIA") and len(pair.access_key_id) == 20
    assert len(pair.secret_access_key) == 40
    principal = identity.principal_of_key(pair.access_key_id)
    assert principal is not None and principal.arn == f"arn:aws:iam::{ACCOUNT}:user/admin"
    decision = evaluate(Request("ecs:RunTask", "arn:aws:ecs:us-east-1:1:task/x", principal.arn),
                        identity.policies_for(principal))
    assert decision.allowed and decision.statements[0].policy == "inline:admin/AdministratorAccess"


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


def test_state_survives_reopening_the_database(tmp_path: Path, clock: FakeClock) -> None:
    db = Database(tmp_path / "s.db")
    first = IdentityService(db, clock, ACCOUNT)
    pair, _ = first.bootstrap()
    first.create_role("r", EVENTS_TRUST)
    db.close()
    second = IdentityService(Database(tmp_path / "s.db"), clock, ACCOUNT)
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
    no_principal = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                                       "Action": "sts:AssumeRole"}]})
    with pytest.raises(MalformedPolicy, match="Missing required field Principal"):
        identity.create_role("r", no_principal)


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
    identity.policies.put_inline("role", "r", "logs", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}))
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
