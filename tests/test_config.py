"""Settings from cronbridge.toml, the environment and flags, in that order of strength; bad values said in one line."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from cronbridge.config import ConfigError, Settings, environment_name, from_environment, read_config

CONFIG = """
[server]
host = "0.0.0.0"
port = 4600
data-dir = "/srv/cronbridge"
launcher = "process"
auth = "open"
signature_skew = 60
allow_reset = true
access_log = "/var/log/cronbridge/access.log"
log_level = "warning"
"""


def test_a_config_file_sets_every_server_setting(tmp_path: Path) -> None:
    path = tmp_path / "cronbridge.toml"
    path.write_text(CONFIG)
    settings = from_environment(env={}, config=path)
    assert (settings.host, settings.port, settings.data_dir, settings.launcher, settings.auth) == (
        "0.0.0.0", 4600, Path("/srv/cronbridge"), "process", "open")
    assert (settings.signature_skew, settings.allow_reset, settings.log_level) == (60.0, True, "warning")
    assert settings.access_log == "/var/log/cronbridge/access.log"


def test_every_setting_has_a_file_key_and_an_environment_variable(tmp_path: Path) -> None:
    for field in fields(Settings):
        assert environment_name(field.name).isupper()
        path = tmp_path / f"{field.name}.toml"
        value = {"port": "4601", "signature_skew": "1.5", "allow_reset": "true", "manual_clock": "true",
                 "launcher": '"process"', "auth": '"open"', "log_level": '"debug"',
                 "task_retention": '"12h"', "workers": "2", "http_threads": "8", "watchdog_seconds": "5",
                 "test_hooks": "false"}.get(field.name, '"x"')
        path.write_text(f"{field.name} = {value}\n")
        assert field.name in read_config(path)


def test_the_environment_beats_the_file_and_flags_beat_both(tmp_path: Path) -> None:
    path = tmp_path / "cronbridge.toml"
    path.write_text("port = 4600\nlauncher = 'process'\n")
    env = {"CRONBRIDGE_PORT": "4601", "CRONBRIDGE_CONFIG": str(path)}
    assert from_environment(env=env).port == 4601
    assert from_environment(env=env).launcher == "process"
    assert from_environment(env=env, port=4602).port == 4602


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prot = 1\n", "unknown setting 'prot'"),
        ("port = 'many'\n", "port must be a whole number, not 'many'"),
        ("allow_reset = 'perhaps'\n", "allow_reset must be true or false"),
        ("launcher = 'kubernetes'\n", "launcher must be one of auto, docker, process, swarm, noop"),
        ("port = \n", "not valid TOML"),
    ],
)
def test_bad_settings_are_refused_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "cronbridge.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        from_environment(env={}, config=path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_the_server_command_says_what_is_wrong_with_its_config(tmp_path: Path) -> None:
    path = tmp_path / "cronbridge.toml"
    path.write_text("port = 'many'\n")
    done = subprocess.run([sys.executable, "-m", "cronbridge", "server", "--config", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == f"cronbridge: error: {path}: port must be a whole number, not 'many'"
    missing = subprocess.run([sys.executable, "-m", "cronbridge", "server", "--config", str(tmp_path / "none")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no config file at" in missing.stderr


def test_the_example_in_docs_deploy_is_a_valid_config(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "deploy.md").read_text()
    block = text.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "cronbridge.toml"
    path.write_text(block)
    settings = from_environment(env={}, config=path)
    assert (settings.data_dir, settings.launcher, settings.access_log) == (
        Path("/var/lib/cronbridge"), "docker", "/var/log/cronbridge/access.log")


def test_the_task_retention_reads_durations_and_keeps_a_week_by_default(tmp_path: Path) -> None:
    assert from_environment(env={}).task_retention == 7 * 86400
    assert from_environment(env={"CRONBRIDGE_TASK_RETENTION": "12h"}).task_retention == 43200
    path = tmp_path / "cronbridge.toml"
    path.write_text("task_retention = 90\n")
    assert from_environment(env={}, config=path).task_retention == 90
    path.write_text("task_retention = 'a while'\n")
    with pytest.raises(ConfigError, match="task_retention must be a duration such as 90s, 30m, 12h or 7d"):
        from_environment(env={}, config=path)
