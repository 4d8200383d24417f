"""The SigV4 attack matrix: requests that AWS refuses (tampered, expired, future, mis-scoped, unknown, inactive or
deleted keys, stolen session tokens, presigned URLs beyond a week ...), each signed first by botocore's own signer and
then attacked, sent over every protocol the server speaks; none may be accepted, and each control is."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch
from urllib.parse import parse_qsl, urlencode, urlsplit

import cbor2
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cronbridge.api import sigv4
from fixtures.server import ADMIN_KEY, ADMIN_SECRET, REGION, ServerProcess

ACCOUNT = "000000000000"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


@dataclass(frozen=True)
class Endpoint:
    """One operation on one protocol, as a request before signing."""

    name: str
    service: str
    method: str
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


ENDPOINTS = (
    Endpoint("json ecs", "ecs", "POST", "/", headers=(
        ("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters"),
        ("Content-Type", "application/x-amz-json-1.1")), body=b"{}"),
    Endpoint("json logs", "logs", "POST", "/", headers=(
        ("X-Amz-Target", "Logs_20140328.DescribeLogGroups"), ("Content-Type", "application/x-amz-json-1.1")),
        body=b"{}"),
    Endpoint("json events", "events", "POST", "/", headers=(
        ("X-Amz-Target", "AWSEvents.ListRules"), ("Content-Type", "application/x-amz-json-1.1")), body=b"{}"),
    Endpoint("json sqs", "sqs", "POST", "/", headers=(
        ("X-Amz-Target", "AmazonSQS.ListQueues"), ("Content-Type", "application/x-amz-json-1.0")), body=b"{}"),
    Endpoint("cbor cloudwatch", "monitoring", "POST", "/service/GraniteServiceVersion20100801/operation/ListMetrics",
             headers=(("Content-Type", "application/cbor"), ("Accept", "application/cbor"),
                      ("smithy-protocol", "rpc-v2-cbor")), body=cbor2.dumps({})),
    Endpoint("rest scheduler", "scheduler", "GET", "/schedules"),
    Endpoint("query iam", "iam", "POST", "/", headers=(("Content-Type", FORM),),
             body=b"Action=ListUsers&Version=2010-05-08"),
    Endpoint("query sts", "sts", "POST", "/", headers=(("Content-Type", FORM),),
             body=b"Action=GetCallerIdentity&Version=2011-06-15"),
    Endpoint("own cronbridge", "cronbridge", "GET", "/_cronbridge/rules"),
)
PRESIGNABLE = (
    Endpoint("query iam GET", "iam", "GET", "/", query="Action=ListUsers&Version=2010-05-08"),
    Endpoint("query sts GET", "sts", "GET", "/", query="Action=GetCallerIdentity&Version=2011-06-15"),
    Endpoint("rest scheduler GET", "scheduler", "GET", "/schedules"),
    Endpoint("own cronbridge GET", "cronbridge", "GET", "/_cronbridge/rules"),
)


@dataclass(frozen=True)
class Keys:
    """The identities the attacks use, made once on the matrix's server."""

    admin: Credentials
    inactive: Credentials
    deleted: Credentials
    session: Credentials
    other_session: Credentials


