"""How the CLI reaches a server: endpoint, region and credentials resolved once; boto3 clients and signed HTTP."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ProfileNotFound

from cronbridge.config import DEFAULT_PORT, default_data_dir
from cronbridge.identity.bootstrap import OPEN_MODE_KEY
from cronbridge.identity.bootstrap import read_credentials as read_admin_credentials

DEFAULT_ENDPOINT = f"http://127.0.0.1:{DEFAULT_PORT}"


class CliError(Exception):
    """A failure the CLI reports in one line (exit code 1), no traceback."""


class Unreachable(CliError):
    """No server answered at the endpoint (exit code 3)."""


@dataclass(frozen=True)
class Connection:
    """One server: its URL, the region to name, and the credentials to sign with."""

    endpoint: str
    region: str
    credentials: Credentials

    def client(self, service: str) -> Any:
        c = self.credentials
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=c.access_key,
            aws_secret_access_key=c.secret_key,
            aws_session_token=c.token,
            config=Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=60),
        )

    def get(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return self._call("GET", path + (f"?{query}" if query else ""), None)

    def post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        return self._call("POST", path, json.dumps(payload or {}).encode())

    def _call(self, method: str, path: str, body: bytes | None) -> Any:
        url = self.endpoint.rstrip("/") + path
        signed = AWSRequest(method=method, url=url, data=body or b"", headers={"Content-Type": "application/json"})
        SigV4Auth(self.credentials, "cronbridge", self.region).add_auth(signed)
        request = urllib.request.Request(url, data=body, method=method, headers=dict(signed.headers.items()))
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            raise CliError(_error_message(err)) from None
        except (urllib.error.URLError, OSError) as err:
            raise Unreachable(
                f"cannot reach cronbridge at {self.endpoint} ({_reason(err)}); is the server running?"
            ) from None


def _reason(err: Exception) -> str:
    return str(getattr(err, "reason", err))


def _error_message(err: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(err.read())
        code = str(body.get("__type", err.code))
        return f"{code}: {body.get('message') or body.get('Message')}" + credentials_hint(code)
    except ValueError:
        return f"HTTP {err.code} {err.reason}"


REFUSED_CREDENTIALS = (
    "UnrecognizedClientException", "InvalidSignatureException", "InvalidClientTokenId", "SignatureDoesNotMatch",
    "IncompleteSignature", "IncompleteSignatureException", "MissingAuthenticationToken", "ExpiredToken",
    "ExpiredTokenException",
)


def credentials_hint(code: str) -> str:
    """What to do when the server refuses the key (said once, on the same line)."""
    if code not in REFUSED_CREDENTIALS:
        return ""
    return (" (the server does not accept these credentials: use its admin key from <data-dir>/admin-credentials, "
            "--profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)")


def connect(
    endpoint: str | None, region: str | None, data_dir: Path | None, env: dict[str, str] | None = None,
    profile: str | None = None,
) -> Connection:
    """As the AWS CLI resolves them: --endpoint-url, CRONBRIDGE_ENDPOINT, AWS_ENDPOINT_URL, the profile's
    endpoint_url, else local; --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's; boto3's credential chain
    (--profile beats the environment's keys), else the server's `<data-dir>/admin-credentials`, else a placeholder
    key (enough for a server in open mode)."""
    env = dict(os.environ) if env is None else env
    try:
        session = boto3.Session(profile_name=profile)
        scoped = session._session.get_scoped_config()
    except ProfileNotFound:
        raise CliError(f"no profile {profile!r} in ~/.aws/config or ~/.aws/credentials") from None
    url = (endpoint or env.get("CRONBRIDGE_ENDPOINT") or env.get("AWS_ENDPOINT_URL")
           or scoped.get("endpoint_url") or DEFAULT_ENDPOINT)
    chosen_region = (region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or session.region_name
                     or env.get("CRONBRIDGE_REGION") or "us-east-1")
    found = session.get_credentials()
    if found is not None:
        frozen = found.get_frozen_credentials()
        return Connection(url, chosen_region, Credentials(frozen.access_key, frozen.secret_key, frozen.token))
    folder = data_dir or Path(env.get("CRONBRIDGE_DATA_DIR") or default_data_dir())
    key, secret = read_admin_credentials(folder / "admin-credentials") or OPEN_MODE_KEY
    return Connection(url, chosen_region, Credentials(key, secret))
