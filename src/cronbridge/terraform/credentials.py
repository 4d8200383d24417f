"""The caller's credentials for plan/apply/destroy: boto3's chain, else cronbridge's admin key."""

from __future__ import annotations

import contextlib
from pathlib import Path

from cronbridge.config import default_data_dir
from cronbridge.identity.bootstrap import OPEN_MODE_KEY, read_credentials

Credentials = dict[str, str]

ANONYMOUS: Credentials = {"aws_access_key_id": OPEN_MODE_KEY[0], "aws_secret_access_key": OPEN_MODE_KEY[1]}
"""Used when nothing else is found: accepted by a server that does not check signatures."""


def resolve(env: dict[str, str], explicit: Credentials | None = None) -> Credentials | None:
    """Explicit credentials; else None when boto3's chain finds some (env, profile, ...); else
    CRONBRIDGE_ADMIN_ACCESS_KEY_ID / _SECRET_ACCESS_KEY; else `<data dir>/admin-credentials`
    of the local server; else ANONYMOUS."""
    if explicit:
        return explicit
    if _chain_has_credentials():
        return None
    key, secret = env.get("CRONBRIDGE_ADMIN_ACCESS_KEY_ID"), env.get("CRONBRIDGE_ADMIN_SECRET_ACCESS_KEY")
    if key and secret:
        return {"aws_access_key_id": key, "aws_secret_access_key": secret}
    data_dir = Path(env.get("CRONBRIDGE_DATA_DIR") or default_data_dir())
    return read_admin_file(data_dir / "admin-credentials") or ANONYMOUS


def _chain_has_credentials() -> bool:
    """boto3's chain without the EC2/ECS metadata services (slow to time out, and their AWS keys
    mean nothing to cronbridge)."""
    import botocore.session

    resolver = botocore.session.Session().get_component("credential_provider")
    for name in ("iam-role", "container-role"):
        with contextlib.suppress(KeyError, ValueError):
            resolver.remove(name)
    return resolver.load_credentials() is not None


def read_admin_file(path: Path) -> Credentials | None:
    """The key pair in a server's admin-credentials file (identity/bootstrap.py reads every usual shape)."""
    pair = read_credentials(path)
    return None if pair is None else {"aws_access_key_id": pair[0], "aws_secret_access_key": pair[1]}
