"""`cronbridge apply` signs with the local server's administrator key (DATA_DIR/admin-credentials) by itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

FIXED = Path(__file__).resolve().parents[2] / "examples" / "seed-fixed"


def cronbridge(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cronbridge", *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


def test_apply_and_destroy_use_the_servers_credentials_file(cronbridge_server: Any, tmp_path: Path) -> None:
    folder = tmp_path / "seed"
    shutil.copytree(FIXED, folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["CRONBRIDGE_DATA_DIR"] = str(cronbridge_server.data_dir)
    applied = cronbridge("apply", str(folder), "-auto-approve", "--endpoint", cronbridge_server.endpoint, env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    iam = cronbridge_server.client("iam")
    attached = iam.list_attached_role_policies(RoleName="EcsEventsRole-sample")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["EcsRunTaskEventsPolicy"]
    destroyed = cronbridge("destroy", str(folder), "-auto-approve", "--endpoint", cronbridge_server.endpoint, env=env)
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert iam.list_roles()["Roles"] == []


def test_apply_with_a_wrong_key_in_the_environment_is_refused(cronbridge_server: Any, tmp_path: Path) -> None:
    folder = tmp_path / "seed"
    shutil.copytree(FIXED, folder)
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "AKIANOBODY",
        "AWS_SECRET_ACCESS_KEY": "x",
        "CRONBRIDGE_DATA_DIR": str(cronbridge_server.data_dir),
    }
    applied = cronbridge("apply", str(folder), "-auto-approve", "--endpoint", cronbridge_server.endpoint, env=env)
    assert applied.returncode != 0
    out = applied.stdout + applied.stderr
    assert "UnrecognizedClientException: The security token included in the request is invalid" in out
    assert "Traceback" not in out
