"""The real Terraform CLI with the real hashicorp/aws provider against a server: every resource type cronbridge
claims (docs/terraform.md) is created, planned again with no change, updated in place, changed out of band (the
drift shown by a refresh), imported, replaced and destroyed; the seed's own files (fixed) in ap-northeast-1 and
examples/seed-fixed go through the whole cycle with a scheduled run whose log line arrives.

The provider waits by itself, whatever the server answers: 10 s before it first looks at a new cluster, and six
equal reads 5 s apart (25 s) after each SQS queue change. The queue folders run in the background, beside the other
tests of the module, to keep it short; each resource is asserted to take no longer than those waits (no retry
back-off caused by an answer of ours)."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fixtures.ecs import active_clusters, wait_stopped
from fixtures.server import ServerProcess
from fixtures.terraform import seed_folder
from fixtures.terraform_cli import Run, TerraformCli, Workdir, workdir

HERE = Path(__file__).parent / "terraform_provider"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "seed-fixed"
ACCOUNT = "000000000000"
T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z, on the server's manual clock
CLUSTER_WAIT = 12  # the provider's own 10 s delay before it first describes a new or updated cluster, and some
QUEUE_WAIT = 32  # the provider's six equal reads 5 s apart after a queue change (25 s), and some
QUICK = 5  # anything else: no wait of the provider's, none of ours


def _trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def inventory(server: Any, region: str = "us-east-1") -> dict[str, list[str]]:
    """What exists on the server, by kind, as names a user would list."""
    ecs, events, logs, sqs, scheduler = (
        server.client(s, region=region) for s in ("ecs", "events", "logs", "sqs", "scheduler")
    )
    iam = server.client("iam")
    return {
        "clusters": sorted(active_clusters(ecs)),
        "task_definitions": sorted(ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]),
        "rules": sorted(r["Name"] for r in events.list_rules()["Rules"]),
        "groups": sorted(g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]),
        "queues": sorted(sqs.list_queues().get("QueueUrls", [])),
        "schedules": sorted(s["Arn"] for s in scheduler.list_schedules()["Schedules"]),
        "schedule_groups": sorted(g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]),
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
        "policies": sorted(p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]),
    }


def assert_no_back_off(run: Run, slow: dict[str, int]) -> None:
    """Every resource took no longer than the provider's own waits (`slow`: address prefix -> seconds)."""
    for address, seconds in run.creation_times().items():
        allowed = next((limit for prefix, limit in slow.items() if address.startswith(prefix)), QUICK)
        assert seconds <= allowed, f"{address} took {seconds} s (at most {allowed} s expected):\n{run.output}"


def summary(run: Run) -> str:
    """The line Terraform ends with: what was applied or destroyed, else what the plan would do."""
    found = re.search(r"(Apply complete! Resources: .*|Destroy complete! Resources: .*)", run.output) or re.search(
        r"(Plan: .*)", run.output
    )
    assert found, run.output
    return found.group(1)


# every resource type but SQS ---------------------------------------------------------------------------------------

IMPORTS = {  # address -> the id `terraform import` takes (as the provider's documentation gives it)
    "aws_cloudwatch_log_group.task": "/ecs/every-type",
    "aws_iam_role.execution": "every-type-execution",
    "aws_iam_role.runner": "every-type-runner",
    "aws_iam_policy.run": f"arn:aws:iam::{ACCOUNT}:policy/every-type-run",
    "aws_iam_role_policy_attachment.run": f"every-type-runner/arn:aws:iam::{ACCOUNT}:policy/every-type-run",
    "aws_iam_role_policy.extra": "every-type-runner:extra",
    "aws_ecs_task_definition.batch": f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/every-type:1",
    "aws_cloudwatch_event_rule.batch": "every-type",
    "aws_cloudwatch_event_target.batch": "every-type/batch",
    "aws_scheduler_schedule_group.team": "every-type",
    "aws_scheduler_schedule.nightly": "every-type/nightly",
}


