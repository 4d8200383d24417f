"""The administrator's credentials: the file scripts read, and the start-up note that shows them once."""

from __future__ import annotations

import configparser
import json
import os
from pathlib import Path

from cronbridge.identity.model import AccessKeyPair

PROFILE = "default"
OPEN_MODE_KEY = ("cronbridge", "cronbridge")
"""The placeholder clients sign with when they find no key: enough for a server in open mode."""


def write_credentials(path: Path, pair: AccessKeyPair) -> None:
    """An AWS shared-credentials file (profile `default`) readable by its owner only (mode 600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = f"[{PROFILE}]\naws_access_key_id = {pair.access_key_id}\naws_secret_access_key = {pair.secret_access_key}\n"
    try:
        if path.read_text(encoding="utf-8") == text:
            return  # the same key (another server process on this data folder wrote it)
    except (OSError, UnicodeDecodeError):
        pass
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(draft, 0o600)
    os.replace(draft, path)  # readers see the old file or the new one, never half of one


def read_credentials(path: Path) -> tuple[str, str] | None:
    """(access key id, secret) from the file `write_credentials` makes, or from the same pair written as
    `KEY=VALUE` lines (with or without `export`) or as JSON; None when the file holds no whole pair."""
    try:
        values = _pairs(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    key = _first(values, "aws_access_key_id", "cronbridge_admin_access_key_id", "accesskeyid")
    secret = _first(values, "aws_secret_access_key", "cronbridge_admin_secret_access_key", "secretaccesskey")
    return (key, secret) if key and secret else None


def _pairs(text: str) -> dict[str, str]:
    """Lower-cased names to values: a JSON object, else INI sections and bare `KEY=VALUE` lines."""
    try:
        loaded = json.loads(text)
    except ValueError:
        loaded = None
    if isinstance(loaded, dict):
        return {str(k).lower(): str(v) for k, v in loaded.items()}
    parser = configparser.ConfigParser()
    cleaned = "\n".join(line.strip().removeprefix("export ") for line in text.splitlines())
    try:
        parser.read_string("[bare lines]\n" + cleaned)  # lines before any section header
    except configparser.Error:
        return {}
    pairs: dict[str, str] = {}
    for section in parser.sections():
        for name, value in parser.items(section):
            pairs.setdefault(name.lower(), value.strip().strip("'\""))
    return pairs


def _first(values: dict[str, str], *names: str) -> str | None:
    return next((values[name] for name in names if values.get(name)), None)


def announcement(pair: AccessKeyPair, new: bool, path: Path, endpoint: str) -> list[str]:
    """What the server prints at start-up about the administrator's key (the secret only when it is new)."""
    if not new:
        return [
            f"  administrator key {pair.access_key_id}; credentials in {path} (mode 600)",
            f"    use: AWS_SHARED_CREDENTIALS_FILE={path} aws --endpoint-url {endpoint} sts get-caller-identity",
        ]
    return [
        "  administrator credentials, shown this once (also saved to " + f"{path}, mode 600):",
        f"    export AWS_ACCESS_KEY_ID={pair.access_key_id}",
        f"    export AWS_SECRET_ACCESS_KEY={pair.secret_access_key}",
        f"    export AWS_ENDPOINT_URL={endpoint}",
        "  or: aws configure  (paste the two keys), or AWS_SHARED_CREDENTIALS_FILE=" + str(path),
    ]
