"""The query protocol: form parameters decoded by botocore's input shapes, XML rendered for botocore's parser."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlencode

import pytest
from botocore.parsers import QueryParser
from botocore.serialize import QuerySerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.api.protocols import query
from cronbridge.api.protocols.shapes import operation
from cronbridge.errors import AwsError

NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"


def form(**params: Any) -> dict[str, str]:
    return query.parse_form(urlencode(params).encode())


def parse(service: str, op_name: str, body: bytes, status: int = 200) -> dict[str, Any]:
    """What boto3 makes of our response, through botocore's own query-protocol parser."""
    op = operation(service, op_name)
    assert op is not None
    response = {"body": body, "headers": {}, "status_code": status}
    return dict(QueryParser().parse(response, op.output_shape))


def test_member_lists_and_tag_structures_are_decoded() -> None:
    op = operation("iam", "CreateRole")
    assert op is not None
    params = query.decode(
        op.input_shape,
        form(
            **{
                "Action": "CreateRole",
                "RoleName": "r",
                "AssumeRolePolicyDocument": "{}",
                "MaxSessionDuration": "7200",
                "Tags.member.1.Key": "team",
                "Tags.member.1.Value": "batch",
                "Tags.member.2.Key": "empty",
                "Tags.member.2.Value": "",
            }
        ),
    )
    assert params == {
        "RoleName": "r",
        "AssumeRolePolicyDocument": "{}",
        "MaxSessionDuration": 7200,
        "Tags": [{"Key": "team", "Value": "batch"}, {"Key": "empty", "Value": ""}],
    }


def test_string_lists_booleans_and_nested_lists_are_decoded() -> None:
    op = operation("iam", "SimulatePrincipalPolicy")
    assert op is not None
    params = query.decode(
        op.input_shape,
        form(
            **{
                "PolicySourceArn": "arn:aws:iam::1:user/u",
                "ActionNames.member.1": "ecs:RunTask",
                "ActionNames.member.2": "iam:PassRole",
                "ContextEntries.member.1.ContextKeyName": "aws:SourceIp",
                "ContextEntries.member.1.ContextKeyValues.member.1": "10.0.0.1",
                "ContextEntries.member.1.ContextKeyType": "ip",
            }
        ),
    )
    assert params["ActionNames"] == ["ecs:RunTask", "iam:PassRole"]
    assert params["ContextEntries"] == [
        {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.0.0.1"], "ContextKeyType": "ip"}
    ]
    version = operation("iam", "CreatePolicyVersion")
    assert version is not None
    decoded = query.decode(version.input_shape, form(PolicyArn="a", PolicyDocument="{}", SetAsDefault="true"))
    assert decoded["SetAsDefault"] is True


def test_a_number_that_is_not_one_is_a_validation_error() -> None:
    op = operation("sts", "AssumeRole")
    assert op is not None
    with pytest.raises(AwsError) as caught:
        query.decode(op.input_shape, form(RoleArn="arn", RoleSessionName="s", DurationSeconds="soon"))
    assert caught.value.code == "ValidationError" and "DurationSeconds" in caught.value.message


def test_rendered_xml_reads_back_through_botocore_with_the_policy_url_encoded() -> None:
    op = operation("iam", "GetRole")
    assert op is not None
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "a & b <c>"}}],
        }
    )
    body = query.render(
        op,
        {
            "Role": {
                "Path": "/",
                "RoleName": "r",
                "RoleId": "AROA1",
                "Arn": "arn:aws:iam::1:role/r",
                "CreateDate": 1_800_000_000,
                "AssumeRolePolicyDocument": document,
                "MaxSessionDuration": 3600,
                "Tags": [{"Key": "k", "Value": "v<"}],
            }
        },
        NAMESPACE,
    )
    text = body.decode()
    assert text.startswith(f'<GetRoleResponse xmlns="{NAMESPACE}"><GetRoleResult><Role>')
    assert "%7B%22Version%22" in text  # URL-encoded as IAM sends it
    role = parse("iam", "GetRole", body)["Role"]
    assert unquote(role["AssumeRolePolicyDocument"]) == document  # boto3's after-call handler unquotes it
    assert role["Tags"] == [{"Key": "k", "Value": "v<"}] and role["MaxSessionDuration"] == 3600
    assert role["CreateDate"].isoformat().startswith("2027-01-15T08:00:00")