def change_every_type_out_of_band(server: Any) -> dict[str, str]:
    """Change each resource by hand (boto3); returns address -> what the refresh must show."""
    ecs, events, iam, logs, scheduler = (server.client(s) for s in ("ecs", "events", "iam", "logs", "scheduler"))
    logs.put_retention_policy(logGroupName="/ecs/every-type", retentionInDays=30)
    by_hand = [{"key": "by", "value": "hand"}]
    ecs.tag_resource(resourceArn=f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/batch", tags=by_hand)
    ecs.tag_resource(resourceArn=IMPORTS["aws_ecs_task_definition.batch"], tags=by_hand)
    iam.update_role(RoleName="every-type-execution", Description="changed by hand")
    statement = {"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}
    document = {"Version": "2012-10-17", "Statement": [statement]}
    iam.put_role_policy(RoleName="every-type-runner", PolicyName="extra", PolicyDocument=json.dumps(document))
    iam.create_policy_version(PolicyArn=IMPORTS["aws_iam_policy.run"], PolicyDocument=json.dumps(document),
                              SetAsDefault=True)
    events.put_rule(Name="every-type", ScheduleExpression="cron(0/30 * * * ? *)", State="DISABLED",
                    Description="changed by hand")
    [target] = events.list_targets_by_rule(Rule="every-type")["Targets"]
    events.put_targets(Rule="every-type", Targets=[{**target, "Input": '{"containerOverrides": []}'}])
    scheduler.tag_resource(ResourceArn=f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule-group/every-type",
                           Tags=[{"Key": "by", "Value": "hand"}])
    schedule = scheduler.get_schedule(Name="nightly", GroupName="every-type")
    for key in ("Arn", "CreationDate", "LastModificationDate", "ResponseMetadata"):
        schedule.pop(key, None)
    scheduler.update_schedule(**{**schedule, "Description": "changed by hand"})
    return {
        "aws_cloudwatch_log_group.task": "retention_in_days = 14 -> 30",
        "aws_ecs_cluster.batch": '+ "by" = "hand"',
        "aws_ecs_task_definition.batch": '+ "by" = "hand"',
        "aws_iam_role.execution": 'description           = "runs the batch (updated)" -> "changed by hand"',
        "aws_iam_role_policy.extra": "sqs:ListQueues",
        "aws_iam_role.runner": "sqs:ListQueues",  # its inline policies, as aws_iam_role reads them
        "aws_iam_policy.run": "sqs:ListQueues",
        "aws_cloudwatch_event_rule.batch": 'description         = "every half hour (updated)" -> "changed by hand"',
        "aws_cloudwatch_event_target.batch": "containerOverrides",
        "aws_scheduler_schedule_group.team": '+ "by" = "hand"',
        "aws_scheduler_schedule.nightly": '"nightly (updated)" -> "changed by hand"',
    }


def drift_shown(run: Run, expected: dict[str, str]) -> None:
    assert run.returncode == 2 and "Objects have changed outside of Terraform" in run.output, run.output
    for address, shows in expected.items():
        block = run.output.split(f"# {address} has changed", 1)
        assert len(block) == 2, f"{address}: no drift shown:\n{run.output}"
        pattern = r"\s+".join(re.escape(word) for word in shows.split())  # Terraform aligns the "=" of a block
        shown = block[1].split("\n  # ", 1)[0]
        assert re.search(pattern, shown), f"{address}: {shows!r} not shown:\n{shown}"


def every_type_lane(cli: TerraformCli, server: Any, work: Path) -> None:
    dead_letters = server.client("sqs").create_queue(QueueName="every-type-dlq")["QueueUrl"]
    variables = {"dead_letters_arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:every-type-dlq"}
    made = workdir(cli, HERE / "every_type", work / "every_type", server)
    created = made.apply(step="create", **variables)
    assert summary(created) == "Apply complete! Resources: 12 added, 0 changed, 0 destroyed.", created.output
    assert_no_back_off(created, {"aws_ecs_cluster.": CLUSTER_WAIT})
    assert made.plan(step="create", **variables).returncode == 0

    updated = made.apply(step="update", **variables)
    assert summary(updated) == "Apply complete! Resources: 0 added, 10 changed, 0 destroyed.", updated.output
    assert_no_back_off(updated, {"aws_ecs_cluster.": CLUSTER_WAIT})

    forget_and_import(made, "aws_ecs_cluster.batch", "batch", IMPORTS, step="update", **variables)

    changed = change_every_type_out_of_band(server)
    drift_shown(made.plan("-refresh-only", step="update", **variables), changed)

    replaced = made.apply(step="replace", **variables)
    assert summary(replaced) == "Apply complete! Resources: 12 added, 0 changed, 12 destroyed.", replaced.output
    assert_no_back_off(replaced, {"aws_ecs_cluster.": CLUSTER_WAIT})
    assert f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/batch-2" in inventory(server)["clusters"]

    destroyed = made.destroy(step="replace", **variables)
    assert summary(destroyed) == "Destroy complete! Resources: 12 destroyed.", destroyed.output
    server.client("sqs").delete_queue(QueueUrl=dead_letters)


def forget_and_import(made: Workdir, address: str, id_: str, others: dict[str, str], **variables: str) -> None:
    """Terraform forgets everything (its state file removed), then finds it again: `terraform import` for one
    resource, `import` blocks for the others; the plan must then find nothing to change."""
    (made.folder / "terraform.tfstate").unlink()
    one = made.run("import", *_vars(**variables), address, id_)
    assert "Import successful!" in one.output, one.output
    (made.folder / "imports.tf").write_text(
        "".join(f'import {{\n  to = {to}\n  id = "{found}"\n}}\n' for to, found in others.items())
    )
    planned = made.plan(**variables)
    assert summary(planned) == f"Plan: {len(others)} to import, 0 to add, 0 to change, 0 to destroy.", planned.output
    made.apply(**variables)
    (made.folder / "imports.tf").unlink()


# SQS: two queues, each in a folder of its own, in the background (the provider's waits are long) ---------------

def queue_lane_update_import(cli: TerraformCli, server: Any, work: Path) -> None:
    made = workdir(cli, HERE / "queue", work / "queue-a", server)
    created = made.apply(step="create", name="queue-a")
    assert summary(created) == "Apply complete! Resources: 2 added, 0 changed, 0 destroyed.", created.output
    assert_no_back_off(created, {"aws_sqs_queue": QUEUE_WAIT})
    updated = made.apply(step="update", name="queue-a")
    assert summary(updated) == "Apply complete! Resources: 0 added, 2 changed, 0 destroyed.", updated.output
    assert_no_back_off(updated, {"aws_sqs_queue": QUEUE_WAIT})
    url = server.client("sqs").get_queue_url(QueueName="queue-a")["QueueUrl"]
    # the plan after the import finds nothing to change: what was created and updated reads back as configured
    forget_and_import(made, "aws_sqs_queue.dead_letters", url, {"aws_sqs_queue_policy.dead_letters": url},
                      step="update", name="queue-a")
    destroyed = made.destroy(step="update", name="queue-a")
    assert summary(destroyed) == "Destroy complete! Resources: 2 destroyed.", destroyed.output


def queue_lane_replace_drift(cli: TerraformCli, server: Any, work: Path) -> None:
    made = workdir(cli, HERE / "queue", work / "queue-b", server)
    made.apply(step="create", name="queue-b")
    replaced = made.apply(step="replace", name="queue-b")
    assert summary(replaced) == "Apply complete! Resources: 2 added, 0 changed, 2 destroyed.", replaced.output
    assert_no_back_off(replaced, {"aws_sqs_queue": QUEUE_WAIT})
    sqs = server.client("sqs")
    assert [u.rsplit("/", 1)[-1] for u in sqs.list_queues(QueueNamePrefix="queue-b")["QueueUrls"]] == ["queue-b-2"]

    url = sqs.get_queue_url(QueueName="queue-b-2")["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:queue-b-2"
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "ByHand", "Effect": "Allow", "Principal": "*",
                                                      "Action": "sqs:SendMessage", "Resource": arn}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "90", "Policy": json.dumps(policy)})
    drift_shown(made.plan("-refresh-only", step="replace", name="queue-b"), {
        "aws_sqs_queue.dead_letters": "visibility_timeout_seconds = 60 -> 90",
        "aws_sqs_queue_policy.dead_letters": '"EventsUpdated" -> "ByHand"',
    })
    destroyed = made.destroy(step="replace", name="queue-b")
    assert summary(destroyed) == "Destroy complete! Resources: 2 destroyed.", destroyed.output


