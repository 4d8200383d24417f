"""`cronbridge plan|apply|destroy` as a user runs them: a real child process against a real server."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from fixtures.terraform import cli, seed_folder, write

MAIN = """
variable "name" {
  type = string
}
variable "delay" {
  type    = number
  default = 0
}
variable "tags" {
  type    = map(string)
  default = {}
}
resource "aws_sqs_queue" "q" {
  name          = var.name
  delay_seconds = var.delay
  tags          = var.tags
}
output "url" {
  value = aws_sqs_queue.q.url
}
"""


def _queue(server: Any, name: str) -> tuple[str, dict[str, str]]:
    sqs = server.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    delay = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"]["DelaySeconds"]
    return delay, dict(sqs.list_queue_tags(QueueUrl=url).get("Tags", {}))


def test_variables_from_every_source_reach_the_server(tmp_path: Path, cronbridge_server: Any) -> None:
    folder = write(tmp_path / "tf", {"main.tf": MAIN, "terraform.tfvars": 'name = "from-tfvars"\ndelay = 1\n'})
    (folder / "b.auto.tfvars").write_text("delay = 2\n")
    (tmp_path / "extra.tfvars").write_text('tags = { team = "file" }\n')

    done = cli(
        cronbridge_server,
        "apply",
        str(folder),
        "-auto-approve",
        "-var-file",
        str(tmp_path / "extra.tfvars"),
        "-var",
        "delay=3",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Apply complete! Resources: 1 added, 0 changed, 0 destroyed." in done.stdout
    assert 'url = "http' in done.stdout
    assert _queue(cronbridge_server, "from-tfvars") == ("3", {"team": "file"})

    again = cli(cronbridge_server, "plan", str(folder), "-var-file", str(tmp_path / "extra.tfvars"), "-var", "delay=3")
    assert again.returncode == 0 and "No changes." in again.stdout

    auto_only = cli(cronbridge_server, "plan", str(folder), "-var-file", str(tmp_path / "extra.tfvars"))
    assert "~ delay_seconds" in auto_only.stdout and "3 -> 2" in auto_only.stdout


def test_apply_asks_before_changing_anything_and_destroy_too(tmp_path: Path, cronbridge_server: Any) -> None:
    folder = write(tmp_path, {"main.tf": MAIN})
    refused = cli(cronbridge_server, "apply", str(folder), "-var", "name=asked", stdin="no\n")
    assert "Do you want to perform these actions?" in refused.stdout and "Apply cancelled." in refused.stdout
    assert cronbridge_server.client("sqs").list_queues().get("QueueUrls", []) == []

    accepted = cli(cronbridge_server, "apply", str(folder), "-var", "name=asked", stdin="yes\n")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert _queue(cronbridge_server, "asked") == ("0", {})

    gone = cli(cronbridge_server, "destroy", str(folder), "-var", "name=asked", stdin="yes\n")
    assert gone.returncode == 0 and "Destroy complete! Resources: 1 destroyed." in gone.stdout
    assert gone.stdout.count("Destroy complete!") == 1
    assert cronbridge_server.client("sqs").list_queues().get("QueueUrls", []) == []


def test_bad_hcl_is_a_parse_error_with_file_and_line(tmp_path: Path, cronbridge_server: Any) -> None:
    folder = write(tmp_path, {"main.tf": 'resource "aws_sqs_queue" "q" {\n  name = "x"\n  delay_seconds = [1, 2\n}\n'})
    done = cli(cronbridge_server, "apply", str(folder), "-auto-approve")
    assert done.returncode == 1
    assert "Error: Invalid HCL syntax" in done.stdout and "on main.tf:4" in done.stdout
    assert not (folder / "cronbridge.tfstate.json").exists()


def test_a_missing_variable_stops_apply_before_anything_is_created(tmp_path: Path, cronbridge_server: Any) -> None:
    done = cli(cronbridge_server, "apply", str(write(tmp_path, {"main.tf": MAIN})), "-auto-approve")
    assert done.returncode == 1
    assert 'Error: No value for required variable "name"' in done.stdout and "on main.tf:2" in done.stdout
    assert "Creating" not in done.stdout


def test_without_aws_credentials_the_cli_signs_with_the_servers_admin_key(
    tmp_path: Path, cronbridge_server: Any
) -> None:
    folder = write(tmp_path / "tf", {"main.tf": MAIN})
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "CRONBRIDGE_ENDPOINT": cronbridge_server.endpoint,
        "CRONBRIDGE_DATA_DIR": str(cronbridge_server.data_dir),
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_PROFILE": "",
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"),
        "AWS_CONFIG_FILE": str(home / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    done = cli(cronbridge_server, "apply", str(folder), "-auto-approve", "-var", "name=by-admin", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _queue(cronbridge_server, "by-admin") == ("0", {})


def test_an_unknown_key_is_refused_and_the_error_names_the_resource(tmp_path: Path, cronbridge_server: Any) -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKIAUNKNOWN0000000", "AWS_SECRET_ACCESS_KEY": "nope"}
    done = cli(
        cronbridge_server,
        "apply",
        str(write(tmp_path, {"main.tf": MAIN})),
        "-auto-approve",
        "-var",
        "name=refused",
        env=env,
    )
    assert done.returncode == 1
    assert "Error: creating aws_sqs_queue.q: " in done.stdout
    assert "security token included in the request is invalid" in done.stdout.lower() or "Unrecognized" in done.stdout
    assert cronbridge_server.client("sqs").list_queues().get("QueueUrls", []) == []


def test_plan_says_when_it_could_not_ask_the_server(tmp_path: Path, cronbridge_server: Any) -> None:
    seed = seed_folder()
    folder = tmp_path / "seed"
    shutil.copytree(seed, folder)
    done = cli(cronbridge_server, "plan", str(folder), "--endpoint", "http://127.0.0.1:9")
    assert done.returncode == 1
    assert "Warning: Could not list the server's log groups (EndpointConnectionError" in done.stdout
    assert "on http://127.0.0.1:9\n" in done.stdout
    offline = cli(cronbridge_server, "plan", str(folder), "--offline")
    assert "Could not list" not in offline.stdout and offline.stdout.count("Error: ") == 5
