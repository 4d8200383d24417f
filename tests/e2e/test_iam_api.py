"""IAM through boto3 and the AWS CLI against a real server: roles, policies and versions, users, keys, tags."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from fixtures.aws_cli import aws, aws_json

ACCOUNT = "000000000000"
EVENTS_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
TASKDEF = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/ecs-scheduled-batch-task:1"
RUN_TASK = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "RunTask", "Effect": "Allow", "Action": "ecs:RunTask", "Resource": TASKDEF}],
}


def error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    err = caught.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def test_a_role_is_created_read_listed_and_deleted(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    made = iam.create_role(
        RoleName="EcsEventsRole-sample",
        AssumeRolePolicyDocument=json.dumps(EVENTS_TRUST),
        Description="runs the batch",
        Tags=[{"Key": "team", "Value": "batch"}],
    )["Role"]
    assert made["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/EcsEventsRole-sample" and made["RoleId"].startswith("AROA")
    role = iam.get_role(RoleName="EcsEventsRole-sample")["Role"]
    assert role["AssumeRolePolicyDocument"] == EVENTS_TRUST  # boto3 decodes IAM's URL-encoded document
    assert role["Description"] == "runs the batch" and role["MaxSessionDuration"] == 3600
    assert role["Tags"] == [{"Key": "team", "Value": "batch"}]
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["EcsEventsRole-sample"]
    iam.delete_role(RoleName="EcsEventsRole-sample")
    code, status, message = error(lambda: iam.get_role(RoleName="EcsEventsRole-sample"))
    assert (code, status, message) == ("NoSuchEntity", 404, "The role with name EcsEventsRole-sample cannot be found.")


def test_a_duplicate_role_is_refused(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(EVENTS_TRUST))
    assert error(lambda: iam.create_role(RoleName="R", AssumeRolePolicyDocument=json.dumps(EVENTS_TRUST)))[:2] == (
        "EntityAlreadyExists",
        409,
    )


def test_a_malformed_policy_is_refused_with_the_reason(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    no_action = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]})
    assert error(lambda: iam.create_policy(PolicyName="p", PolicyDocument=no_action)) == (
        "MalformedPolicyDocument",
        400,
        "Policy statement must contain actions.",
    )
    trust_with_resource = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Resource": "*",
                }
            ],
        }
    )
    assert error(lambda: iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust_with_resource)) == (
        "MalformedPolicyDocument",
        400,
        "Has prohibited field Resource",
    )
    assert error(
        lambda: iam.put_role_policy(RoleName="ghost", PolicyName="p", PolicyDocument=json.dumps(RUN_TASK))
    ) == ("NoSuchEntity", 404, "The role with name ghost cannot be found.")


def _doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> str:
    return json.dumps({"Statement": list(statements)} | ({"Version": version} if version else {}))


ALLOW_GET = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
# (call, document, IAM's message): each class of refusal through the wire, as boto3 shows it
REFUSALS = [
    ("create_policy", _doc(ALLOW_GET, version=None), "Policy document must be version 2012-10-17 or greater."),
    ("create_policy", _doc(ALLOW_GET | {"Resource": "my-bucket"}), 'Resource my-bucket must be in ARN format or "*".'),
    ("create_policy", _doc(), "Syntax errors in policy."),
    ("create_policy", _doc(ALLOW_GET | {"Effect": "allow"}), "The policy failed legacy parsing"),
    ("create_policy", _doc(ALLOW_GET | {"Resource": "arn:aws:iam:us-east-1:000000000000:role/r"}),
     "IAM resource arn:aws:iam:us-east-1:000000000000:role/r cannot contain region information."),
    ("create_policy_version", _doc(ALLOW_GET | {"Action": "s3:Get:Object"}),
     "Actions/Condition can contain only one colon."),
    ("put_user_policy", _doc(ALLOW_GET | {"Principal": "*"}), "Policy document should not specify a principal."),
    ("put_user_policy", _doc(ALLOW_GET | {"Condition": {"DateLessThan": {"aws:CurrentTime": "2026-13-01"}}}),
     "The policy failed legacy parsing"),
    ("create_role", _doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ecs"}}),
     'Invalid principal in policy: "SERVICE":"ecs"'),
    ("update_assume_role_policy", _doc({"Effect": "Allow", "Action": "sts:AssumeRole"}),
     "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
     "The passed in policy has a statement with no principals!"),
]


@pytest.mark.parametrize(("call", "document", "message"), REFUSALS, ids=[f"{c}: {m}" for c, _, m in REFUSALS])
def test_iam_refuses_a_document_with_iams_message(
        cronbridge_server: Any, call: str, document: str, message: str) -> None:
    iam = cronbridge_server.client("iam")
    iam.create_user(UserName="u")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(EVENTS_TRUST))
    arn = iam.create_policy(PolicyName="p", PolicyDocument=_doc(ALLOW_GET))["Policy"]["Arn"]
    calls = {
        "create_policy": lambda: iam.create_policy(PolicyName="q", PolicyDocument=document),
        "create_policy_version": lambda: iam.create_policy_version(PolicyArn=arn, PolicyDocument=document),
        "put_user_policy": lambda: iam.put_user_policy(UserName="u", PolicyName="i", PolicyDocument=document),
        "create_role": lambda: iam.create_role(RoleName="r2", AssumeRolePolicyDocument=document),
        "update_assume_role_policy": lambda: iam.update_assume_role_policy(RoleName="r", PolicyDocument=document),
    }
    assert error(calls[call]) == ("MalformedPolicyDocument", 400, message)


def test_policy_size_limits_are_iams(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    big = _doc(ALLOW_GET | {"Resource": "arn:aws:s3:::" + "b" * 6100})
    assert error(lambda: iam.create_policy(PolicyName="big", PolicyDocument=big)) == (
        "LimitExceeded", 409, "Cannot exceed quota for PolicySize: 6144")
    iam.create_user(UserName="u")
    half = _doc(ALLOW_GET | {"Resource": "arn:aws:s3:::" + "b" * 1000})
    iam.put_user_policy(UserName="u", PolicyName="one", PolicyDocument=half)
    assert error(lambda: iam.put_user_policy(UserName="u", PolicyName="two", PolicyDocument=half)) == (
        "LimitExceeded", 409, "Maximum policy size of 2048 bytes exceeded for user u")


def test_attached_policies_block_deleting_a_role_until_detached(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    iam.create_role(RoleName="events", AssumeRolePolicyDocument=json.dumps(EVENTS_TRUST))
    arn = iam.create_policy(PolicyName="EcsRunTaskEventsPolicy", PolicyDocument=json.dumps(RUN_TASK))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="events", PolicyArn=arn)
    assert iam.list_attached_role_policies(RoleName="events")["AttachedPolicies"] == [
        {"PolicyName": "EcsRunTaskEventsPolicy", "PolicyArn": arn}
    ]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    assert error(lambda: iam.delete_role(RoleName="events")) == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must detach all policies first.",
    )
    assert error(lambda: iam.delete_policy(PolicyArn=arn))[:2] == ("DeleteConflict", 409)
    iam.detach_role_policy(RoleName="events", PolicyArn=arn)
    assert error(lambda: iam.detach_role_policy(RoleName="events", PolicyArn=arn))[:2] == ("NoSuchEntity", 404)
    iam.delete_role(RoleName="events")
    iam.delete_policy(PolicyArn=arn)
    assert error(lambda: iam.get_policy(PolicyArn=arn))[:2] == ("NoSuchEntity", 404)


def test_policy_versions_have_one_default_and_at_most_five(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(RUN_TASK))["Policy"]["Arn"]
    wider = {**RUN_TASK, "Statement": [{**RUN_TASK["Statement"][0], "Resource": "*"}]}
    made = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(wider), SetAsDefault=True)
    assert made["PolicyVersion"]["VersionId"] == "v2" and made["PolicyVersion"]["IsDefaultVersion"] is True
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"] == RUN_TASK
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(RUN_TASK))
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert sorted(v["VersionId"] for v in versions) == ["v1", "v2", "v3", "v4", "v5"]
    assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v2"]
    assert error(lambda: iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(RUN_TASK)))[:2] == (
        "LimitExceeded",
        409,
    )
    assert error(lambda: iam.delete_policy_version(PolicyArn=arn, VersionId="v2"))[:2] == ("DeleteConflict", 409)
    assert error(lambda: iam.get_policy_version(PolicyArn=arn, VersionId="v9"))[:2] == ("NoSuchEntity", 404)


def test_inline_role_policies_are_put_read_listed_and_deleted(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    iam.create_role(RoleName="task", AssumeRolePolicyDocument=json.dumps(EVENTS_TRUST))
    iam.put_role_policy(RoleName="task", PolicyName="run", PolicyDocument=json.dumps(RUN_TASK))
    got = iam.get_role_policy(RoleName="task", PolicyName="run")
    assert (got["RoleName"], got["PolicyName"], got["PolicyDocument"]) == ("task", "run", RUN_TASK)
    assert iam.list_role_policies(RoleName="task")["PolicyNames"] == ["run"]
    assert error(lambda: iam.delete_role(RoleName="task"))[:2] == ("DeleteConflict", 409)
    iam.delete_role_policy(RoleName="task", PolicyName="run")
    assert error(lambda: iam.get_role_policy(RoleName="task", PolicyName="run"))[:2] == ("NoSuchEntity", 404)
    iam.delete_role(RoleName="task")


def test_trust_policy_updates_and_role_tags(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(EVENTS_TRUST))
    scheduler = json.loads(json.dumps(EVENTS_TRUST).replace("events.amazonaws.com", "scheduler.amazonaws.com"))
    iam.update_assume_role_policy(RoleName="r", PolicyDocument=json.dumps(scheduler))
    assert iam.get_role(RoleName="r")["Role"]["AssumeRolePolicyDocument"] == scheduler
    iam.tag_role(RoleName="r", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_role(RoleName="r", TagKeys=["a"])
    assert iam.list_role_tags(RoleName="r")["Tags"] == [{"Key": "b", "Value": "2"}]


def test_a_users_new_access_key_signs_requests_as_that_user(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    user = iam.create_user(UserName="deployer", Tags=[{"Key": "k", "Value": "v"}])["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/deployer" and user["UserId"].startswith("AIDA")
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    sts = boto3.client(
        "sts",
        endpoint_url=cronbridge_server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    assert sts.get_caller_identity()["Arn"] == user["Arn"]
    listed = iam.list_access_keys(UserName="deployer")["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in listed] == [(key["AccessKeyId"], "Active")]
    iam.create_access_key(UserName="deployer")
    assert error(lambda: iam.create_access_key(UserName="deployer"))[:2] == ("LimitExceeded", 409)
    assert error(lambda: iam.delete_user(UserName="deployer"))[:2] == ("DeleteConflict", 409)


def test_a_deleted_or_inactive_key_no_longer_signs(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    iam.create_user(UserName="u")
    key = iam.create_access_key(UserName="u")["AccessKey"]
    sts = boto3.client(
        "sts",
        endpoint_url=cronbridge_server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    iam.update_access_key(UserName="u", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert error(sts.get_caller_identity)[:2] == ("InvalidClientTokenId", 403)
    iam.delete_access_key(UserName="u", AccessKeyId=key["AccessKeyId"])
    assert iam.list_access_keys(UserName="u")["AccessKeyMetadata"] == []
    iam.delete_user(UserName="u")
    assert error(lambda: iam.get_user(UserName="u"))[:2] == ("NoSuchEntity", 404)


def test_user_policies_and_get_user_of_the_caller(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    assert iam.get_user()["User"]["UserName"] == "admin"
    iam.create_user(UserName="u")
    iam.put_user_policy(UserName="u", PolicyName="run", PolicyDocument=json.dumps(RUN_TASK))
    iam.attach_user_policy(UserName="u", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert iam.list_user_policies(UserName="u")["PolicyNames"] == ["run"]
    assert [p["PolicyName"] for p in iam.list_attached_user_policies(UserName="u")["AttachedPolicies"]] == [
        "ReadOnlyAccess"
    ]
    assert iam.get_user_policy(UserName="u", PolicyName="run")["PolicyDocument"] == RUN_TASK


def test_simulate_principal_policy_names_the_deciding_policy(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    role = iam.create_role(RoleName="events", AssumeRolePolicyDocument=json.dumps(EVENTS_TRUST))["Role"]
    iam.put_role_policy(RoleName="events", PolicyName="run", PolicyDocument=json.dumps(RUN_TASK))
    results = iam.simulate_principal_policy(
        PolicySourceArn=role["Arn"], ActionNames=["ecs:RunTask"], ResourceArns=[TASKDEF, TASKDEF.replace(":1", ":2")]
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "implicitDeny"]
    assert results[0]["MatchedStatements"][0]["SourcePolicyId"] == "inline:events/run"


def test_the_aws_cli_creates_and_reads_a_role(cronbridge_server: Any) -> None:
    made = aws_json(
        cronbridge_server,
        "iam",
        "create-role",
        "--role-name",
        "cli-role",
        "--assume-role-policy-document",
        json.dumps(EVENTS_TRUST),
    )
    assert made["Role"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/cli-role"
    got = aws_json(cronbridge_server, "iam", "get-role", "--role-name", "cli-role")
    assert got["Role"]["AssumeRolePolicyDocument"] == EVENTS_TRUST
    missing = aws(cronbridge_server, "iam", "get-role", "--role-name", "ghost")
    assert missing.returncode != 0 and "NoSuchEntity" in missing.stderr
    assert "The role with name ghost cannot be found." in missing.stderr
    bad = aws(cronbridge_server, "iam", "create-policy", "--policy-name", "p", "--policy-document", '{"Statement": 1}')
    assert bad.returncode != 0 and "MalformedPolicyDocument" in bad.stderr


def test_policy_and_user_tags(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    arn = iam.create_policy(
        PolicyName="p", PolicyDocument=json.dumps(RUN_TASK), Tags=[{"Key": "owner", "Value": "ops"}]
    )["Policy"]["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "tier", "Value": "1"}])
    iam.untag_policy(PolicyArn=arn, TagKeys=["owner"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "tier", "Value": "1"}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == [{"Key": "tier", "Value": "1"}]
    iam.create_user(UserName="u")
    iam.tag_user(UserName="u", Tags=[{"Key": "a", "Value": "b"}])
    assert iam.list_user_tags(UserName="u")["Tags"] == [{"Key": "a", "Value": "b"}]
    iam.untag_user(UserName="u", TagKeys=["a"])
    assert iam.list_user_tags(UserName="u")["Tags"] == []


def test_tags_are_refused_as_iam_refuses_them(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    doc = json.dumps(RUN_TASK)
    twice = [{"Key": "Team", "Value": "a"}, {"Key": "team", "Value": "b"}]  # IAM's tag keys ignore case
    assert error(lambda: iam.create_policy(PolicyName="p", PolicyDocument=doc, Tags=twice)) == (
        "InvalidInput", 400, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
    code, status, message = error(lambda: iam.create_user(UserName="u", Tags=[{"Key": "NOWAY!", "Value": ""}]))
    assert (code, status) == ("ValidationError", 400)
    assert "Value 'NOWAY!' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular " \
           "expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+" in message
    iam.create_user(UserName="u", Tags=[{"Key": "équipe ü 1_.:/=+-@", "Value": ""}])  # letters of any script


def test_policies_show_description_and_tags_where_iam_does(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    made = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(RUN_TASK), Description="d")["Policy"]
    assert "Description" not in made and "Tags" not in made
    got = iam.get_policy(PolicyArn=made["Arn"])["Policy"]
    assert (got["Description"], got["Tags"]) == ("d", [])
    listed = iam.list_policies(Scope="Local")["Policies"]
    assert [p["Arn"] for p in listed] == [made["Arn"]] and "Description" not in listed[0]


def test_lists_page_with_marker_and_max_items(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    for i in range(5):
        iam.create_role(RoleName=f"r{i}", AssumeRolePolicyDocument=json.dumps(EVENTS_TRUST))
    first = iam.list_roles(MaxItems=2)
    assert [r["RoleName"] for r in first["Roles"]] == ["r0", "r1"] and first["IsTruncated"] is True
    pages = iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 2})
    assert [r["RoleName"] for page in pages for r in page["Roles"]] == [f"r{i}" for i in range(5)]


@pytest.mark.parametrize("url", ["example.org", "http://example.org"])
def test_an_oidc_provider_url_must_begin_with_https(cronbridge_server: Any, url: str) -> None:
    iam = cronbridge_server.client("iam")
    assert error(lambda: iam.create_open_id_connect_provider(Url=url, ThumbprintList=[])) == (
        "InvalidInput", 400, "Invalid Open ID Connect Provider URL. The URL must begin with https://"
    )
