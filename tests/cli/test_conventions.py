"""The CLI's conventions (kubectl's and the AWS CLI's), checked by running the real command against a real server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
import yaml

from fixtures.cli import COMMAND, cli, env_for
from fixtures.seed import create_seed


@pytest.fixture
def ran_once(cronbridge_server: Any) -> Any:
    create_seed(cronbridge_server)
    assert cli(cronbridge_server, "run-now", "hello", "--wait").returncode == 0
    return cronbridge_server


def test_global_flags_work_before_and_after_the_command(ran_once: Any) -> None:
    before = cli(ran_once, "-o", "json", "--endpoint-url", ran_once.endpoint, "tasks")
    after = cli(ran_once, "tasks", "--endpoint-url", ran_once.endpoint, "-o", "json")
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert json.loads(before.stdout)["tasks"][0]["taskId"] == json.loads(after.stdout)["tasks"][0]["taskId"]


def test_json_and_yaml_are_the_api_shape(ran_once: Any) -> None:
    as_json = json.loads(cli(ran_once, "tasks", "-o", "json").stdout)
    as_yaml = yaml.safe_load(cli(ran_once, "tasks", "-o", "yaml").stdout)
    assert as_json == as_yaml
    assert set(as_json) == {"tasks"} and "limits" not in as_json["tasks"][0]  # no table-only fields


def test_table_fits_the_terminal_by_cutting_ids_and_wide_cuts_nothing(ran_once: Any) -> None:
    task_id = json.loads(cli(ran_once, "tasks", "-o", "json").stdout)["tasks"][0]["taskId"]
    narrow = cli(ran_once, "tasks", COLUMNS="80")
    assert narrow.returncode == 0
    lines = narrow.stdout.splitlines()
    assert lines[0].startswith("TASK") and len(lines) == 2  # one row per task: nothing wraps
    assert all(len(line) <= 80 for line in lines), lines
    assert task_id not in narrow.stdout and task_id[:6] in narrow.stdout and "…" in narrow.stdout
    wide = cli(ran_once, "tasks", "-o", "wide", COLUMNS="80")
    assert task_id in wide.stdout and "LAUNCHER" in wide.stdout and "process" in wide.stdout


def test_no_headers_prints_only_rows(ran_once: Any) -> None:
    shown = cli(ran_once, "rules", "--no-headers")
    assert shown.stdout.splitlines()[0].startswith("hello ") and "NAME" not in shown.stdout


def test_colour_only_on_a_terminal_and_never_with_no_color(ran_once: Any) -> None:
    piped = cli(ran_once, "rules")
    assert "\x1b[" not in piped.stdout
    script = f"{COMMAND} rules"
    on_tty = subprocess.run(["script", "-qec", script, "/dev/null"], env={**env_for(ran_once), "NO_COLOR": ""},
                            capture_output=True, text=True, timeout=60)
    assert "\x1b[32mENABLED" in on_tty.stdout  # green
    no_color = subprocess.run(["script", "-qec", script, "/dev/null"], env=env_for(ran_once),
                              capture_output=True, text=True, timeout=60)
    assert "ENABLED" in no_color.stdout and "\x1b[32m" not in no_color.stdout


def test_task_times_are_iso_8601_in_utc(ran_once: Any) -> None:
    task_id = json.loads(cli(ran_once, "tasks", "-o", "json").stdout)["tasks"][0]["taskId"]
    shown = cli(ran_once, "task", task_id)
    assert shown.returncode == 0
    created = next(line for line in shown.stdout.splitlines() if line.startswith("createdAt"))
    assert created.split()[-1].endswith("Z") and "T" in created.split()[-1] and "+00:00" not in shown.stdout
    described = json.loads(cli(ran_once, "task", task_id, "-o", "json").stdout)
    assert described["createdAt"].endswith("Z")


def test_bad_credentials_are_one_line_with_exit_code_4(cronbridge_server: Any) -> None:
    refused = cli(cronbridge_server, "invocations", "hello", AWS_ACCESS_KEY_ID="AKIANOBODY",
                  AWS_SECRET_ACCESS_KEY="wrong")
    assert refused.returncode == 4, refused.stderr
    assert refused.stderr.count("\n") == 1 and "does not accept these credentials" in refused.stderr


def test_profile_selects_keys_region_and_endpoint_as_the_aws_cli_does(cronbridge_server: Any, tmp_path: Path) -> None:
    key, secret = env_for(cronbridge_server)["AWS_ACCESS_KEY_ID"], env_for(cronbridge_server)["AWS_SECRET_ACCESS_KEY"]
    (tmp_path / "credentials").write_text(f"[local]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
    (tmp_path / "config").write_text(
        f"[profile local]\nregion = eu-west-1\nendpoint_url = {cronbridge_server.endpoint}\n"
    )
    env = {k: v for k, v in env_for(cronbridge_server).items()
           if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "CRONBRIDGE_ENDPOINT", "AWS_DEFAULT_REGION")}
    env.update(AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"), AWS_CONFIG_FILE=str(tmp_path / "config"),
               AWS_ACCESS_KEY_ID="AKIAWRONG", AWS_SECRET_ACCESS_KEY="wrong")  # --profile beats the environment
    made = subprocess.run([COMMAND, "--profile", "local", "explain", "--rule", "nope", "-o", "json"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert "cannot reach" not in made.stderr
    listed = subprocess.run([COMMAND, "rules", "--profile", "local", "-o", "json"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    missing = subprocess.run([COMMAND, "rules", "--profile", "nobody"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert missing.returncode == 1 and "no profile 'nobody'" in missing.stderr


def test_bash_completion_completes_commands_subcommands_and_choices() -> None:
    def complete(*words: str) -> list[str]:
        line = " ".join(words)
        script = (f'source <({COMMAND} completion bash); COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; '
                  '_cronbridge_complete; echo "${COMPREPLY[@]}"')
        done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, env=os.environ)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("cronbridge", "ru") == ["rules", "run-now"]
    assert complete("cronbridge", "logs", "") == ["tail"] + [w for w in complete("cronbridge", "logs", "") if
                                                             w.startswith("-")]
    assert "--follow" in complete("cronbridge", "logs", "tail", "--fo")
    assert complete("cronbridge", "tasks", "-o", "") == ["table", "wide", "json", "yaml"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_completion_name_every_command(shell: str) -> None:
    done = subprocess.run([COMMAND, "completion", shell], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for command in ("rules", "run-now", "tasks", "schedule", "completion", "server"):
        assert command in done.stdout


def test_schedule_check_describes_a_valid_expression_and_its_next_fires() -> None:
    done = subprocess.run([COMMAND, "schedule", "check", "cron(0 9 ? * MON-FRI *)", "--tz", "Europe/Paris"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    assert "at 09:00 on Monday through Friday" in done.stdout and "Europe/Paris" in done.stdout
    fires = json.loads(subprocess.run([COMMAND, "schedule", "check", "rate(1 minute)", "-o", "json"],
                                      capture_output=True, text=True, timeout=60).stdout)
    assert fires["description"] == "every minute" and len(fires["nextFireTimes"]) == 5


@pytest.mark.parametrize(
    ("expression", "message", "caret"),
    [
        ("cron(0 25 * * ? *)", "bad hour: '25' (hour takes 0-23)", "       ^^"),
        ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week must be '?'", "          ^^^^^"),
        ("cron(0 12 * *)", "cron needs 6 fields, got 4", "     ^^^^^^^^"),
        ("rate(1 minutes)", "the unit is singular exactly when the value is 1", "     ^^^^^^^^^"),
    ],
)
def test_schedule_check_says_what_is_wrong_and_where(expression: str, message: str, caret: str) -> None:
    done = subprocess.run([COMMAND, "schedule", "check", expression], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[0] == f"cronbridge: error: {expression}: {message}"
    assert lines[1] == f"  {expression}" and lines[2] == "  " + caret


def test_a_port_in_use_is_one_line_without_a_traceback(cronbridge_server: Any, tmp_path: Path) -> None:
    taken = subprocess.run([COMMAND, "server", "--port", str(cronbridge_server.port), "--data-dir", str(tmp_path)],
                           capture_output=True, text=True, timeout=60)
    assert taken.returncode == 1 and "Traceback" not in taken.stderr
    assert f"port {cronbridge_server.port} on 127.0.0.1 is already in use" in taken.stderr


def test_version_is_the_installed_distributions() -> None:
    from importlib.metadata import version

    done = subprocess.run([COMMAND, "--version"], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == f"cronbridge {version('cronbridge')}"


def test_a_task_is_found_by_the_start_of_its_id_as_a_cut_table_shows_it(ran_once: Any) -> None:
    task_id = json.loads(cli(ran_once, "tasks", "-o", "json").stdout)["tasks"][0]["taskId"]
    shown = cli(ran_once, "task", task_id[:7] + "…", "-o", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["taskArn"].endswith(task_id)


def test_the_server_logs_why_it_refused_an_expression(cronbridge_server: Any) -> None:
    events = cronbridge_server.client("events")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        events.put_rule(Name="typo", ScheduleExpression="cron(0 25 * * ? *)")
    assert refused.value.response["Error"]["Message"] == "Parameter ScheduleExpression is not valid."  # AWS's words
    logged = cronbridge_server.log_path.read_text()
    assert "PutRule typo refused: ScheduleExpression 'cron(0 25 * * ? *)': bad hour: '25' (hour takes 0-23)" in logged