def _vars(**variables: str) -> list[str]:
    return [f"-var={name}={value}" for name, value in variables.items()]


@dataclass
class Background:
    """The SQS folders, started before the other tests of the module and awaited by the last."""

    server: ServerProcess
    before: dict[str, list[str]]
    lanes: list[Future[None]]


@pytest.fixture(scope="module")
def queues_in_the_background(
    terraform_cli: TerraformCli, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Background]:
    work = tmp_path_factory.mktemp("terraform-queues")
    server = ServerProcess(work / "server").start()
    pool = ThreadPoolExecutor(2)
    try:
        before = inventory(server)
        lanes = [pool.submit(lane, terraform_cli, server, work)
                 for lane in (queue_lane_update_import, queue_lane_replace_drift)]
        yield Background(server, before, lanes)
    finally:
        pool.shutdown(wait=True)
        server.stop()


def test_every_resource_type_is_created_updated_imported_drifted_replaced_and_destroyed(
    terraform_cli: TerraformCli, queues_in_the_background: Background, server_factory: Any, tmp_path: Path
) -> None:
    server = server_factory()
    before = inventory(server)
    every_type_lane(terraform_cli, server, tmp_path)
    assert inventory(server) == before


# the seed's own files, and examples/seed-fixed, with a scheduled run ----------------------------------------------

