"""The administrator's credentials: the file scripts read, and the start-up note that shows them once."""

from __future__ import annotations

import configparser
import os
from pathlib import Path

from cronbridge.identity.model import AccessKeyPair

PROFILE = "default"


def write_credentials(path: Path, pair: AccessKeyPair) -> None:
    """An AWS shared-credentials file (profile `default`) readable by its owner only (mode 600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (f"[{PROFILE}]\naws_access_key_id = {pair.access_key_id}\n"
            f"aws_secret_access_key = {pair.secret_access_key}\n")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def read_credentials(path: Path) -> tuple[str, str] | None:
    """(access key id, secret) from a file written by `write_credentials`, or None when there is none."""
    parser = configparser.ConfigParser()
    if not parser.read(path):
        return None
    if not parser.has_option(PROFILE, "aws_access_key_id"):
        return None
    section = parser[PROFILE]
    return section["aws_access_key_id"], section.get("aws_secret_access_key", "")


def announcement(pair: AccessKeyPair, new: bool, path: Path, endpoint: str) -> list[str]:
    """What the server prints at start-up about the administrator's key (the secret only when it is new)."""
    if not new:
        return [f"  administrator key {pair.access_key_id}; credentials in {path} (mode 600)",
                f"    use: AWS_SHARED_CREDENTIALS_FILE={path} aws --endpoint-url {endpoint} sts get-caller-identity"]
    return [
        "  administrator credentials, shown this once (also saved to " + f"{path}, mode 600):",
        f"    export AWS_ACCESS_KEY_ID={pair.access_key_id}",
        f"    export AWS_SECRET_ACCESS_KEY={pair.secret_access_key}",
        f"    export AWS_ENDPOINT_URL={endpoint}",
        "  or: aws configure  (paste the two keys), or AWS_SHARED_CREDENTIALS_FILE=" + str(path),
    ]
