"""The blog post's Terraform, exactly as published, gives exactly the diagnostics it deserves."""

from __future__ import annotations

from pathlib import Path

from cronbridge.terraform import plan
from cronbridge.terraform.diagnostics import Severity
from fixtures.terraform import PUBLISHED_SEED, VENDORED_SEED, seed_folder

SEED = seed_folder()
FIXED = Path(__file__).resolve().parents[2] / "examples" / "seed-fixed"

EXPECTED = [
    (Severity.ERROR, "events.tf:3", 'undeclared input variable "var.ecs_cluster_arn"'),
    (Severity.ERROR, "events.tf:14", 'attribute "subnets": set of string required'),
    (
        Severity.ERROR,
        "container_def/container_def.json:4",
        'image "<<ECR Repository>>" is not a valid',
    ),
    (
        Severity.ERROR,
        "container_def/container_def.json:10",
        'log group "/ecs/fargate-task-definition" is neither declared nor created by awslogs-create-group',
    ),
    (Severity.WARNING, "task_def.tf:9", "execution role is reused as the task role"),
    (
        Severity.ERROR,
        "events.tf:24",
        "override names \"hello\" but the task definition's containers are '<<Task Name>>'",
    ),
    (Severity.WARNING, "policies/events-policy.json:6", 'allows iam:PassRole on "*"'),
]


def test_the_published_seed_gives_exactly_the_expected_diagnostics() -> None:
    result = plan(SEED)
    found = [(d.severity, str(d.pos), d.summary) for d in result.diagnostics]
    assert len(found) == len(EXPECTED), "\n".join(map(str, found))
    for (severity, where, phrase), (got_severity, got_where, summary) in zip(EXPECTED, found, strict=True):
        assert (got_severity, got_where) == (severity, where)
        assert phrase in summary


def test_every_seed_diagnostic_says_how_to_fix_it() -> None:
    assert all(len(d.hint) > 20 for d in plan(SEED).diagnostics)


def test_the_plan_is_not_shown_while_there_are_errors() -> None:
    text = plan(SEED).render()
    assert "Error: Reference to undeclared input variable" in text
    assert "to add" not in text


def test_the_fixed_seed_plans_cleanly() -> None:
    result = plan(FIXED)
    assert result.diagnostics == []
    assert [c.action.value for c in result.changes] == ["create"] * 10
    assert "Plan: 10 to add, 0 to change, 0 to destroy." in result.render()


def test_the_copy_in_tests_is_the_published_seed_byte_for_byte() -> None:
    copy = {p.relative_to(VENDORED_SEED): p.read_bytes() for p in VENDORED_SEED.rglob("*") if p.is_file()}
    assert len(copy) == 8
    if PUBLISHED_SEED.is_dir():
        published = {p.relative_to(PUBLISHED_SEED): p.read_bytes() for p in PUBLISHED_SEED.rglob("*") if p.is_file()}
        assert copy == published
