"""Plans: desired configuration against the state file, with Terraform's actions and diffs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cronbridge.terraform import plan
from cronbridge.terraform import state as state_file
from cronbridge.terraform.config import load_module
from cronbridge.terraform.planner import Change, Planner
from cronbridge.terraform.state import ResourceState, State
from cronbridge.terraform.values import UNKNOWN

FIXED = Path(__file__).resolve().parents[2] / "examples" / "seed-fixed"


def _pretend_applied(directory: Path, state_path: Path, variables: dict[str, Any]) -> None:
    """Record every planned instance as created, computed attributes filled as AWS would."""
    module = load_module(directory)
    from cronbridge.terraform.variables import gather, resolve

    values, _ = resolve(module, gather(module, variables, []))
    current = state_file.load(state_path)

    def create(change: Change, desired: dict[str, Any]) -> dict[str, Any]:
        if change.action.value == "no-op":
            return change.before or {}
        done = {k: (f"arn:aws:fake:{change.address}:{k}" if v is UNKNOWN else v) for k, v in desired.items()}
        current.resources[change.address] = ResourceState(change.type, done, change.dependencies)
        return done

    Planner(module, values, current, "us-east-1").walk(create)
    state_file.save(current, state_path)


def _write(tmp: Path, text: str) -> Path:
    (tmp / "main.tf").write_text(text)
    return tmp


def test_a_second_plan_after_apply_plans_nothing(tmp_path: Path) -> None:
    state_path = tmp_path / "state.json"
    _pretend_applied(FIXED, state_path, {})
    result = plan(FIXED, state_path=state_path)
    assert not result.has_changes
    assert "No changes." in result.render()


def test_count_and_for_each_make_one_instance_each(tmp_path: Path) -> None:
    directory = _write(
        tmp_path,
        """
variable "names" { default = ["a", "b"] }
locals { prefix = "jobs" }
resource "aws_sqs_queue" "counted" {
  count = length(var.names)
  name  = "${local.prefix}-${var.names[count.index]}"
}
resource "aws_sqs_queue" "each" {
  for_each = {x = 10, y = 20}
  name  = "each-${each.key}"
  delay_seconds = each.value
}
output "names" { value = aws_sqs_queue.counted[*].name }
""",
    )
    result = plan(directory)
    assert [c.address for c in result.changes] == [
        "aws_sqs_queue.counted[0]",
        "aws_sqs_queue.counted[1]",
        'aws_sqs_queue.each["x"]',
        'aws_sqs_queue.each["y"]',
    ]
    assert result.outputs == {"names": ["jobs-a", "jobs-b"]}


def test_changing_a_force_new_argument_plans_a_replacement(tmp_path: Path) -> None:
    directory = _write(tmp_path, 'resource "aws_sqs_queue" "q" {\n  name = "one"\n}\n')
    _pretend_applied(directory, directory / state_file.FILENAME, {})
    (directory / "main.tf").write_text('resource "aws_sqs_queue" "q" {\n  name = "two"\n  delay_seconds = 5\n}\n')
    result = plan(directory)
    text = result.render()
    assert [c.action.value for c in result.changes] == ["replace"]
    assert re.search(r'~ name +?= "one" -> "two" # forces replacement', text)
    assert "Plan: 1 to add, 0 to change, 1 to destroy." in text


def test_changing_an_updatable_argument_plans_an_update_in_place(tmp_path: Path) -> None:
    directory = _write(tmp_path, 'resource "aws_sqs_queue" "q" {\n  name = "one"\n}\n')
    _pretend_applied(directory, directory / state_file.FILENAME, {})
    (directory / "main.tf").write_text('resource "aws_sqs_queue" "q" {\n  name = "one"\n  delay_seconds = 5\n}\n')
    text = plan(directory).render()
    assert "will be updated in place" in text and re.search(r"~ delay_seconds +?= 0 -> 5", text)


def test_a_resource_removed_from_the_configuration_is_destroyed(tmp_path: Path) -> None:
    directory = _write(tmp_path, 'resource "aws_sqs_queue" "q" {\n  name = "one"\n}\n')
    _pretend_applied(directory, directory / state_file.FILENAME, {})
    (directory / "main.tf").write_text('resource "aws_ecs_cluster" "c" {\n  name = "c"\n}\n')
    result = plan(directory)
    assert {(c.address, c.action.value) for c in result.changes} == {
        ("aws_ecs_cluster.c", "create"),
        ("aws_sqs_queue.q", "delete"),
    }


def test_variables_come_from_tfvars_auto_tfvars_var_files_and_flags_in_that_order(
    tmp_path: Path,
) -> None:
    directory = _write(
        tmp_path,
        'variable "n" { type = string }\nresource "aws_ecs_cluster" "c" { name = var.n }\n',
    )
    (directory / "terraform.tfvars").write_text('n = "tfvars"\n')
    assert plan(directory).changes[0].after["name"] == "tfvars"  # type: ignore[index]
    (directory / "b.auto.tfvars").write_text('n = "auto"\n')
    assert plan(directory).changes[0].after["name"] == "auto"  # type: ignore[index]
    (directory / "extra.tfvars").write_text('n = "file"\n')
    assert plan(directory, var_files=[directory / "extra.tfvars"]).changes[0].after["name"] == "file"  # type: ignore[index]
    assert plan(directory, vars={"n": "flag"}).changes[0].after["name"] == "flag"  # type: ignore[index]
    (directory / "c.auto.tfvars.json").write_text('{"n": "auto-json"}')
    assert plan(directory).changes[0].after["name"] == "auto-json"  # type: ignore[index]


def test_a_failed_validation_and_a_missing_variable_are_errors_with_lines(tmp_path: Path) -> None:
    directory = _write(
        tmp_path,
        """variable "n" {
  type = number
  validation {
    condition     = var.n < 3
    error_message = "Too many."
  }
}
variable "m" {}
""",
    )
    result = plan(directory, vars={"n": "5"})
    got = [(str(d.pos), d.summary) for d in result.diagnostics]
    assert got == [
        ("main.tf:4", 'Invalid value for variable "n": Too many.'),
        ("main.tf:8", 'No value for required variable "m"'),
    ]


def test_unsupported_constructs_are_errors_naming_them(tmp_path: Path) -> None:
    directory = _write(
        tmp_path,
        """module "x" { source = "./x" }
