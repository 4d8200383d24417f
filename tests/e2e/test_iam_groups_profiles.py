"""IAM groups and instance profiles through boto3 against a real server: members get the group's policies;
instance profiles answer every call the Terraform AWS provider makes for aws_iam_role and aws_iam_instance_profile."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
EC2_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
LIST_CLUSTERS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "ecs:ListClusters", "Resource": "*"}]})


def error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    err = caught.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def user_client(server: Any, service: str, key: dict[str, Any]) -> Any:
    return boto3.client(service, endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                        config=Config(retries={"max_attempts": 1}))


def test_a_member_gets_the_groups_inline_and_attached_policies(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    group = iam.create_group(GroupName="ops")["Group"]
    assert group["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/ops" and group["GroupId"].startswith("AGPA")
    iam.create_user(UserName="ann")
    key = iam.create_access_key(UserName="ann")["AccessKey"]
    ecs, logs = user_client(cronbridge_server, "ecs", key), user_client(cronbridge_server, "logs", key)
    assert error(ecs.list_clusters)[0] == "AccessDeniedException"
    assert error(lambda: iam.add_user_to_group(GroupName="nobody", UserName="nobody")) == (
        "NoSuchEntity", 404, "The user with name nobody cannot be found.")  # the user is looked for first
    assert error(lambda: iam.add_user_to_group(GroupName="nobody", UserName="ann")) == (
        "NoSuchEntity", 404, "The group with name nobody cannot be found.")
    iam.add_user_to_group(GroupName="ops", UserName="ann")
    iam.put_group_policy(GroupName="ops", PolicyName="clusters", PolicyDocument=LIST_CLUSTERS)
    ecs.list_clusters()
    assert iam.get_group_policy(GroupName="ops", PolicyName="clusters")["PolicyName"] == "clusters"
    iam.attach_group_policy(GroupName="ops", PolicyArn="arn:aws:iam::aws:policy/CloudWatchLogsFullAccess")
    logs.describe_log_groups()
    assert [u["UserName"] for u in iam.get_group(GroupName="ops")["Users"]] == ["ann"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="ann")["Groups"]] == ["ops"]
    assert error(lambda: iam.delete_user(UserName="ann"))[0] == "DeleteConflict"
    assert error(lambda: iam.delete_group(GroupName="ops")) == (
        "DeleteConflict", 409, "Cannot delete entity, must remove users from group first.")
    iam.remove_user_from_group(GroupName="ops", UserName="ann")
    assert error(ecs.list_clusters)[0] == "AccessDeniedException"
    assert error(lambda: iam.delete_group(GroupName="ops")) == (
        "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
    iam.detach_group_policy(GroupName="ops", PolicyArn="arn:aws:iam::aws:policy/CloudWatchLogsFullAccess")
    iam.delete_group_policy(GroupName="ops", PolicyName="clusters")
    iam.update_group(GroupName="ops", NewGroupName="platform", NewPath="/teams/")
    assert iam.get_group(GroupName="platform")["Group"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/teams/platform"
    assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == ["platform"]
    iam.delete_group(GroupName="platform")
    assert error(lambda: iam.get_group(GroupName="platform")) == (
        "NoSuchEntity", 404, "The group with name platform cannot be found.")


def test_instance_profiles_as_terraform_creates_reads_and_destroys_them(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    iam.create_role(RoleName="web", AssumeRolePolicyDocument=EC2_TRUST)
    made = iam.create_instance_profile(InstanceProfileName="web", Tags=[{"Key": "app", "Value": "web"}])
    profile = made["InstanceProfile"]
    assert profile["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/web" and profile["Roles"] == []
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web")
    read = iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert [r["RoleName"] for r in read["Roles"]] == ["web"] and read["Tags"] == [{"Key": "app", "Value": "web"}]
    iam.tag_instance_profile(InstanceProfileName="web", Tags=[{"Key": "tier", "Value": "1"}])
    iam.untag_instance_profile(InstanceProfileName="web", TagKeys=["app"])
    assert iam.list_instance_profile_tags(InstanceProfileName="web")["Tags"] == [{"Key": "tier", "Value": "1"}]
    iam.untag_instance_profile(InstanceProfileName="web", TagKeys=["tier"])
    assert iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]["Tags"] == []
    iam.create_role(RoleName="other", AssumeRolePolicyDocument=EC2_TRUST)
    assert error(lambda: iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="other")) == (
        "LimitExceeded", 409, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
    assert error(lambda: iam.delete_role(RoleName="web")) == (
        "DeleteConflict", 409, "Cannot delete entity, must remove roles from instance profile first.")
    assert error(lambda: iam.delete_instance_profile(InstanceProfileName="web"))[0] == "DeleteConflict"
    # terraform destroy of aws_iam_role: the profiles of the role, each role removed, then the role
    for found in iam.list_instance_profiles_for_role(RoleName="web")["InstanceProfiles"]:
        iam.remove_role_from_instance_profile(InstanceProfileName=found["InstanceProfileName"], RoleName="web")
    assert iam.list_instance_profiles_for_role(RoleName="web")["InstanceProfiles"] == []
    iam.delete_role(RoleName="web")
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]] == ["web"]
    iam.delete_instance_profile(InstanceProfileName="web")
    assert error(lambda: iam.get_instance_profile(InstanceProfileName="web")) == (
        "NoSuchEntity", 404, "Instance Profile web cannot be found.")
