"""The real Terraform CLI and hashicorp/aws provider on examples/seed-fixed: init, plan, apply, plan again (refresh of
10 resources, no change), destroy; cronbridge against moto's server (the peer), each in the same run."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.harness import BENCH_KEY, BENCH_SECRET, ServerProcess, cronbridge_server, moto_server

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "seed-fixed"
MIRRORS = ("/opt/tf-plugins", "/usr/share/terraform/plugins", str(Path.home() / ".terraform.d" / "plugins"))
PHASES = ("init", "plan", "apply", "plan again", "destroy")


def mirror() -> Path | None:
    for folder in filter(None, (os.environ.get("CRONBRIDGE_TF_PLUGINS", ""), *MIRRORS)):
        if any(Path(folder).glob("registry.terraform.io/hashicorp/aws/5.*/linux_amd64/terraform-provider-aws_*")):
            return Path(folder)
    return None


def one_round(server: ServerProcess, work: Path, plugins: Path, cluster_arn: str) -> dict[str, float]:
    """Seconds per phase for one cycle of a fresh copy of the folder."""
    folder = Path(shutil.copytree(EXAMPLE, work / f"{server.name}-{time.monotonic_ns()}"))
    config = folder / "terraform.rc"
    config.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{plugins}"\n  }}\n}}\n')
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))},
        "TF_CLI_CONFIG_FILE": str(config), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1",
        "AWS_ENDPOINT_URL": server.endpoint, "AWS_ACCESS_KEY_ID": BENCH_KEY, "AWS_SECRET_ACCESS_KEY": BENCH_SECRET,
        "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
    }
    variable = f"-var=ecs_cluster_arn={cluster_arn}"
    commands = {
        "init": ["init", "-input=false"],
        "plan": ["plan", "-input=false", variable],
        "apply": ["apply", "-auto-approve", "-input=false", variable],
        "plan again": ["plan", "-detailed-exitcode", "-input=false", variable],
        "destroy": ["destroy", "-auto-approve", "-input=false", variable],
    }
    out: dict[str, float] = {}
    for phase, args in commands.items():
        began = time.perf_counter()
        done = subprocess.run(["terraform", *args, "-no-color"], cwd=folder, env=env, capture_output=True, text=True,
                              timeout=600)
        out[phase] = time.perf_counter() - began
        if done.returncode != 0:
            failed = f"{server.name}: terraform {phase} failed ({done.returncode})"
            raise RuntimeError(f"{failed}:\n{done.stdout}{done.stderr}")
    return out


def measure(servers: list[ServerProcess], work: Path, plugins: Path, rounds: int) -> dict[str, dict[str, float]]:
    """Median seconds per phase on each server; the servers take turns, round by round (in alternating order), so a
    change in the machine's load weighs on both alike."""
    clusters = {s.name: s.client("ecs").create_cluster(clusterName="default")["cluster"]["clusterArn"] for s in servers}
    samples: dict[str, list[dict[str, float]]] = {s.name: [] for s in servers}
    for server in servers:
        one_round(server, work, plugins, clusters[server.name])  # warm-up: the provider in the page cache, caches
    for index in range(rounds):
        for server in servers if index % 2 == 0 else list(reversed(servers)):
            samples[server.name].append(one_round(server, work, plugins, clusters[server.name]))
    return {name: {p: statistics.median(s[p] for s in found) for p in PHASES} for name, found in samples.items()}


def run(quick: bool = False) -> None:
    plugins = mirror()
    if shutil.which("terraform") is None or plugins is None:
        print("  skipped: terraform and a filesystem mirror of hashicorp/aws 5.x are needed (docs/terraform.md)")
        return
    rounds = 1 if quick else 5
    with tempfile.TemporaryDirectory(prefix="bench-terraform-cli-") as tmp:
        work = Path(tmp)
        servers = [cronbridge_server(work / "cronbridge"), moto_server(work)]
        try:
            for server in servers:
                server.start()
            figures = measure(servers, work, plugins, rounds)
        finally:
            for server in servers:
                server.stop()
    version = subprocess.run(["terraform", "version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"  {version}, hashicorp/aws from {plugins}; examples/seed-fixed, 10 resources; median of {rounds}; s")
    print(f"  {'phase':<14}{'cronbridge':>12}{'moto':>10}{'ratio':>8}")
    ours, peer = figures["cronbridge"], figures["moto"]
    for phase in PHASES:
        print(f"  {phase:<14}{ours[phase]:>12.2f}{peer[phase]:>10.2f}{ours[phase] / peer[phase]:>8.2f}")


if __name__ == "__main__":
    run()