@dataclass(frozen=True)
class Sent:
    """A request ready to send."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Keys]]:
    server = ServerProcess(tmp_path_factory.mktemp("sigv4-matrix")).start()
    try:
        yield server, _identities(server)
    finally:
        server.stop()


def _identities(server: ServerProcess) -> Keys:
    iam, sts = server.client("iam"), server.client("sts")
    iam.create_user(UserName="matrix")
    iam.put_user_policy(UserName="matrix", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    inactive = iam.create_access_key(UserName="matrix")["AccessKey"]
    iam.update_access_key(UserName="matrix", AccessKeyId=inactive["AccessKeyId"], Status="Inactive")
    deleted = iam.create_access_key(UserName="matrix")["AccessKey"]
    iam.delete_access_key(UserName="matrix", AccessKeyId=deleted["AccessKeyId"])
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="matrix-role", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="matrix-role", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    role = f"arn:aws:iam::{ACCOUNT}:role/matrix-role"
    one, two = (sts.assume_role(RoleArn=role, RoleSessionName=name)["Credentials"] for name in ("one", "two"))
    return Keys(
        admin=Credentials(ADMIN_KEY, ADMIN_SECRET),
        inactive=Credentials(inactive["AccessKeyId"], inactive["SecretAccessKey"]),
        deleted=Credentials(deleted["AccessKeyId"], deleted["SecretAccessKey"]),
        session=Credentials(one["AccessKeyId"], one["SecretAccessKey"], one["SessionToken"]),
        other_session=Credentials(two["AccessKeyId"], two["SecretAccessKey"], two["SessionToken"]),
    )


# signing, by botocore's own signer (at a chosen instant) --------------------------------------------------


def _at(moment: datetime) -> Any:
    return patch("botocore.auth.get_current_datetime", lambda: moment.replace(tzinfo=None))


def _url(server: ServerProcess, endpoint: Endpoint) -> str:
    return server.endpoint + endpoint.path + (f"?{endpoint.query}" if endpoint.query else "")


def header_signed(server: ServerProcess, endpoint: Endpoint, credentials: Credentials, *, service: str | None = None,
                  at: datetime | None = None, extra: dict[str, str] | None = None) -> Sent:
    request = AWSRequest(endpoint.method, _url(server, endpoint), data=endpoint.body,
                         headers={**dict(endpoint.headers), "X-Amz-Meta-Probe": "one", **(extra or {})})
    with _at(at or datetime.now(UTC)):
        SigV4Auth(credentials, service or endpoint.service, REGION).add_auth(request)
    return _sent(request, endpoint.body)


def presigned(server: ServerProcess, endpoint: Endpoint, credentials: Credentials, *, service: str | None = None,
              at: datetime | None = None, expires: int = 300) -> Sent:
    request = AWSRequest(endpoint.method, _url(server, endpoint))
    with _at(at or datetime.now(UTC)):
        SigV4QueryAuth(credentials, service or endpoint.service, REGION, expires=expires).add_auth(request)
    return _sent(request, b"")


def _sent(request: AWSRequest, body: bytes) -> Sent:
    parts = urlsplit(request.url)
    headers = {k: v for k, v in request.headers.items()}
    headers.setdefault("Host", parts.netloc)
    return Sent(request.method, parts.path, parts.query, headers, body)


def send(server: ServerProcess, sent: Sent) -> tuple[int, bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        target = sent.path + (f"?{sent.query}" if sent.query else "")
        conn.request(sent.method, target, body=sent.body or None, headers=sent.headers)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


# the attacks ------------------------------------------------------------------------------------------------

Attack = Callable[[ServerProcess, Endpoint, Keys], Sent]


def now() -> datetime:
    """The wall clock when an attack is built (the matrix runs for a while: times are never taken in advance)."""
    return datetime.now(UTC)


def _edit_auth(sent: Sent, old: str, new: str) -> Sent:
    return replace(sent, headers={**sent.headers, "Authorization": sent.headers["Authorization"].replace(old, new)})


def _signature_of(sent: Sent) -> str:
    return sent.headers["Authorization"].rpartition("Signature=")[2]


def _add_query(sent: Sent, pair: str) -> Sent:
    return replace(sent, query=f"{sent.query}&{pair}" if sent.query else pair)


def _other_body(endpoint: Endpoint) -> bytes:
    if endpoint.service in ("iam", "sts"):
        return endpoint.body.replace(b"ListUsers", b"ListRoles").replace(b"GetCallerIdentity", b"GetCallerIdentitz")
    return endpoint.body[:-1] + b', "x": 1}' if endpoint.body.endswith(b"}") else b'{"x": 1}'


def _unsigned_payload(server: ServerProcess, endpoint: Endpoint, keys: Keys) -> Sent:
    """Signed (by our own signer) with the payload line UNSIGNED-PAYLOAD, as S3 alone allows: then a new body."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    headers = {**dict(endpoint.headers), "Host": f"127.0.0.1:{server.port}", "X-Amz-Date": stamp,
               "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
    headers["Authorization"] = sigv4.sign(endpoint.method, endpoint.path, endpoint.query, headers, endpoint.body,
                                          access_key_id=ADMIN_KEY, secret_access_key=ADMIN_SECRET, region=REGION,
                                          service=endpoint.service, amz_date=stamp)
    return Sent(endpoint.method, endpoint.path, endpoint.query, headers, _other_body(endpoint))


