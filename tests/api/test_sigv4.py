"""SigV4 verification against AWS's published suite, botocore's signer and real boto3 clients."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest.mock import patch
from urllib.parse import quote, urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.utils import percent_encode_sequence
from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.api import sigv4
from cronbridge.api.sigv4 import Credential, SigV4Error, error_code, join_headers, verify

SUITE = json.loads((Path(__file__).parent / "sigv4_vectors" / "aws_suite.json").read_text("utf-8"))
KEY, SECRET = SUITE["access_key_id"], SUITE["secret_access_key"]
SUITE_TIME = datetime(2015, 8, 30, 12, 36, tzinfo=UTC).timestamp()
TOKEN = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"


def lookup(key: str) -> Credential | None:
    return Credential(SECRET) if key == KEY else None


def lookup_with_token(key: str) -> Credential | None:
    return Credential(SECRET, TOKEN) if key == KEY else None


def _suite_request(case: dict[str, Any]) -> dict[str, Any]:
    headers = join_headers((name, value) for name, value in case["headers"])
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={KEY}/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders={case['signed_headers']}, Signature={case['signature']}")
    return {"method": case["method"], "raw_path": case["path"], "query": case["query"],
            "headers": headers, "body": case["body"].encode()}


def _suite_lookup(case: dict[str, Any]) -> Any:
    """The suite's key, with the session token the case's request carries (if any)."""
    token = {name.lower(): value for name, value in case["headers"]}.get("x-amz-security-token")
    return lambda key: Credential(SECRET, token) if key == KEY else None


@pytest.mark.parametrize("case", SUITE["header_cases"], ids=lambda c: c["name"])
def test_the_aws_suite_request_verifies(case: dict[str, Any]) -> None:
    caller = verify(**_suite_request(case), lookup_secret=_suite_lookup(case), now=SUITE_TIME)
    assert (caller.access_key_id, caller.region, caller.service) == (KEY, "us-east-1", "service")


@pytest.mark.parametrize("case", SUITE["header_cases"], ids=lambda c: c["name"])
def test_the_aws_suite_request_fails_when_its_path_is_changed(case: dict[str, Any]) -> None:
    request = _suite_request(case)
    request["raw_path"] = "/tampered"
    with pytest.raises(SigV4Error) as caught:
        verify(**request, lookup_secret=_suite_lookup(case), now=SUITE_TIME)
    assert caught.value.kind == "bad_signature"


@pytest.mark.parametrize("case", SUITE["header_cases"], ids=lambda c: c["name"])
def test_signing_a_suite_request_reproduces_the_published_signature(case: dict[str, Any]) -> None:
    request = _suite_request(case)
    headers = {k: v for k, v in request["headers"].items() if k != "authorization"}
    header = sigv4.sign(case["method"], case["path"], case["query"], headers, request["body"],
                        access_key_id=KEY, secret_access_key=SECRET, region="us-east-1",
                        service="service", amz_date=SUITE["amz_date"])
    assert header.endswith("Signature=" + case["signature"])


def test_the_suite_presigned_url_verifies_from_its_query_string() -> None:
    case = SUITE["presigned_cases"][0]
    caller = verify(case["method"], case["path"], case["query"], dict(case["headers"]), b"",
                    lookup_secret=lookup, now=SUITE_TIME + 60)
    assert caller.access_key_id == KEY


def test_a_presigned_url_past_its_expiry_is_refused() -> None:
    case = SUITE["presigned_cases"][0]
    with pytest.raises(SigV4Error) as caught:
        verify(case["method"], case["path"], case["query"], dict(case["headers"]), b"",
               lookup_secret=lookup, now=SUITE_TIME + 3601)
    assert caught.value.kind == "expired"


def test_the_canonical_query_sorts_by_encoded_name_then_value() -> None:
    assert sigv4.canonical_query("b=2&a=x%20y&A=0&a=1") == "A=0&a=1&a=x%20y&b=2"


@pytest.mark.parametrize(("raw", "canonical"), [
    ("/", "/"),
    ("", "/"),
    ("//example//", "/example/"),
    ("/example/..", "/"),
    ("/./example/./", "/example/"),
    ("/a b", "/a%20b"),
    ("/a%20b", "/a%2520b"),
    ("/~user", "/~user"),
])
def test_the_canonical_path_normalizes_and_encodes_each_segment(raw: str, canonical: str) -> None:
    assert sigv4.canonical_path(raw) == canonical


# -- botocore's own signer ---------------------------------------------------------------

def _botocore_signed(request: AWSRequest, service: str, token: str | None = None) -> AWSRequest:
    credentials = Credentials(KEY, SECRET, token)
    SigV4Auth(credentials, service, "eu-west-1").add_auth(request)  # signs at the wall-clock time
    return request


def _verify_aws_request(request: AWSRequest, **kwargs: Any) -> sigv4.Caller:
    parts = urlsplit(request.url)
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    headers = dict(request.headers.items())
    headers.setdefault("Host", parts.netloc)
    kwargs.setdefault("lookup_secret", lookup)
    kwargs.setdefault("now", datetime.now(UTC).timestamp())
    return verify(request.method, parts.path, parts.query, headers, body, **kwargs)


def test_a_json_body_signed_by_botocore_verifies() -> None:
    body = json.dumps({"cluster": "default", "taskDefinition": "job:1"}).encode()
    request = AWSRequest("POST", "http://127.0.0.1:4566/", data=body, headers={
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.RunTask",
        "Content-Type": "application/x-amz-json-1.1"})
    caller = _verify_aws_request(_botocore_signed(request, "ecs"))
    assert (caller.region, caller.service) == ("eu-west-1", "ecs")


def test_a_query_string_signed_by_botocore_verifies() -> None:
    query = percent_encode_sequence({"Marker": "x/y+z", "Action": "List Roles", "Version": "1"})
    request = AWSRequest("GET", "http://127.0.0.1:4566/things/a%20b?" + query)
    _verify_aws_request(_botocore_signed(request, "iam"))


def test_a_session_token_signed_by_botocore_verifies_and_is_reported() -> None:
    request = AWSRequest("POST", "http://127.0.0.1:4566/", data=b"Action=GetCallerIdentity",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    caller = _verify_aws_request(_botocore_signed(request, "sts", TOKEN),
                                 lookup_secret=lookup_with_token)
    assert caller.session_token == TOKEN


def test_a_changed_body_no_longer_matches() -> None:
    signed = _botocore_signed(AWSRequest("POST", "http://127.0.0.1:4566/", data=b"{}"), "logs")
    changed = AWSRequest("POST", signed.url, data=b'{"x":1}', headers=dict(signed.headers))
    with pytest.raises(SigV4Error) as caught:
        _verify_aws_request(changed)
    assert caught.value.kind == "bad_signature"
    assert "The Canonical String for this request should have been" in caught.value.message


# -- failures, worded as AWS words them ---------------------------------------------------

def _vanilla(**overrides: Any) -> dict[str, Any]:
    request = _suite_request(SUITE["header_cases"][0])
    request.update(overrides)
    return request


def test_an_unknown_access_key_is_an_unrecognized_client() -> None:
    with pytest.raises(SigV4Error) as caught:
        verify(**_vanilla(), lookup_secret=lambda key: None, now=SUITE_TIME)
    assert caught.value.kind == "unknown_key"
    assert caught.value.for_protocol("json").message == (
        "The security token included in the request is invalid.")
    assert caught.value.for_protocol("query").code == "InvalidClientTokenId"


def test_a_wrong_secret_is_a_bad_signature() -> None:
    with pytest.raises(SigV4Error) as caught:
        verify(**_vanilla(), lookup_secret=lambda key: Credential("not-the-secret"),
               now=SUITE_TIME)
    assert caught.value.code == "InvalidSignatureException"
    assert caught.value.message.startswith(
        "The request signature we calculated does not match the signature you provided.")


def test_a_request_older_than_five_minutes_has_an_expired_signature() -> None:
    with pytest.raises(SigV4Error) as caught:
        verify(**_vanilla(), lookup_secret=lookup, now=SUITE_TIME + 301)
    assert caught.value.kind == "expired"
    assert caught.value.message == ("Signature expired: 20150830T123600Z is now earlier than "
                                    "20150830T123601Z (20150830T124101Z - 5 min.)")


def test_a_request_from_the_future_is_not_yet_current() -> None:
    with pytest.raises(SigV4Error) as caught:
        verify(**_vanilla(), lookup_secret=lookup, now=SUITE_TIME - 301)
    assert caught.value.message.startswith("Signature not yet current: 20150830T123600Z")


def test_the_allowed_skew_is_configurable() -> None:
    verify(**_vanilla(), lookup_secret=lookup, now=SUITE_TIME + 800, max_skew=900)
    with pytest.raises(SigV4Error, match=r"- 15 min\.\)$"):
        verify(**_vanilla(), lookup_secret=lookup, now=SUITE_TIME + 901, max_skew=900)


def test_a_request_exactly_at_the_edge_of_the_window_passes() -> None:
    verify(**_vanilla(), lookup_secret=lookup, now=SUITE_TIME + 300)


def test_expired_session_credentials_give_an_expired_token() -> None:
    case = next(c for c in SUITE["header_cases"] if c["name"] == "get-vanilla-with-session-token")
    with pytest.raises(SigV4Error) as caught:
        verify(**_suite_request(case), lookup_secret=lambda key: Credential(
            SECRET, TOKEN, expires_at=SUITE_TIME - 1), now=SUITE_TIME)
    assert caught.value.kind == "expired_token"
    assert caught.value.for_protocol("query").code == "ExpiredToken"


def test_session_credentials_without_their_token_are_refused() -> None:
    with pytest.raises(SigV4Error) as caught:
        verify(**_vanilla(), lookup_secret=lookup_with_token, now=SUITE_TIME)
    assert caught.value.kind == "unknown_key"


def test_a_request_without_any_signature_misses_the_authentication_token() -> None:
    request = _vanilla()
    del request["headers"]["authorization"]
    with pytest.raises(SigV4Error) as caught:
        verify(**request, lookup_secret=lookup, now=SUITE_TIME)
    assert (caught.value.code, caught.value.message) == (
        "MissingAuthenticationTokenException", "Request is missing Authentication Token")


@pytest.mark.parametrize(("authorization", "fragment"), [
    ("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
     "Authorization header requires 'Credential' parameter."),
    ("AWS4-HMAC-SHA1 Credential=a/b/c/d/aws4_request", "Unsupported AWS 'algorithm'"),
    (f"AWS4-HMAC-SHA256 Credential={KEY}/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=x-amz-date, Signature=00", "'Host' or ':authority' must be a 'SignedHeader'"),
])
def test_a_malformed_authorization_header_is_an_incomplete_signature(
        authorization: str, fragment: str) -> None:
    request = _vanilla()
    request["headers"]["authorization"] = authorization
    with pytest.raises(SigV4Error) as caught:
        verify(**request, lookup_secret=lookup, now=SUITE_TIME)
    assert caught.value.kind == "incomplete"
    assert fragment in caught.value.message


def test_a_credential_date_that_differs_from_the_request_date_is_a_bad_signature() -> None:
    request = _vanilla()
    request["headers"]["authorization"] = request["headers"]["authorization"].replace(
        "20150830/", "20150831/")
    with pytest.raises(SigV4Error, match="Date in Credential scope does not match"):
        verify(**request, lookup_secret=lookup, now=SUITE_TIME)


@pytest.mark.parametrize(("kind", "json_pair", "query_pair"), [
    ("missing", ("MissingAuthenticationTokenException", 400), ("MissingAuthenticationToken", 403)),
    ("unknown_key", ("UnrecognizedClientException", 400), ("InvalidClientTokenId", 403)),
    ("bad_signature", ("InvalidSignatureException", 400), ("SignatureDoesNotMatch", 403)),
    ("expired", ("InvalidSignatureException", 400), ("SignatureDoesNotMatch", 403)),
    ("expired_token", ("ExpiredTokenException", 400), ("ExpiredToken", 403)),
    ("incomplete", ("IncompleteSignatureException", 400), ("IncompleteSignature", 400)),
])
def test_each_failure_maps_to_the_code_each_protocol_uses(
        kind: str, json_pair: tuple[str, int], query_pair: tuple[str, int]) -> None:
    assert error_code(kind, "json") == json_pair
    assert error_code(kind, "query") == query_pair


def test_repeated_headers_are_joined_with_commas_and_trimmed() -> None:
    assert join_headers([("My-Header1", "value4"), ("my-header1", "  value1  x")]) == {
        "my-header1": "value4,value1 x"}


# -- real boto3 clients, captured by a tiny local server -------------------------------------

_XML_ERROR = (b"<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code>"
              b"<Message>captured</Message></Error><RequestId>1</RequestId></ErrorResponse>")


class _Capture(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        path, _, query = self.path.partition("?")
        _Capture.seen.append({"method": "POST", "raw_path": path, "query": query,
                              "headers": join_headers(self.headers.items()), "body": body})
        xml = self.headers.get("Content-Type", "").startswith("application/x-www-form")
        payload = _XML_ERROR if xml else b'{"__type":"ClusterNotFoundException","message":"x"}'
        self.send_response(400)
        self.send_header("Content-Type", "text/xml" if xml else "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture(scope="module")
def capture_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _client(service: str, url: str, token: str | None = None) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="eu-west-1",
                        aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                        aws_session_token=token,
                        config=Config(retries={"max_attempts": 1}))


@pytest.mark.parametrize(("service", "call"), [
    ("ecs", lambda c: c.run_task(cluster="default", taskDefinition="job:1", count=1)),
    ("logs", lambda c: c.describe_log_groups(logGroupNamePrefix="/ecs/")),
    ("sts", lambda c: c.get_caller_identity()),
    ("iam", lambda c: c.list_roles(PathPrefix="/service-role/")),
])
def test_a_real_boto3_request_verifies(capture_url: str, service: str, call: Any) -> None:
    _Capture.seen.clear()
    with pytest.raises(ClientError):
        call(_client(service, capture_url, TOKEN))
    request = _Capture.seen[-1]
    now = datetime.now(UTC).timestamp()
    caller = verify(**request, lookup_secret=lookup_with_token, now=now)
    assert (caller.service, caller.region, caller.session_token) == (service, "eu-west-1", TOKEN)
    assert hashlib.sha256(request["body"]).hexdigest() != sigv4.EMPTY_SHA256


# -- properties: what is signed verifies, and any change to it does not ----------------------

HEADER_NAMES = st.sampled_from(["content-type", "x-amz-target", "my-header", "x-amz-meta-a"])
HEADER_VALUES = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20)
QUERIES = st.lists(st.tuples(st.text(alphabet="abAB-_.~ %", min_size=1, max_size=5),
                             st.text(alphabet="abc=/+ %é", max_size=5)), max_size=4)
PATHS = st.lists(st.text(alphabet="ab-_.~ é", min_size=1, max_size=6), max_size=3)


def _signed_request(path: list[str], pairs: list[tuple[str, str]], extra: dict[str, str],
                    body: bytes) -> dict[str, Any]:
    raw_path = "/" + "/".join(quote(p) for p in path)
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    headers = {"host": "localhost:4566", "x-amz-date": SUITE["amz_date"], **extra}
    headers["authorization"] = sigv4.sign(
        "POST", raw_path, query, headers, body, access_key_id=KEY, secret_access_key=SECRET,
        region="us-east-1", service="ecs", amz_date=SUITE["amz_date"])
    return {"method": "POST", "raw_path": raw_path, "query": query, "headers": headers,
            "body": body}


@settings(max_examples=150, deadline=None)
@given(PATHS, QUERIES, st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=3),
       st.binary(max_size=64))
def test_whatever_is_signed_verifies(path: list[str], pairs: list[tuple[str, str]],
                                     extra: dict[str, str], body: bytes) -> None:
    request = _signed_request(path, pairs, extra, body)
    assert verify(**request, lookup_secret=lookup, now=SUITE_TIME).service == "ecs"


@settings(max_examples=150, deadline=None)
@given(PATHS, QUERIES, st.binary(max_size=64), st.integers(min_value=0, max_value=63),
       st.integers(min_value=1, max_value=255))
def test_a_changed_body_byte_never_verifies(path: list[str], pairs: list[tuple[str, str]],
                                            body: bytes, index: int, flip: int) -> None:
    request = _signed_request(path, pairs, {}, body)
    changed = bytearray(body or b"\0")
    changed[index % len(changed)] ^= flip
    request["body"] = bytes(changed) if body else bytes(changed)
    if request["body"] == body:
        return
    with pytest.raises(SigV4Error):
        verify(**request, lookup_secret=lookup, now=SUITE_TIME)


# -- what AWS refuses that a lax verifier would let in -------------------------------------

def _presigned(service: str = "sts", expires: str = "60", signed_at: float | None = None) -> dict[str, Any]:
    """A query-protocol GET presigned by botocore's own presigner, as verify's keyword arguments (a lifetime that
    is no number replaces the signed one)."""
    from botocore.auth import SigV4QueryAuth

    request = AWSRequest("GET", "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15")
    numeric = expires.lstrip("-").isdigit()
    signer = SigV4QueryAuth(Credentials(KEY, SECRET), service, "us-east-1", expires=int(expires) if numeric else 60)
    when = datetime.now(UTC) if signed_at is None else datetime.fromtimestamp(signed_at, UTC)
    with patch("botocore.auth.get_current_datetime", lambda: when.replace(tzinfo=None)):  # sign at `when`
        signer.add_auth(request)
    parts = urlsplit(request.url)
    query = parts.query if numeric else parts.query.replace("X-Amz-Expires=60", f"X-Amz-Expires={expires}")
    return {"method": "GET", "raw_path": parts.path, "query": query, "headers": {"host": parts.netloc},
            "body": b""}


def test_a_presigned_query_request_from_botocore_verifies() -> None:
    caller = verify(**_presigned(), lookup_secret=lookup, now=datetime.now(UTC).timestamp(), service="sts")
    assert caller.service == "sts"


@pytest.mark.parametrize(("expires", "message"), [
    ("604801", "X-Amz-Expires must be less than a week (in seconds) that is 604800"),
    ("-1", "X-Amz-Expires must be non-negative"),
    ("soon", "X-Amz-Expires should be a number"),
])
def test_a_presigned_lifetime_outside_a_week_is_refused(expires: str, message: str) -> None:
    with pytest.raises(SigV4Error) as caught:
        verify(**_presigned(expires=expires), lookup_secret=lookup, now=datetime.now(UTC).timestamp())
    assert (caught.value.kind, caught.value.message) == ("incomplete", message)


def test_a_presigned_url_dated_in_the_future_is_not_yet_current() -> None:
    now = datetime.now(UTC).timestamp()
    with pytest.raises(SigV4Error, match="Signature not yet current"):
        verify(**_presigned(signed_at=now + 30 * 86400, expires="604800"), lookup_secret=lookup, now=now)


def test_a_credential_scoped_to_another_service_is_refused_before_the_key_is_looked_up() -> None:
    with pytest.raises(SigV4Error) as caught:
        verify(**_vanilla(), lookup_secret=lambda key: None, now=SUITE_TIME, service="ecs")
    assert caught.value.kind == "wrong_service"
    assert caught.value.message == "Credential should be scoped to correct service: 'ecs'. "
    assert caught.value.for_protocol("query").code == "SignatureDoesNotMatch"


def test_an_unsigned_payload_is_not_accepted_outside_s3() -> None:
    body = b'{"cluster": "default"}'
    headers = {"host": "127.0.0.1", "x-amz-date": "20150830T123600Z", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
    headers["authorization"] = sigv4.sign("POST", "/", "", headers, body, access_key_id=KEY, secret_access_key=SECRET,
                                          region="us-east-1", service="ecs", amz_date="20150830T123600Z")
    with pytest.raises(SigV4Error) as caught:
        verify("POST", "/", "", headers, body, lookup_secret=lookup, now=SUITE_TIME)
    assert caught.value.kind == "bad_signature"
