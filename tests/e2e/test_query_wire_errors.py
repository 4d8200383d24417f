"""Bad input over the query protocol (IAM, STS): XML errors with IAM's codes and statuses; the server keeps serving."""

from __future__ import annotations

from typing import Any

import pytest

from fixtures.signed import signed

IAM = "Version=2010-05-08&"


@pytest.mark.parametrize(
    ("service", "body", "status", "code", "phrase"),
    [
        ("iam", IAM + "Action=NoSuchThing", 400, "InvalidAction", "Could not find operation NoSuchThing"),
        (
            "iam",
            IAM + "Action=GetRole",
            400,
            "ValidationError",
            "Value null at 'roleName' failed to satisfy constraint: Member must not be null",
        ),
        (
            "iam",
            IAM + "Action=GetRole&RoleName=bad%20name%21",
            400,
            "ValidationError",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ),
        (
            "iam",
            IAM + "Action=CreateRole&RoleName=r&AssumeRolePolicyDocument=%7Bnot%20json",
            400,
            "MalformedPolicyDocument",
            "Syntax errors in policy.",
        ),
        (
            "iam",
            IAM + "Action=GetUser&UserName=ghost",
            404,
            "NoSuchEntity",
            "The user with name ghost cannot be found.",
        ),
        (
            "sts",
            b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/x&RoleSessionName=ab"
            b"&DurationSeconds=soon",
            400,
            "ValidationError",
            "Member must be of type integer",
        ),
        (
            "sts",
            b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/x&RoleSessionName="
            + b"s" * 65,
            400,
            "ValidationError",
            f"Value '{'s' * 65}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than"
            " or equal to 64",
        ),
        ("iam", b"Action=GetRole&RoleName=\xff\xfe", 400, "MalformedQueryString", "not valid UTF-8"),
    ],
)
def test_bad_query_requests_get_xml_errors(
    cronbridge_server: Any, service: str, body: str | bytes, status: int, code: str, phrase: str
) -> None:
    got_status, payload = signed(cronbridge_server, service, body.encode() if isinstance(body, str) else body)
    text = payload.decode("utf-8", "replace")
    assert got_status == status, text
    assert text.startswith("<ErrorResponse") and "<Type>Sender</Type>" in text
    assert f"<Code>{code}</Code>" in text and phrase.replace("&", "&amp;") in text
    assert "<RequestId>" in text
    assert cronbridge_server.client("sts").get_caller_identity()["Arn"].endswith(":user/admin")


def test_a_query_request_may_come_as_a_signed_get(cronbridge_server: Any) -> None:
    status, payload = signed(
        cronbridge_server, "sts", method="GET", query="Action=GetCallerIdentity&Version=2011-06-15"
    )
    assert status == 200, payload
    assert b"<GetCallerIdentityResponse" in payload and b"user/admin</Arn>" in payload
