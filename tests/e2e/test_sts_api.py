"""STS through boto3 and the AWS CLI: who am I, and role sessions whose credentials expire."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from fixtures.aws_cli import aws_json

ACCOUNT = "000000000000"
ACCOUNT_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    ],
}
EVENTS_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def session_client(server: Any, service: str, credentials: dict[str, Any]) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    err = caught.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def test_the_administrator_is_who_the_bootstrap_key_says(cronbridge_server: Any) -> None:
    me = cronbridge_server.client("sts").get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/admin" and me["Account"] == ACCOUNT
    assert me["UserId"].startswith("AIDA")


def test_assumed_role_credentials_sign_as_the_role_session(cronbridge_server: Any) -> None:
    iam, sts = cronbridge_server.client("iam"), cronbridge_server.client("sts")
    role = iam.create_role(
        RoleName="worker", AssumeRolePolicyDocument=json.dumps(ACCOUNT_TRUST), MaxSessionDuration=7200
    )["Role"]
    before = time.time()
    reply = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="nightly", DurationSeconds=7200)
    creds = reply["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    assert abs(creds["Expiration"].timestamp() - (before + 7200)) < 5
    assert reply["AssumedRoleUser"] == {
        "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/nightly",
        "AssumedRoleId": f"{role['RoleId']}:nightly",
    }
    me = session_client(cronbridge_server, "sts", creds).get_caller_identity()
    assert me["Arn"] == reply["AssumedRoleUser"]["Arn"] and me["UserId"] == f"{role['RoleId']}:nightly"


def test_a_session_token_is_required_with_session_keys(cronbridge_server: Any) -> None:
    iam, sts = cronbridge_server.client("iam"), cronbridge_server.client("sts")
    role = iam.create_role(RoleName="worker", AssumeRolePolicyDocument=json.dumps(ACCOUNT_TRUST))["Role"]
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    without = boto3.client(
        "sts",
        endpoint_url=cronbridge_server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
    )
    assert error(without.get_caller_identity)[:2] == ("InvalidClientTokenId", 403)


def test_a_role_whose_trust_policy_does_not_admit_the_caller_is_refused(cronbridge_server: Any) -> None:
    iam, sts = cronbridge_server.client("iam"), cronbridge_server.client("sts")
    role = iam.create_role(RoleName="events", AssumeRolePolicyDocument=json.dumps(EVENTS_TRUST))["Role"]
    assert error(lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="me")) == (
        "AccessDenied",
        403,
        f"User: arn:aws:iam::{ACCOUNT}:user/admin is not authorized to perform: "
        f"sts:AssumeRole on resource: {role['Arn']}",
    )
    ghost = f"arn:aws:iam::{ACCOUNT}:role/ghost"
    assert error(lambda: sts.assume_role(RoleArn=ghost, RoleSessionName="me"))[:2] == ("AccessDenied", 403)


def test_a_duration_beyond_the_roles_maximum_is_a_validation_error(cronbridge_server: Any) -> None:
    iam, sts = cronbridge_server.client("iam"), cronbridge_server.client("sts")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(ACCOUNT_TRUST))["Role"]
    code, status, message = error(
        lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7200)
    )
    assert (code, status) == ("ValidationError", 400) and "MaxSessionDuration" in message


def test_session_credentials_expire_when_their_duration_is_over(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    iam, sts = server.client("iam"), server.client("sts")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(ACCOUNT_TRUST))["Role"]
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="short", DurationSeconds=900)["Credentials"]
    session_sts, session_ecs = session_client(server, "sts", creds), session_client(server, "ecs", creds)
    server.advance_clock(899)
    assert session_sts.get_caller_identity()["Arn"].endswith("assumed-role/r/short")
    server.advance_clock(2)
    assert error(session_sts.get_caller_identity) == (
        "ExpiredToken",
        403,
        "The security token included in the request is expired",
    )
    assert error(session_ecs.list_clusters) == (
        "ExpiredTokenException",
        400,
        "The security token included in the request is expired.",
    )


def test_the_aws_cli_reads_the_servers_credentials_file(cronbridge_server: Any) -> None:
    path = cronbridge_server.data_dir / "admin-credentials"
    me = aws_json(
        cronbridge_server,
        "sts",
        "get-caller-identity",
        env={"AWS_SHARED_CREDENTIALS_FILE": str(path), "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
    )
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/admin"


def test_the_aws_cli_assumes_a_role(cronbridge_server: Any) -> None:
    cronbridge_server.client("iam").create_role(RoleName="cli", AssumeRolePolicyDocument=json.dumps(ACCOUNT_TRUST))
    reply = aws_json(
        cronbridge_server,
        "sts",
        "assume-role",
        "--role-arn",
        f"arn:aws:iam::{ACCOUNT}:role/cli",
        "--role-session-name",
        "from-cli",
    )
    creds = reply["Credentials"]
    me = aws_json(
        cronbridge_server,
        "sts",
        "get-caller-identity",
        key=creds["AccessKeyId"],
        secret=creds["SecretAccessKey"],
        env={"AWS_SESSION_TOKEN": creds["SessionToken"]},
    )
    assert me["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/cli/from-cli"


def test_an_external_id_condition_is_checked(cronbridge_server: Any) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{**ACCOUNT_TRUST["Statement"][0], "Condition": {"StringEquals": {"sts:ExternalId": "s3cret"}}}],
    }
    iam, sts = cronbridge_server.client("iam"), cronbridge_server.client("sts")
    role = iam.create_role(RoleName="partner", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    assert error(lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="p1"))[:2] == ("AccessDenied", 403)
    reply = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="p1", ExternalId="s3cret")
    assert reply["AssumedRoleUser"]["Arn"].endswith("assumed-role/partner/p1")
