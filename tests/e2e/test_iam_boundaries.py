"""Permissions boundaries through boto3 against a real server: stored, returned, enforced, explained."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
LOGS_ONLY = json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Sid": "LogsOnly", "Effect": "Allow", "Action": "logs:*", "Resource": "*"}]})
ACCOUNT_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})


def error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    err = caught.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def client_of(server: Any, service: str, creds: dict[str, Any]) -> Any:
    return boto3.client(service, endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds.get("SessionToken"), config=Config(retries={"max_attempts": 1}))


def bounded_user(server: Any, boundary: str | None) -> tuple[Any, dict[str, Any]]:
    iam = server.client("iam")
    extra = {"PermissionsBoundary": boundary} if boundary else {}
    iam.create_user(UserName="dev", **extra)
    iam.put_user_policy(UserName="dev", PolicyName="everything", PolicyDocument=ALLOW_ALL)
    return iam, iam.create_access_key(UserName="dev")["AccessKey"]


def test_a_users_boundary_is_stored_returned_and_enforced(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    arn = iam.create_policy(PolicyName="LogsOnly", PolicyDocument=LOGS_ONLY)["Policy"]["Arn"]
    iam, key = bounded_user(cronbridge_server, arn)
    assert iam.get_user(UserName="dev")["User"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}
    assert "PermissionsBoundary" not in iam.list_users()["Users"][0]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    client_of(cronbridge_server, "logs", key).describe_log_groups()  # allowed by both
    ecs = client_of(cronbridge_server, "ecs", key)
    code, status, message = error(ecs.list_clusters)
    assert (code, status) == ("AccessDeniedException", 400)
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/dev is not authorized to perform: ecs:ListClusters "
                       "on resource: * because no permissions boundary allows the ecs:ListClusters action")
    simulated = iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/dev",
                                              ActionNames=["ecs:ListClusters", "logs:DescribeLogGroups"])
    assert [(r["EvalDecision"], r["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"])
            for r in simulated["EvaluationResults"]] == [("implicitDeny", False), ("allowed", True)]
    iam.delete_user_permissions_boundary(UserName="dev")
    assert "PermissionsBoundary" not in iam.get_user(UserName="dev")["User"]
    ecs.list_clusters()  # the identity policy alone allows it again


def test_a_roles_boundary_limits_its_sessions_and_explain_shows_it(cronbridge_server: Any) -> None:
    iam, sts = cronbridge_server.client("iam"), cronbridge_server.client("sts")
    arn = iam.create_policy(PolicyName="LogsOnly", PolicyDocument=LOGS_ONLY)["Policy"]["Arn"]
    role = iam.create_role(RoleName="worker", AssumeRolePolicyDocument=ACCOUNT_TRUST, PermissionsBoundary=arn)["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn
    iam.put_role_policy(RoleName="worker", PolicyName="everything", PolicyDocument=ALLOW_ALL)
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="nightly")["Credentials"]
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/nightly"
    code, _, message = error(client_of(cronbridge_server, "events", creds).list_rules)
    assert code == "AccessDeniedException" and message.endswith("because no permissions boundary allows the "
                                                                "events:ListRules action")
    found = cronbridge_server.post("/_cronbridge/explain", {"principal": session_arn, "action": "events:ListRules"})
    assert (found["decision"], found["permissionsBoundary"]) == ("ImplicitDeny", arn)
    assert f"Permissions boundary {arn}:" in found["explanation"]
    assert [s["policyType"] for s in found["evaluatedStatements"]] == ["identity", "permissionsBoundary"]
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    iam.put_role_permissions_boundary(RoleName="worker", PermissionsBoundary=admin)
    client_of(cronbridge_server, "events", creds).list_rules()
    iam.delete_role_permissions_boundary(RoleName="worker")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="worker")["Role"]


def test_a_boundary_must_be_an_existing_managed_policy_and_stays_until_removed(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    missing = f"arn:aws:iam::{ACCOUNT}:policy/Nope"
    assert error(lambda: iam.create_user(UserName="u", PermissionsBoundary=missing)) == (
        "NoSuchEntity", 404, f"Scope ARN: {missing} does not exist or is not attachable.")
    iam.create_user(UserName="u")
    bad = f"arn:aws:iam::{ACCOUNT}:role/NotAPolicy"
    assert error(lambda: iam.put_user_permissions_boundary(UserName="u", PermissionsBoundary=bad)) == (
        "InvalidInput", 400, f"Value ({bad}) for parameter PermissionsBoundary is invalid.")
    arn = iam.create_policy(PolicyName="Limit", PolicyDocument=LOGS_ONLY)["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName="u", PermissionsBoundary=arn)
    assert error(lambda: iam.delete_policy(PolicyArn=arn)) == (
        "DeleteConflict", 409, "Cannot delete a policy attached to entities.")
    iam.delete_user_permissions_boundary(UserName="u")
    iam.delete_policy(PolicyArn=arn)
