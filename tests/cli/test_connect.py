"""Where the CLI finds its server and credentials, and how it reads durations."""

from __future__ import annotations

from pathlib import Path

import pytest

from cronbridge.cli_views.commands import parse_since
from cronbridge.cli_views.connect import CliError, connect, read_admin_credentials


@pytest.mark.parametrize(
    "text",
    [
        "AWS_ACCESS_KEY_ID=AKIAEXAMPLE\nAWS_SECRET_ACCESS_KEY=s3cret\n",
        "export AWS_ACCESS_KEY_ID='AKIAEXAMPLE'\nexport AWS_SECRET_ACCESS_KEY='s3cret'\n",
        "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cret\n",
        '{"AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": "s3cret"}',
    ],
)
def test_the_admin_credentials_file_is_read_in_any_usual_format(tmp_path: Path, text: str) -> None:
    path = tmp_path / "admin-credentials"
    path.write_text(text)
    assert read_admin_credentials(path) == ("AKIAEXAMPLE", "s3cret")


def test_without_credentials_anywhere_the_admin_file_of_the_data_dir_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    (tmp_path / "admin-credentials").write_text("AWS_ACCESS_KEY_ID=AKIAADMIN\nAWS_SECRET_ACCESS_KEY=adm\n")
    conn = connect(None, None, tmp_path, env={"CRONBRIDGE_ENDPOINT": "http://remote:4599"})
    assert (conn.endpoint, conn.credentials.access_key, conn.credentials.secret_key) == (
        "http://remote:4599",
        "AKIAADMIN",
        "adm",
    )


def test_the_endpoint_flag_beats_the_environment() -> None:
    env = {"CRONBRIDGE_ENDPOINT": "http://a:1", "AWS_ENDPOINT_URL": "http://b:2"}
    assert connect("http://c:3", "us-east-1", None, env=env).endpoint == "http://c:3"
    assert connect(None, "us-east-1", None, env=env).endpoint == "http://a:1"
    assert connect(None, "us-east-1", None, env={"AWS_ENDPOINT_URL": "http://b:2"}).endpoint == "http://b:2"


def test_since_reads_like_aws_logs_tail() -> None:
    assert [parse_since(t) for t in ("30s", "10m", "2h", "1d", "1w")] == [30, 600, 7200, 86400, 604800]
    with pytest.raises(CliError):
        parse_since("10")
