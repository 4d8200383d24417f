"""Which key plan/apply/destroy sign with: boto3's chain, else the server's administrator key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cronbridge.terraform import credentials


@pytest.fixture
def no_chain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An environment where boto3's chain finds no credentials."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


def test_boto3s_chain_wins_when_it_finds_a_key(monkeypatch: pytest.MonkeyPatch, no_chain: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    assert (
        credentials.resolve({"CRONBRIDGE_ADMIN_ACCESS_KEY_ID": "x", "CRONBRIDGE_ADMIN_SECRET_ACCESS_KEY": "y"}) is None
    )


def test_the_admin_key_from_the_environment(no_chain: Path) -> None:
    env = {"CRONBRIDGE_ADMIN_ACCESS_KEY_ID": "AKIAADMIN", "CRONBRIDGE_ADMIN_SECRET_ACCESS_KEY": "secret"}
    assert credentials.resolve(env) == {"aws_access_key_id": "AKIAADMIN", "aws_secret_access_key": "secret"}


def test_the_servers_admin_credentials_file_in_shared_credentials_format(no_chain: Path) -> None:
    (no_chain / "admin-credentials").write_text(
        "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s3cret\n"
    )
    found = credentials.resolve({"CRONBRIDGE_DATA_DIR": str(no_chain)})
    assert found == {"aws_access_key_id": "AKIAFILE", "aws_secret_access_key": "s3cret"}


def test_nothing_found_gives_the_placeholder_an_open_server_accepts(no_chain: Path) -> None:
    assert credentials.resolve({"CRONBRIDGE_DATA_DIR": str(no_chain)}) == credentials.ANONYMOUS


def test_a_json_admin_file_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "admin.json"
    path.write_text('{"AccessKeyId": "AKIAJSON", "SecretAccessKey": "j"}')
    assert credentials.read_admin_file(path) == {"aws_access_key_id": "AKIAJSON", "aws_secret_access_key": "j"}
