"""The caller's credentials for plan/apply/destroy: boto3's chain, else cronbridge's admin key."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from cronbridge.config import default_data_dir

Credentials = dict[str, str]

ANONYMOUS: Credentials = {"aws_access_key_id": "cronbridge", "aws_secret_access_key": "cronbridge"}
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
    """The key pair in a server's admin-credentials file (the server writes a shared-credentials
    file, see identity/bootstrap.py; JSON and KEY=VALUE lines are read too)."""
    from cronbridge.identity.bootstrap import read_credentials

    try:
        pair = read_credentials(path)
    except Exception:  # noqa: BLE001 - not an ini file: try the other shapes
        pair = None
    if pair is not None and pair[1]:
        return {"aws_access_key_id": pair[0], "aws_secret_access_key": pair[1]}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    pairs = _json_pairs(text) or _line_pairs(text)
    key = _pick(pairs, "aws_access_key_id", "cronbridge_admin_access_key_id", "access_key_id")
    secret = _pick(pairs, "aws_secret_access_key", "cronbridge_admin_secret_access_key", "secret_access_key")
    if not key or not secret:
        return None
    return {"aws_access_key_id": key, "aws_secret_access_key": secret}


def _json_pairs(text: str) -> dict[str, str]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return {}
    if not isinstance(doc, dict):
        return {}
    flat: dict[str, str] = {}
    for k, v in doc.items():
        if isinstance(v, dict):
            flat.update({str(a).lower(): str(b) for a, b in v.items()})
        else:
            flat[str(k).lower()] = str(v)
    return flat


def _line_pairs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip().removeprefix("export ")
        name, sep, value = line.partition("=")
        if sep:
            out[name.strip().lower()] = value.strip().strip("'\"")
    return out


def _pick(pairs: dict[str, str], *names: str) -> str | None:
    for name in names:
        for key in (name, name.replace("_", "")):
            if pairs.get(key):
                return pairs[key]
    return None