resource "aws_lambda_function" "f" {}
resource "aws_sqs_queue" "q" {
  name = "q"
  colour = "blue"
  dynamic "tag" {
    for_each = []
    content {}
  }
}
""",
    )
    got = [(str(d.pos), d.summary) for d in plan(directory).diagnostics]
    assert got == [
        ("main.tf:1", '"module" blocks are not supported'),
        ("main.tf:2", 'Unsupported resource type "aws_lambda_function"'),
        ("main.tf:5", 'Unsupported argument "colour"'),
        ("main.tf:6", "Dynamic blocks are not supported"),
    ]


def test_a_dependency_cycle_is_reported(tmp_path: Path) -> None:
    directory = _write(
        tmp_path,
        'resource "aws_sqs_queue" "a" { name = aws_sqs_queue.b.name }\n'
        'resource "aws_sqs_queue" "b" { name = aws_sqs_queue.a.name }\n',
    )
    assert "Cycle: " in plan(directory).diagnostics[0].summary


def test_depends_on_orders_resources(tmp_path: Path) -> None:
    directory = _write(
        tmp_path,
        'resource "aws_sqs_queue" "a" {\n  name = "a"\n'
        "  depends_on = [aws_sqs_queue.z]\n}\n"
        'resource "aws_sqs_queue" "z" { name = "z" }\n',
    )
    assert [c.address for c in plan(directory).changes] == ["aws_sqs_queue.z", "aws_sqs_queue.a"]


def test_the_state_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    state = State({"aws_x.y": ResourceState("aws_x", {"a": [1]}, ["aws_z.w"])}, {"o": 1})
    state_file.save(state, path)
    again = state_file.load(path)
    assert again.resources == state.resources and again.outputs == {"o": 1} and again.serial == 1


def test_schedule_expressions_and_zones_aws_would_reject_are_errors_with_lines(tmp_path: Path) -> None:
    directory = _write(
        tmp_path,
        """resource "aws_cloudwatch_event_rule" "both_days" {
  schedule_expression = "cron(0 3 * * MON *)"
}
resource "aws_cloudwatch_event_rule" "at_on_a_rule" {
  schedule_expression = "at(2030-01-01T00:00:00)"
}
resource "aws_cloudwatch_event_rule" "neither" {
  description = "no schedule, no pattern"
}
resource "aws_scheduler_schedule" "s" {
  schedule_expression          = "at(2030-01-01T00:00:00)"
  schedule_expression_timezone = "Mars/Olympus"
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = "arn:aws:sqs:us-east-1:000000000000:q"
    role_arn = "arn:aws:iam::000000000000:role/r"
  }
}
""",
    )
    found = sorted(plan(directory).diagnostics, key=lambda d: d.pos.line)
    got = [(str(d.pos), d.summary.split(":")[0]) for d in found]
    assert got == [
        ("main.tf:2", "aws_cloudwatch_event_rule.both_days"),
        ("main.tf:5", "aws_cloudwatch_event_rule.at_on_a_rule"),
        ("main.tf:7", "aws_cloudwatch_event_rule.neither"),
        ("main.tf:12", "aws_scheduler_schedule.s"),
    ]
    text = plan(directory).render()
    assert 'schedule expression "cron(0 3 * * MON *)" is not valid' in text
    assert "PutRule would fail with ValidationException" in text
    assert '"Mars/Olympus" is not a time zone' in text


def test_depends_on_an_undeclared_resource_is_an_error(tmp_path: Path) -> None:
    directory = _write(
        tmp_path, 'resource "aws_sqs_queue" "a" {\n  name = "a"\n  depends_on = [aws_sqs_queue.nope]\n}\n'
    )
    assert [(str(d.pos), d.summary) for d in plan(directory).diagnostics] == [
        ("main.tf:3", 'Invalid depends_on reference: "aws_sqs_queue.nope" is not declared')
    ]
