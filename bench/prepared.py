"""A cheap benchmark client: requests serialized and signed by botocore ahead of time, then sent over one kept-alive
http.client connection per thread and their JSON answers parsed. The client's CPU per call is one send and one
`json.loads` instead of boto3's ~2-3 ms, so on a 2-core machine the server, not the client, is what is measured.
The same prepared requests go to every server of a run."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Prepared:
    """One signed request, ready to send as many times as its signature is valid (5 minutes)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def _capture(request: Any, **_: Any) -> None:
    raise _Captured(request)


def prepare(client: Any, operation: str, **params: Any) -> Prepared:
    """What `client.<operation>(**params)` would send, signed, without sending it."""
    client.meta.events.register_first("before-send", _capture, unique_id="bench-prepare")
    try:
        getattr(client, operation)(**params)
    except _Captured as captured:
        request = captured.request
    else:
        raise RuntimeError(f"{operation} was sent instead of captured")
    finally:
        client.meta.events.unregister("before-send", unique_id="bench-prepare")
    parts = urlsplit(request.url)
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in request.headers.items()}
    return Prepared(request.method, path, headers, body)


class Connection:
    """One kept-alive connection to a server; `send` returns the parsed JSON answer or raises on an error status."""

    def __init__(self, endpoint: str) -> None:
        parts = urlsplit(endpoint)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def send(self, request: Prepared) -> Any:
        try:
            self.conn.request(request.method, request.path, body=request.body, headers=request.headers)
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # one retry on a fresh connection (the server closed an idle one)
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            self.conn.request(request.method, request.path, body=request.body, headers=request.headers)
            response = self.conn.getresponse()
            data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"HTTP {response.status}: {data[:300]!r}")
        return json.loads(data) if data else {}
