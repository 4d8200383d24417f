"""Size limits before work, against a real server: bodies refused by their length before they are read, gzip inflated
within a cap only after the signature, and a client that hangs up mid-body leaves no traceback."""

from __future__ import annotations

import json
import socket
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from fixtures.server import ADMIN_KEY, ADMIN_SECRET, REGION
from fixtures.signed import exchange

ECS = "AmazonEC2ContainerServiceV20141113"
CLOUDWATCH = "GraniteServiceVersion20100801"
MIB = 1 << 20


def rss_mib(server: Any) -> float:
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def raw_request(server: Any, head: str, body: bytes = b"", read: bool = True) -> bytes:
    """Send a hand-written HTTP/1.1 request (head without the blank line) and return what comes back."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
        if not read:
            return b""
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def new_log_lines(server: Any, since: int) -> str:
    return server.log_path.read_bytes()[since:].decode("utf-8", "replace")


def test_a_body_over_the_operations_limit_is_refused_with_413(cronbridge_server: Any) -> None:
    body = json.dumps({"clusterName": "x" * (2 * MIB)}).encode()
    status, headers, answer = exchange(cronbridge_server, "ecs", body, headers={
        "X-Amz-Target": f"{ECS}.CreateCluster", "Content-Type": "application/x-amz-json-1.1"})
    assert status == 413
    assert json.loads(answer)["__type"] == "RequestEntityTooLargeException"
    assert headers["X-Amzn-ErrorType"] == "RequestEntityTooLargeException"


def test_a_big_declared_body_is_refused_before_a_byte_of_it_is_sent(cronbridge_server: Any) -> None:
    """An unsigned 50 MB body, and a signed-looking one: both answered at once, from the headers alone."""
    port = cronbridge_server.port
    before = rss_mib(cronbridge_server)
    unsigned = raw_request(cronbridge_server, f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           f"X-Amz-Target: {ECS}.ListClusters\r\nContent-Length: {50 * MIB}")
    assert unsigned.startswith(b"HTTP/1.1 400")
    assert b"MissingAuthenticationTokenException" in unsigned or b"Missing" in unsigned
    signed_looking = raw_request(
        cronbridge_server, f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Amz-Target: {ECS}.ListClusters\r\n"
        "X-Amz-Date: 20300101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20300101/us-east-1/"
        f"ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\nContent-Length: {50 * MIB}")
    assert signed_looking.startswith(b"HTTP/1.1 413")
    assert rss_mib(cronbridge_server) - before < 20


def test_a_chunked_body_is_cut_off_at_the_limit(cronbridge_server: Any) -> None:
    head = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{cronbridge_server.port}\r\nX-Amz-Target: {ECS}.ListClusters\r\n"
            "X-Amz-Date: 20300101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20300101/"
            "us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\nTransfer-Encoding: chunked")
    chunk = b"x" * 65536
    body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(24)) + b"0\r\n\r\n"
    assert raw_request(cronbridge_server, head, body).startswith(b"HTTP/1.1 413")


def _gzip_stream(size: int) -> bytes:
    """`size` zero bytes, gzipped a megabyte at a time (never held inflated here either)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MIB)
    return b"".join(packer.compress(zeros) for _ in range(size // MIB)) + packer.flush()


def test_a_gzip_bomb_is_inflated_only_up_to_the_cap(cronbridge_server: Any) -> None:
    bomb = _gzip_stream(512 * MIB)  # about 500 KB on the wire
    before = rss_mib(cronbridge_server)
    status, _, answer = exchange(cronbridge_server, "monitoring", bomb, headers={
        "X-Amz-Target": f"{CLOUDWATCH}.PutMetricData", "Content-Type": "application/x-amz-json-1.0",
        "Content-Encoding": "gzip"})
    assert status == 413, answer
    assert json.loads(answer)["__type"] == "RequestEntityTooLargeException"
    assert rss_mib(cronbridge_server) - before < 64


def test_gzip_is_not_inflated_for_an_unsigned_request(cronbridge_server: Any) -> None:
    bomb = _gzip_stream(64 * MIB)
    answer = raw_request(cronbridge_server, f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{cronbridge_server.port}\r\n"
                         f"X-Amz-Target: {CLOUDWATCH}.PutMetricData\r\nContent-Encoding: gzip\r\n"
                         f"Content-Length: {len(bomb)}", bomb)
    assert answer.startswith(b"HTTP/1.1 400")


@pytest.mark.parametrize("body", [b"not gzip at all", zlib.compress(b"{}"), _gzip_stream(MIB)[:-20]])
def test_a_body_that_is_not_whole_gzip_is_a_serialization_exception(cronbridge_server: Any, body: bytes) -> None:
    status, _, answer = exchange(cronbridge_server, "monitoring", body, headers={
        "X-Amz-Target": f"{CLOUDWATCH}.ListMetrics", "Content-Type": "application/x-amz-json-1.0",
        "Content-Encoding": "gzip"})
    assert (status, json.loads(answer)["__type"]) == (400, "SerializationException")


def test_boto3s_own_gzip_put_metric_data_is_accepted(cronbridge_server: Any) -> None:
    cloudwatch = cronbridge_server.client("cloudwatch")
    data = [{"MetricName": "m", "Value": float(i), "Dimensions": [{"Name": "d", "Value": f"v{i % 30}"}]}
            for i in range(1000)]  # well over botocore's 10 KB compression threshold
    cloudwatch.put_metric_data(Namespace="bench", MetricData=data)
    assert cloudwatch.list_metrics(Namespace="bench")["Metrics"]


def test_a_client_hanging_up_mid_body_leaves_no_traceback(cronbridge_server: Any) -> None:
    since = cronbridge_server.log_path.stat().st_size
    head = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{cronbridge_server.port}\r\nX-Amz-Target: {ECS}.ListClusters\r\n"
            "X-Amz-Date: 20300101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20300101/"
            "us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\nContent-Length: 100000")
    console = (f"POST /console/signin HTTP/1.1\r\nHost: 127.0.0.1:{cronbridge_server.port}\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000")
    explain = (f"POST /_cronbridge/explain HTTP/1.1\r\nHost: 127.0.0.1:{cronbridge_server.port}\r\n"
               "Content-Length: 100000")
    for _ in range(3):
        for start in (head, console, explain):
            raw_request(cronbridge_server, start, b"{" * 1000, read=False)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the server notices the hang-ups, then answers the next caller
        assert cronbridge_server.client("ecs").list_clusters()["clusterArns"] == []
        time.sleep(0.2)
    log = new_log_lines(cronbridge_server, since)
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log


@pytest.fixture
def presigning(cronbridge_server: Any) -> Iterator[Any]:
    session = boto3.Session(aws_access_key_id=ADMIN_KEY, aws_secret_access_key=ADMIN_SECRET, region_name=REGION)
    yield lambda service: session.client(service, endpoint_url=cronbridge_server.endpoint,
                                         config=Config(signature_version="v4"))


@pytest.mark.parametrize(("service", "operation", "expected"), [
    ("sts", "get_caller_identity", b"<GetCallerIdentityResult>"),
    ("iam", "list_users", b"<ListUsersResult>"),
])
def test_a_presigned_query_get_is_served(presigning: Any, service: str, operation: str, expected: bytes) -> None:
    import urllib.request

    url = presigning(service).generate_presigned_url(operation, ExpiresIn=300, HttpMethod="GET")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert expected in response.read()
