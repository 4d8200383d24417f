"""Who is calling, on the wire: unknown keys, bad signatures, clock skew, missing auth, open mode, the CLI."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cronbridge.api import sigv4
from fixtures.aws_cli import aws
from fixtures.server import ADMIN_KEY, ADMIN_SECRET, ServerProcess

ECS_LIST = ("AmazonEC2ContainerServiceV20141113.ListClusters", b"{}")
STS_BODY = b"Action=GetCallerIdentity&Version=2011-06-15"


def send(
    server: Any,
    service: str,
    *,
    key: str = ADMIN_KEY,
    secret: str = ADMIN_SECRET,
    skew: timedelta = timedelta(0),
    sign: bool = True,
) -> tuple[int, bytes]:
    """A hand-signed request (signed `skew` away from now): ECS over JSON, or STS over the query protocol."""
    amz_date = (datetime.now(UTC) + skew).strftime("%Y%m%dT%H%M%SZ")
    headers = {"Host": f"127.0.0.1:{server.port}", "X-Amz-Date": amz_date}
    if service == "ecs":
        headers |= {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": ECS_LIST[0]}
        body = ECS_LIST[1]
    else:
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        body = STS_BODY
    if sign:
        headers["Authorization"] = sigv4.sign(
            "POST",
            "/",
            "",
            headers,
            body,
            access_key_id=key,
            secret_access_key=secret,
            region="us-east-1",
            service=service,
            amz_date=amz_date,
        )
    request = urllib.request.Request(server.endpoint + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    err = caught.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def client(server: Any, service: str, key: str, secret: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


def test_an_unknown_key_is_refused_as_each_protocol_says(cronbridge_server: Any) -> None:
    assert error(client(cronbridge_server, "ecs", "AKIANOBODY", "x").list_clusters) == (
        "UnrecognizedClientException",
        400,
        "The security token included in the request is invalid.",
    )
    assert error(client(cronbridge_server, "sts", "AKIANOBODY", "x").get_caller_identity) == (
        "InvalidClientTokenId",
        403,
        "The security token included in the request is invalid",
    )


def test_a_wrong_secret_is_a_signature_mismatch(cronbridge_server: Any) -> None:
    code, status, message = error(client(cronbridge_server, "logs", ADMIN_KEY, "wrong").describe_log_groups)
    assert (code, status) == ("InvalidSignatureException", 400)
    assert message.startswith("The request signature we calculated does not match the signature you provided.")
    assert error(client(cronbridge_server, "iam", ADMIN_KEY, "wrong").list_roles)[:2] == ("SignatureDoesNotMatch", 403)


def test_a_request_signed_outside_five_minutes_is_expired(cronbridge_server: Any) -> None:
    status, body = send(cronbridge_server, "ecs", skew=timedelta(minutes=-6))
    assert status == 400 and b"InvalidSignatureException" in body and b"Signature expired: " in body
    assert b"- 5 min.)" in body
    status, body = send(cronbridge_server, "sts", skew=timedelta(minutes=6))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body and b"Signature not yet current" in body
    assert send(cronbridge_server, "ecs", skew=timedelta(minutes=-4))[0] == 200


def test_the_allowed_skew_is_a_setting(server_factory: Any) -> None:
    server = server_factory(extra_env={"CRONBRIDGE_SIGNATURE_SKEW": "900"})
    assert send(server, "ecs", skew=timedelta(minutes=-10))[0] == 200
    status, body = send(server, "ecs", skew=timedelta(minutes=-16))
    assert status == 400 and b"- 15 min.)" in body


def test_a_request_without_a_signature_is_missing_its_token(cronbridge_server: Any) -> None:
    status, body = send(cronbridge_server, "ecs", sign=False)
    assert status == 400 and b'"__type":"MissingAuthenticationTokenException"' in body
    status, body = send(cronbridge_server, "sts", sign=False)
    assert status == 403 and b"<Code>MissingAuthenticationToken</Code>" in body
    assert cronbridge_server.client("ecs").list_clusters()["clusterArns"] == []  # and the server keeps serving


def test_open_mode_accepts_any_key_as_the_administrator(server_factory: Any) -> None:
    server = server_factory(extra_env={"CRONBRIDGE_AUTH": "open"})
    assert "auth: open" in server.log_path.read_text()
    me = client(server, "sts", "anything", "at-all").get_caller_identity()
    assert me["Arn"] == "arn:aws:iam::000000000000:user/admin"
    assert client(server, "ecs", "AKIDOTHER", "x").list_clusters()["clusterArns"] == []
    status, body = send(server, "ecs", sign=False)
    assert status == 400 and b"MissingAuthenticationTokenException" in body


def test_open_mode_names_the_user_of_a_key_it_issued(server_factory: Any) -> None:
    server = server_factory(extra_env={"CRONBRIDGE_AUTH": "open"})
    iam = client(server, "iam", "anything", "at-all")
    user = iam.create_user(UserName="new-user")["User"]
    key = iam.create_access_key(UserName="new-user")["AccessKey"]
    me = client(server, "sts", key["AccessKeyId"], "not-its-secret").get_caller_identity()  # open: not verified
    assert (me["Arn"], me["UserId"]) == (user["Arn"], user["UserId"])


def test_enforce_is_the_default_and_said_at_start_up(cronbridge_server: Any) -> None:
    assert "auth: enforce" in cronbridge_server.log_path.read_text()
    assert cronbridge_server.get("/_cronbridge/health")["auth"] == "enforce"


def test_a_fresh_server_makes_an_administrator_key_and_shows_its_secret_once(tmp_path: Any) -> None:
    server = ServerProcess(
        tmp_path / "fresh", extra_env={"CRONBRIDGE_ADMIN_ACCESS_KEY_ID": "", "CRONBRIDGE_ADMIN_SECRET_ACCESS_KEY": ""}
    )
    try:
        server.start()
        path = server.data_dir / "admin-credentials"
        assert os.stat(path).st_mode & 0o777 == 0o600
        lines = dict(line.split(" = ") for line in path.read_text().splitlines() if " = " in line)
        key, secret = lines["aws_access_key_id"], lines["aws_secret_access_key"]
        assert key.startswith("AKIA") and f"export AWS_SECRET_ACCESS_KEY={secret}" in server.log_path.read_text()
        assert client(server, "sts", key, secret).get_caller_identity()["Arn"].endswith(":user/admin")
        server.restart()
        assert server.log_path.read_text().count(secret) == 1  # printed at the first start only
        assert client(server, "sts", key, secret).get_caller_identity()["Arn"].endswith(":user/admin")
        assert error(client(server, "sts", ADMIN_KEY, ADMIN_SECRET).get_caller_identity)[0] == "InvalidClientTokenId"
    finally:
        server.stop()


def test_reset_keeps_the_administrator_key(cronbridge_server: Any) -> None:
    cronbridge_server.reset()
    assert cronbridge_server.client("sts").get_caller_identity()["Arn"].endswith(":user/admin")


def test_the_aws_cli_is_refused_with_a_wrong_secret_and_served_with_the_right_one(cronbridge_server: Any) -> None:
    wrong = aws(cronbridge_server, "ecs", "list-clusters", secret="wrong")
    assert wrong.returncode != 0 and "InvalidSignatureException" in wrong.stderr
    unknown = aws(cronbridge_server, "iam", "list-roles", key="AKIANOBODY")
    assert unknown.returncode != 0 and "InvalidClientTokenId" in unknown.stderr
    right = aws(cronbridge_server, "ecs", "list-clusters")
    assert right.returncode == 0, right.stderr
