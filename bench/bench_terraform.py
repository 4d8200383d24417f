"""plan/apply/no-op plan/destroy of examples/seed-fixed: cronbridge vs moto (same engine) vs bare boto3."""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import BENCH_KEY, BENCH_SECRET, ServerProcess, cronbridge_server, moto_server
from cronbridge import terraform
from cronbridge.terraform.resources import Aws

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "seed-fixed"
CREDENTIALS = {"aws_access_key_id": BENCH_KEY, "aws_secret_access_key": BENCH_SECRET}
PHASES = ("plan", "apply", "plan again", "destroy")


def _quiet(_: str) -> None:
    pass


def one_round(server: ServerProcess, work: Path, cluster_arn: str) -> dict[str, float]:
    """Seconds per phase for one full cycle in a fresh copy of the folder."""
    folder = Path(shutil.copytree(EXAMPLE, work / f"round-{time.monotonic_ns()}"))
    common: dict[str, Any] = {"endpoint_url": server.endpoint, "credentials": CREDENTIALS}
    variables = {"ecs_cluster_arn": cluster_arn}
    aws = Aws(server.endpoint, "us-east-1", CREDENTIALS)
    steps: dict[str, Callable[[], Any]] = {
        "plan": lambda: terraform.plan(folder, vars=variables, aws=aws),
        "apply": lambda: terraform.apply(folder, vars=variables, auto_approve=True, out=_quiet, **common),
        "plan again": lambda: terraform.plan(folder, vars=variables, aws=aws),
        "destroy": lambda: terraform.destroy(folder, vars=variables, auto_approve=True, out=_quiet, **common),
    }
    out: dict[str, float] = {}
    for name, step in steps.items():
        began = time.perf_counter()
        result = step()
        out[name] = time.perf_counter() - began
        if isinstance(result, terraform.PlanResult) and result.has_errors:
            raise RuntimeError(f"{server.name}: {name} failed:\n{result.render()}")
    return out


def bare_boto3(server: ServerProcess, cluster_arn: str) -> float:
    """The same ten creations and deletions as plain boto3 calls: the floor for any tool."""
    aws = Aws(server.endpoint, "us-east-1", CREDENTIALS)
    iam, ecs, events, logs = (aws.client(s) for s in ("iam", "ecs", "events", "logs"))
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    began = time.perf_counter()
    roles = [iam.create_role(RoleName=f"bare-{i}", AssumeRolePolicyDocument=trust)["Role"]["Arn"] for i in range(2)]
    arns = [iam.create_policy(PolicyName=f"bare-{i}", PolicyDocument=policy)["Policy"]["Arn"] for i in range(2)]
    for i in range(2):
        iam.attach_role_policy(RoleName=f"bare-{i}", PolicyArn=arns[i])
    logs.create_log_group(logGroupName="/bare")
    logs.put_retention_policy(logGroupName="/bare", retentionInDays=7)
    taskdef = ecs.register_task_definition(
        family="bare",
        cpu="256",
        memory="512",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        executionRoleArn=roles[0],
        containerDefinitions=[{"name": "hello", "image": "busybox", "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    events.put_rule(Name="bare", ScheduleExpression="cron(*/30 * * * ? *)")
    events.put_targets(
        Rule="bare",
        Targets=[
            {
                "Id": "t",
                "Arn": cluster_arn,
                "RoleArn": roles[1],
                "EcsParameters": {
                    "TaskDefinitionArn": taskdef,
                    "LaunchType": "FARGATE",
                    "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": ["subnet-00000000"]}},
                },
            }
        ],
    )
    events.remove_targets(Rule="bare", Ids=["t"])
    events.delete_rule(Name="bare")
    ecs.deregister_task_definition(taskDefinition=taskdef)
    logs.delete_log_group(logGroupName="/bare")
    for i in range(2):
        iam.detach_role_policy(RoleName=f"bare-{i}", PolicyArn=arns[i])
        iam.delete_policy(PolicyArn=arns[i])
        iam.delete_role(RoleName=f"bare-{i}")
    return time.perf_counter() - began


def measure(server: ServerProcess, work: Path, rounds: int) -> tuple[dict[str, float], float]:
    """Median seconds per phase over `rounds` cycles (after one warm-up), and the bare-boto3 median."""
    cluster = server.client("ecs").create_cluster(clusterName="default")["cluster"]["clusterArn"]
    one_round(server, work, cluster)  # warm-up: imports, connections, server caches
    samples = [one_round(server, work, cluster) for _ in range(rounds)]
    bare = statistics.median(bare_boto3(server, cluster) for _ in range(rounds))
    return {p: statistics.median(s[p] for s in samples) for p in PHASES}, bare


def run(quick: bool = False) -> None:
    rounds = 2 if quick else 7
    with tempfile.TemporaryDirectory(prefix="bench-terraform-") as tmp:
        work = Path(tmp)
        figures: dict[str, tuple[dict[str, float], float]] = {}
        for server in (cronbridge_server(work / "cronbridge"), moto_server(work)):
            server.start()
            try:
                figures[server.name] = measure(server, work, rounds)
            finally:
                server.stop()
    print(f"  examples/seed-fixed, 10 resources; median of {rounds} cycles; ms (ratio cronbridge/moto)")
    print(f"  {'phase':<28}{'cronbridge':>12}{'moto':>12}{'ratio':>8}")
    ours, peer = figures["cronbridge"], figures["moto"]
    for phase in PHASES:
        a, b = ours[0][phase] * 1000, peer[0][phase] * 1000
        print(f"  {phase:<28}{a:>12.1f}{b:>12.1f}{a / b:>8.2f}")
    a, b = ours[1] * 1000, peer[1] * 1000
    print(f"  {'bare boto3 create+delete':<28}{a:>12.1f}{b:>12.1f}{a / b:>8.2f}")
    tool = (ours[0]["apply"] + ours[0]["destroy"]) / ours[1]
    print(f"  apply+destroy / bare boto3 on cronbridge: {tool:.2f}x (the engine's own cost: plan, refresh, state)")


if __name__ == "__main__":
    run()