def fix_the_seed(source: Path, destination: Path) -> Path:
    """The seed's files with the fixes docs/terraform.md lists (examples/seed-fixed/README.md): the cluster and
    subnets as variables, the container named `hello` with a runnable image, and its log group declared. Its Region
    stays Tokyo's, as the seed was written for."""
    shutil.copytree(source, destination)
    events = destination / "events.tf"
    events.write_text(
        events.read_text()
        .replace('subnets          = "<<Subnet ID>>"', "subnets          = var.subnets")
        .replace('["<<>Security Group ID>>"]', '["sg-00000000"]')
    )
    definition = destination / "container_def" / "container_def.json"
    definition.write_text(
        definition.read_text().replace("<<Task Name>>", "hello").replace("<<ECR Repository>>", "busybox")
    )
    (destination / "fixes.tf").write_text(
        'variable "ecs_cluster_arn" { type = string }\n'
        'variable "subnets" {\n  type    = list(string)\n  default = ["subnet-00000000"]\n}\n'
        'resource "aws_cloudwatch_log_group" "task" {\n  name = "/ecs/fargate-task-definition"\n}\n'
    )
    return destination


def whole_cycle(made: Workdir, server: Any, region: str, resources: int, **variables: str) -> None:
    """Apply, plan again (nothing), let the rule fire on the manual clock, find its log line, destroy."""
    before = inventory(server, region)
    applied = made.apply(**variables)
    assert summary(applied) == f"Apply complete! Resources: {resources} added, 0 changed, 0 destroyed.", applied.output
    assert_no_back_off(applied, {})
    assert made.plan(**variables).returncode == 0
    server.advance_clock(30 * 60 - 5)  # 08:30:00, the seed's next */30 slot
    fired = _fired(server, "hello", region)
    assert fired["outcome"] == "SUCCEEDED", fired
    task = wait_stopped(server.client("ecs", region=region), variables["ecs_cluster_arn"], fired["taskArns"][0])
    assert task["containers"][0]["exitCode"] == 0, task
    assert "Hello,World!" in _lines(server, region)
    destroyed = made.destroy(**variables)
    assert summary(destroyed) == f"Destroy complete! Resources: {resources} destroyed.", destroyed.output
    assert inventory(server, region) == before


def _fired(server: Any, rule: str, region: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [i for i in server.get(f"/_cronbridge/invocations?rule={rule}", region=region)["invocations"]
                if i["outcome"] != "PENDING"]
        if done:
            return dict(done[0])
        time.sleep(0.05)
    raise AssertionError(f"rule {rule} did not fire")


def _lines(server: Any, region: str, timeout: float = 20) -> list[str]:
    logs = server.client("logs", region=region)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e["message"] for e in logs.filter_log_events(logGroupName="/ecs/fargate-task-definition")["events"]]
        if found:
            return found
        time.sleep(0.1)
    return []


def test_the_seeds_own_files_fixed_run_in_ap_northeast_1_against_a_server_started_with_defaults(
    terraform_cli: TerraformCli, server_factory: Any, tmp_path: Path
) -> None:
    server = server_factory(manual_clock=True)  # --region is us-east-1; the provider signs for Tokyo
    server.set_clock(T0 + 5)
    cluster = server.client("ecs", region="ap-northeast-1").create_cluster(clusterName="batch")["cluster"]
    folder = fix_the_seed(seed_folder(), tmp_path / "seed-src")
    made = workdir(terraform_cli, folder, tmp_path / "seed", server, region="ap-northeast-1")
    whole_cycle(made, server, "ap-northeast-1", 10, ecs_cluster_arn=cluster["clusterArn"])


def test_examples_seed_fixed_goes_through_the_whole_cycle(
    terraform_cli: TerraformCli, server_factory: Any, tmp_path: Path
) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0 + 5)
    cluster = server.client("ecs").create_cluster(clusterName="default")["cluster"]
    made = workdir(terraform_cli, EXAMPLE, tmp_path / "seed-fixed", server)
    whole_cycle(made, server, "us-east-1", 10, ecs_cluster_arn=cluster["clusterArn"])


def test_sqs_queues_and_queue_policies_are_created_updated_imported_drifted_replaced_and_destroyed(
    queues_in_the_background: Background,
) -> None:
    for lane in queues_in_the_background.lanes:
        lane.result(timeout=600)
    assert inventory(queues_in_the_background.server) == queues_in_the_background.before