def test_an_operation_without_output_renders_only_its_metadata() -> None:
    op = operation("iam", "DeleteRole")
    assert op is not None
    text = query.render(op, {}, NAMESPACE).decode()
    assert text.startswith("<DeleteRoleResponse") and "<ResponseMetadata><RequestId>" in text
    assert "DeleteRoleResult" not in text


def test_lists_render_as_members_and_booleans_in_lowercase() -> None:
    op = operation("iam", "ListPolicyVersions")
    assert op is not None
    body = query.render(
        op,
        {
            "Versions": [
                {"VersionId": "v2", "IsDefaultVersion": True, "CreateDate": 0},
                {"VersionId": "v1", "IsDefaultVersion": False, "CreateDate": 0},
            ],
            "IsTruncated": False,
        },
        NAMESPACE,
    )
    assert b"<Versions><member><VersionId>v2</VersionId><IsDefaultVersion>true</IsDefaultVersion>" in body
    parsed = parse("iam", "ListPolicyVersions", body)
    assert [v["IsDefaultVersion"] for v in parsed["Versions"]] == [True, False] and parsed["IsTruncated"] is False


def test_errors_are_an_error_response_botocore_reads() -> None:
    response = query.error_response(AwsError("The role with name x cannot be found.", "NoSuchEntity", 404), NAMESPACE)
    assert response.status_code == 404 and response.media_type == "text/xml"
    text = bytes(response.body).decode()
    assert "<Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name x cannot be found." in text
    error = parse("iam", "GetRole", bytes(response.body), 404)["Error"]
    assert error["Code"] == "NoSuchEntity" and error["Type"] == "Sender"
    server = query.error_response(AwsError("boom", "InternalFailure", 500))
    assert b"<Type>Receiver</Type>" in bytes(server.body)


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@given(
    name=_TEXT, document=_TEXT, duration=st.integers(3600, 43200),
    tags=st.lists(st.fixed_dictionaries({"Key": _TEXT, "Value": st.text(max_size=10)}), max_size=4),
)
@settings(max_examples=60, deadline=None)
def test_whatever_botocore_serializes_decodes_to_the_same_parameters(
    name: str, document: str, duration: int, tags: list[dict[str, str]]
) -> None:
    op = operation("iam", "CreateRole")
    assert op is not None
    params: dict[str, Any] = {"RoleName": name, "AssumeRolePolicyDocument": document, "MaxSessionDuration": duration}
    if tags:
        params["Tags"] = tags
    wire = QuerySerializer().serialize_to_request(params, op)["body"]
    assert query.decode(op.input_shape, query.parse_form(urlencode(wire).encode())) == params


@given(actions=st.lists(_TEXT, min_size=1, max_size=5),
       values=st.lists(st.lists(_TEXT, min_size=1, max_size=3), max_size=3))
@settings(max_examples=60, deadline=None)
def test_nested_member_lists_survive_the_round_trip(actions: list[str], values: list[list[str]]) -> None:
    op = operation("iam", "SimulatePrincipalPolicy")
    assert op is not None
    params: dict[str, Any] = {"PolicySourceArn": "arn:aws:iam::1:user/u", "ActionNames": actions}
    if values:
        params["ContextEntries"] = [{"ContextKeyName": f"k{i}", "ContextKeyValues": v, "ContextKeyType": "stringList"}
                                    for i, v in enumerate(values)]
    wire = QuerySerializer().serialize_to_request(params, op)["body"]
    assert query.decode(op.input_shape, query.parse_form(urlencode(wire).encode())) == params