HEADER_ATTACKS: dict[str, Attack] = {
    "no signature": lambda s, e, k: replace(header_signed(s, e, k.admin), headers={
        n: v for n, v in header_signed(s, e, k.admin).headers.items() if n != "Authorization"}),
    "wrong secret": lambda s, e, k: header_signed(s, e, Credentials(ADMIN_KEY, "not-the-secret")),
    "unknown key": lambda s, e, k: header_signed(s, e, Credentials("AKIDNOBODY0000000000", "x")),
    "inactive key": lambda s, e, k: header_signed(s, e, k.inactive),
    "deleted key": lambda s, e, k: header_signed(s, e, k.deleted),
    "session key without its token": lambda s, e, k: header_signed(
        s, e, Credentials(k.session.access_key, k.session.secret_key)),
    "session key with another session's token": lambda s, e, k: header_signed(
        s, e, Credentials(k.session.access_key, k.session.secret_key, k.other_session.token)),
    "body changed after signing": lambda s, e, k: replace(header_signed(s, e, k.admin), body=_other_body(e)),
    "path changed after signing": lambda s, e, k: replace(header_signed(s, e, k.admin), path=e.path + "x"),
    "query parameter added after signing": lambda s, e, k: _add_query(header_signed(s, e, k.admin), "Marker=x"),
    "signed header changed after signing": lambda s, e, k: replace(header_signed(s, e, k.admin), headers={
        **header_signed(s, e, k.admin).headers, "X-Amz-Meta-Probe": "two"}),
    "signed more than 5 minutes ago": lambda s, e, k: header_signed(s, e, k.admin, at=now() - timedelta(minutes=6)),
    "signed more than 5 minutes ahead": lambda s, e, k: header_signed(s, e, k.admin, at=now() + timedelta(minutes=6)),
    "credential date not the request's": lambda s, e, k: _edit_auth(
        header_signed(s, e, k.admin), f"/{now():%Y%m%d}/", f"/{now() - timedelta(days=1):%Y%m%d}/"),
    "scoped to another service": lambda s, e, k: header_signed(
        s, e, k.admin, service="ec2" if e.service != "ec2" else "s3"),
    "scope terminator not aws4_request": lambda s, e, k: _edit_auth(header_signed(s, e, k.admin), "/aws4_request",
                                                                    "/aws4_requesx"),
    "another algorithm": lambda s, e, k: _edit_auth(header_signed(s, e, k.admin), "AWS4-HMAC-SHA256",
                                                    "AWS4-HMAC-SHA1"),
    "host left out of the signed headers": lambda s, e, k: _edit_auth(header_signed(s, e, k.admin), "host;", ""),
    "no Signature field": lambda s, e, k: _edit_auth(
        header_signed(s, e, k.admin), ", Signature=" + _signature_of(header_signed(s, e, k.admin)), ""),
    "signature in upper case": lambda s, e, k: _edit_auth(
        header_signed(s, e, k.admin), _signature_of(header_signed(s, e, k.admin)),
        _signature_of(header_signed(s, e, k.admin)).upper()),
    "signature truncated": lambda s, e, k: _edit_auth(
        header_signed(s, e, k.admin), _signature_of(header_signed(s, e, k.admin)),
        _signature_of(header_signed(s, e, k.admin))[:-2]),
    "declared payload hash not the body's": lambda s, e, k: header_signed(
        s, e, k.admin, extra={"X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()}),
    "UNSIGNED-PAYLOAD outside S3": _unsigned_payload,
    "host changed after signing": lambda s, e, k: replace(header_signed(s, e, k.admin), headers={
        **header_signed(s, e, k.admin).headers, "Host": "evil.example:443"}),
}


def _set_param(sent: Sent, name: str, value: str) -> Sent:
    pairs = [(k, v) for k, v in parse_qsl(sent.query, keep_blank_values=True) if k != name] + [(name, value)]
    return replace(sent, query=urlencode(pairs))


def _drop_param(sent: Sent, name: str) -> Sent:
    return replace(sent, query=urlencode([(k, v) for k, v in parse_qsl(sent.query) if k != name]))


PRESIGNED_ATTACKS: dict[str, Attack] = {
    "lifetime over a week": lambda s, e, k: presigned(s, e, k.admin, expires=604_801),
    "negative lifetime": lambda s, e, k: presigned(s, e, k.admin, expires=-1),
    "lifetime not a number": lambda s, e, k: _set_param(presigned(s, e, k.admin), "X-Amz-Expires", "1e3"),
    "expired": lambda s, e, k: presigned(s, e, k.admin, at=now() - timedelta(hours=2), expires=60),
    "dated 30 days ahead": lambda s, e, k: presigned(s, e, k.admin, at=now() + timedelta(days=30), expires=604_800),
    "signature altered": lambda s, e, k: _set_param(presigned(s, e, k.admin), "X-Amz-Signature", "0" * 64),
    "parameter added after signing": lambda s, e, k: _add_query(presigned(s, e, k.admin), "Marker=x"),
    "scoped to another service": lambda s, e, k: presigned(s, e, k.admin, service="ec2"),
    "another algorithm": lambda s, e, k: _set_param(presigned(s, e, k.admin), "X-Amz-Algorithm", "AWS4-HMAC-SHA1"),
    "unknown key": lambda s, e, k: presigned(s, e, Credentials("AKIDNOBODY0000000000", "x")),
    "wrong secret": lambda s, e, k: presigned(s, e, Credentials(ADMIN_KEY, "not-the-secret")),
    "inactive key": lambda s, e, k: presigned(s, e, k.inactive),
    "no signed headers": lambda s, e, k: _drop_param(presigned(s, e, k.admin), "X-Amz-SignedHeaders"),
    "session key without its token": lambda s, e, k: presigned(
        s, e, Credentials(k.session.access_key, k.session.secret_key)),
}

CASES = [pytest.param(e, name, HEADER_ATTACKS[name], id=f"{e.name}: {name}") for e in ENDPOINTS
         for name in HEADER_ATTACKS] + [
    pytest.param(e, name, PRESIGNED_ATTACKS[name], id=f"{e.name} presigned: {name}") for e in PRESIGNABLE
    for name in PRESIGNED_ATTACKS]


def test_the_matrix_has_over_80_attacks_on_every_protocol() -> None:
    assert len(CASES) >= 80
    assert {e.name.split()[0] for e in ENDPOINTS} == {"json", "cbor", "rest", "query", "own"}


@pytest.mark.parametrize(("endpoint", "name", "attack"), CASES)
def test_no_attack_that_aws_refuses_is_accepted(matrix: tuple[ServerProcess, Keys], endpoint: Endpoint, name: str,
                                               attack: Attack) -> None:
    server, keys = matrix
    status, body = send(server, attack(server, endpoint, keys))
    assert 400 <= status < 500, (status, body[:300])


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_the_same_requests_signed_properly_are_accepted(matrix: tuple[ServerProcess, Keys],
                                                        endpoint: Endpoint) -> None:
    server, keys = matrix
    for credentials in (keys.admin, keys.session):
        status, body = send(server, header_signed(server, endpoint, credentials))
        assert status == 200, (status, body[:300])


@pytest.mark.parametrize("endpoint", PRESIGNABLE, ids=lambda e: e.name)
def test_the_same_urls_presigned_properly_are_accepted(matrix: tuple[ServerProcess, Keys], endpoint: Endpoint) -> None:
    server, keys = matrix
    status, body = send(server, presigned(server, endpoint, keys.admin))
    assert status == 200, (status, body[:300])
