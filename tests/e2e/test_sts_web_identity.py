"""A CI pipeline's OIDC role, offline: an OIDC provider created through boto3, its signing keys set on it, and an
unsigned AssumeRoleWithWebIdentity with a GitHub-shaped token; GetSessionToken; GetAccessKeyLastUsed."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import boto3
import jwt
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

ACCOUNT = "000000000000"
ISSUER = "https://token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CI_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Federated": PROVIDER_ARN}, "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                  "StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo/app:*"}}}]})


def error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    err = caught.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def github_token(key: Any = KEY, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": "sts.amazonaws.com", "sub": "repo:octo/app:ref:refs/heads/main",
            "repository": "octo/app", "exp": now + 600, "iat": now - 5, "nbf": now - 5} | claims
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "ci-key"})


def put_keys(server: Any, provider: str, jwks: dict[str, Any]) -> Any:
    request = server.signed_request("PUT", "/_cronbridge/oidc/keys",
                                    json.dumps({"provider": provider, "jwks": jwks}).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def unsigned_sts(server: Any) -> Any:
    return boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1",
                        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))


def ci_setup(server: Any) -> str:
    iam = server.client("iam")
    made = iam.create_open_id_connect_provider(Url=ISSUER, ClientIDList=["sts.amazonaws.com"],
                                               ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"])
    assert made["OpenIDConnectProviderArn"] == PROVIDER_ARN
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key())) | {"kid": "ci-key", "alg": "RS256"}
    assert put_keys(server, ISSUER, {"keys": [public]})["keyIds"] == ["ci-key"]
    return str(iam.create_role(RoleName="ci-deploy", AssumeRolePolicyDocument=CI_TRUST)["Role"]["Arn"])


def test_a_pipelines_token_assumes_its_role_unsigned(cronbridge_server: Any) -> None:
    role = ci_setup(cronbridge_server)
    reply = unsigned_sts(cronbridge_server).assume_role_with_web_identity(
        RoleArn=role, RoleSessionName="gha-run-1", WebIdentityToken=github_token(), DurationSeconds=900)
    assert reply["SubjectFromWebIdentityToken"] == "repo:octo/app:ref:refs/heads/main"
    assert (reply["Provider"], reply["Audience"]) == (ISSUER, "sts.amazonaws.com")
    assert reply["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-deploy/gha-run-1"
    creds = reply["Credentials"]
    sts = boto3.client("sts", endpoint_url=cronbridge_server.endpoint, region_name="us-east-1",
                       aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"])
    assert sts.get_caller_identity()["Arn"] == reply["AssumedRoleUser"]["Arn"]


@pytest.mark.parametrize(("token", "code", "status", "message"), [
    (lambda: github_token(sub="repo:evil/app:ref:refs/heads/main"), "AccessDenied", 403,
     "Not authorized to perform sts:AssumeRoleWithWebIdentity"),
    (lambda: github_token(aud="my-app"), "InvalidIdentityToken", 400, "Incorrect token audience"),
    (lambda: github_token(OTHER_KEY), "InvalidIdentityToken", 400,
     f"The web identity token's signature does not verify with the keys of {PROVIDER_ARN}"),
    (lambda: github_token(iss="https://gitlab.example.com"), "InvalidIdentityToken", 400,
     "No OpenIDConnect provider found in your account for https://gitlab.example.com"),
    (lambda: "not-a-token", "InvalidIdentityToken", 400,
     "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"),
], ids=["another repository", "another audience", "another key", "another issuer", "not a JWT"])
def test_sts_refuses_a_token_as_aws_does(cronbridge_server: Any, token: Any, code: str, status: int,
                                          message: str) -> None:
    role = ci_setup(cronbridge_server)
    call = lambda: unsigned_sts(cronbridge_server).assume_role_with_web_identity(  # noqa: E731
        RoleArn=role, RoleSessionName="gha-run-1", WebIdentityToken=token())
    assert error(call) == (code, status, message)


def test_an_expired_token_is_refused_with_expired_token(cronbridge_server: Any) -> None:
    role = ci_setup(cronbridge_server)
    expired = github_token(exp=int(time.time()) - 60)
    code, status, message = error(lambda: unsigned_sts(cronbridge_server).assume_role_with_web_identity(
        RoleArn=role, RoleSessionName="gha-run-1", WebIdentityToken=expired))
    assert (code, status) == ("ExpiredTokenException", 400)
    assert message.startswith("Token expired: current date/time ") and "must be before the expiration" in message


def test_oidc_providers_are_read_listed_changed_and_deleted(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    ci_setup(cronbridge_server)
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)
    assert (got["Url"], got["ClientIDList"]) == ("token.actions.githubusercontent.com", ["sts.amazonaws.com"])
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN, ClientID="other")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN,
                                                       ClientID="sts.amazonaws.com")
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=PROVIDER_ARN, ThumbprintList=["a" * 40])
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN, Tags=[{"Key": "ci", "Value": "gha"}])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)
    assert (got["ClientIDList"], got["ThumbprintList"], got["Tags"]) == (
        ["other"], ["a" * 40], [{"Key": "ci", "Value": "gha"}])
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [PROVIDER_ARN]
    assert error(lambda: iam.create_open_id_connect_provider(Url=ISSUER, ClientIDList=["x"]))[:2] == (
        "EntityAlreadyExists", 409)
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)
    assert error(lambda: iam.get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)) == (
        "NoSuchEntity", 404, f"OpenIDConnect Provider not found for arn {PROVIDER_ARN}")
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)  # idempotent, as IAM documents it


def test_a_users_session_token_acts_as_the_user_and_cannot_make_another(cronbridge_server: Any) -> None:
    reply = cronbridge_server.client("sts").get_session_token(DurationSeconds=900)
    creds = reply["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    sts = boto3.client("sts", endpoint_url=cronbridge_server.endpoint, region_name="us-east-1",
                       aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"], config=Config(retries={"max_attempts": 1}))
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/admin"
    assert error(sts.get_session_token) == (
        "AccessDenied", 403, "Cannot call GetSessionToken with session credentials")


def test_an_access_key_says_when_where_and_for_what_it_was_last_used(cronbridge_server: Any) -> None:
    iam = cronbridge_server.client("iam")
    iam.create_user(UserName="bob")
    key = iam.create_access_key(UserName="bob")["AccessKey"]
    fresh = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert fresh["UserName"] == "bob"
    assert fresh["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    before = time.time()
    logs = boto3.client("logs", endpoint_url=cronbridge_server.endpoint, region_name="eu-west-1",
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                        config=Config(retries={"max_attempts": 1}))
    with pytest.raises(ClientError):
        logs.describe_log_groups()  # refused (bob has no policy), but the key was used
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("logs", "eu-west-1")
    assert used["LastUsedDate"].timestamp() >= before - 1
