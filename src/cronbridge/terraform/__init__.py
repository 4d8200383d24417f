"""Terraform folders read, planned, checked, applied and destroyed against a cronbridge server.

Entry points (used by the CLI): plan(), apply(), destroy(); see docs/terraform.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cronbridge.terraform import ast, refresh
from cronbridge.terraform import state as state_file
from cronbridge.terraform.checks import Checker
from cronbridge.terraform.config import load_module
from cronbridge.terraform.diagnostics import Diagnostic, Severity, TerraformError
from cronbridge.terraform.engine import Engine, apply_walk, destroy_all
from cronbridge.terraform.planner import Action, Change, Walk, plan_walk
from cronbridge.terraform.render import outputs_text, plan_text
from cronbridge.terraform.resources import Aws
from cronbridge.terraform.variables import gather, resolve

DEFAULT_ENDPOINT = "http://127.0.0.1:4599"
DEFAULT_REGION = "us-east-1"

__all__ = [
    "DEFAULT_ENDPOINT",
    "PlanResult",
    "TerraformError",
    "apply",
    "destroy",
    "plan",
    "resolve_endpoint",
]


@dataclass
class PlanResult:
    """A plan: the changes, the diagnostics, the outputs as far as known."""

    changes: list[Change] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    walk: Walk | None = None
    gone: list[str] = field(default_factory=list)
    state: state_file.State | None = None

    @property
    def has_errors(self) -> bool:
        """True when any diagnostic is an error (apply refuses to run)."""
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def has_changes(self) -> bool:
        """True when applying would do something."""
        return any(c.action is not Action.NOOP for c in self.changes)

    def render(self) -> str:
        """Diagnostics, then the plan as Terraform prints it."""
        parts = [d.render() for d in self.diagnostics]
        if self.gone:
            parts.insert(0, refresh.note(self.gone))
        if not self.has_errors:
            parts.append(plan_text(self.changes))
        return "\n\n".join(parts)


def resolve_endpoint(flag: str | None, env: dict[str, str]) -> str:
    """--endpoint, else CRONBRIDGE_ENDPOINT, else AWS_ENDPOINT_URL, else the local server."""
    return flag or env.get("CRONBRIDGE_ENDPOINT") or env.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT


def _aws(endpoint_url: str | None, region: str | None, credentials: dict[str, str] | None) -> Aws | None:
    return None if endpoint_url is None else Aws(endpoint_url, region or DEFAULT_REGION, credentials)


def _existing_log_groups(aws: Aws | None) -> tuple[set[str], list[Diagnostic]]:
    """The server's log groups, or a warning saying the server could not be asked."""
    if aws is None:
        return set(), []
    try:
        pages = aws.client("logs").get_paginator("describe_log_groups").paginate()
        return {g["logGroupName"] for page in pages for g in page.get("logGroups", [])}, []
    except Exception as exc:  # noqa: BLE001 - any failure: say so, check as if nothing existed
        from cronbridge.terraform.diagnostics import warning
        from cronbridge.terraform.engine import failure

        reason = failure("the server", "asking", exc, None).diagnostics[0].summary.removeprefix("asking the server: ")
        return set(), [
            warning(
                ast.Pos(str(aws.endpoint_url), 0),
                f"Could not list the server's log groups ({reason}); checks assume none exist",
                "start the server, pass --endpoint, or use --offline to plan without asking it",
            )
        ]


def plan(
    directory: str | Path,
    vars: dict[str, Any] | None = None,
    var_files: list[str | Path] | None = None,
    state_path: str | Path | None = None,
    region: str | None = None,
    aws: Aws | None = None,
) -> PlanResult:
    """Read the folder, evaluate it against its state file and check it; nothing is changed."""
    base = Path(directory).resolve()
    try:
        module = load_module(base)
        raw = gather(module, dict(vars or {}), [Path(p) for p in var_files or []])
    except TerraformError as exc:
        return PlanResult(diagnostics=exc.diagnostics)
    values, problems = resolve(module, raw)
    current = state_file.load(Path(state_path) if state_path else state_file.default_path(base))
    gone: list[str] = []
    if aws is not None and current.resources:
        where = Aws(aws.endpoint_url, current.region or aws.region, aws.credentials)
        gone, unreachable = refresh.refresh(current, where)
        problems = problems + unreachable
    try:
        result = plan_walk(module, values, current, region or DEFAULT_REGION, aws)
    except TerraformError as exc:
        return PlanResult(diagnostics=problems + exc.diagnostics)
    here = None if aws is None else Aws(aws.endpoint_url, result.region, aws.credentials)
    groups, unasked = _existing_log_groups(here)
    found = Checker(result, base, groups).run()
    diagnostics = problems + result.diagnostics + found + unasked
    return PlanResult(result.changes, diagnostics, result.outputs, result, gone, current)


def apply(
    directory: str | Path,
    vars: dict[str, Any] | None = None,
    var_files: list[str | Path] | None = None,
    state_path: str | Path | None = None,
    *,
    endpoint_url: str = DEFAULT_ENDPOINT,
    region: str | None = None,
    credentials: dict[str, str] | None = None,
    auto_approve: bool = False,
    out: Callable[[str], None] = print,
    confirm: Callable[[str], bool] | None = None,
) -> PlanResult:
    """Plan, show, confirm (unless auto_approve), then perform, saving state after each step."""
    base = Path(directory).resolve()
    aws = _aws(endpoint_url, region, credentials)
    result = plan(base, vars, var_files, state_path, region, aws)
    out(result.render())
    if result.has_errors or result.walk is None:
        return result
    if not result.has_changes:
        out(_complete("Apply", {"added": 0, "changed": 0, "destroyed": 0}))
        return result
    if not auto_approve and not (confirm or _ask)("Do you want to perform these actions?"):
        out("Apply cancelled.")
        return result
    path = Path(state_path) if state_path else state_file.default_path(base)
    module = load_module(base)
    positions = {a: c.pos for a, c in module.resources.items()}
    current = result.state or state_file.load(path)
    engine = Engine(Aws(endpoint_url, result.walk.region, credentials), current, path, out, positions)
    values, _ = resolve(module, gather(module, dict(vars or {}), [Path(p) for p in var_files or []]))
    try:
        final = apply_walk(module, values, engine, result.walk.region, result.walk)
    except TerraformError as exc:
        out("\n".join(d.render() for d in exc.diagnostics))
        return PlanResult(result.changes, result.diagnostics + exc.diagnostics, {}, result.walk)
    out(_complete("Apply", engine.counts))
    if final.outputs:
        out(outputs_text(final.outputs, module.sensitive_outputs))
    return PlanResult(final.changes, result.diagnostics, final.outputs, final)


def _complete(what: str, counts: dict[str, int]) -> str:
    if what == "Destroy":
        return f"Destroy complete! Resources: {counts['destroyed']} destroyed."
    return (
        f"Apply complete! Resources: {counts['added']} added, {counts['changed']} changed, "
        f"{counts['destroyed']} destroyed."
    )


def destroy(
    directory: str | Path,
    vars: dict[str, Any] | None = None,
    var_files: list[str | Path] | None = None,
    state_path: str | Path | None = None,
    *,
    endpoint_url: str = DEFAULT_ENDPOINT,
    region: str | None = None,
    credentials: dict[str, str] | None = None,
    auto_approve: bool = False,
    out: Callable[[str], None] = print,
    confirm: Callable[[str], bool] | None = None,
) -> int:
    """Delete everything the state file records (and nothing else); return how many were deleted."""
    base = Path(directory).resolve()
    path = Path(state_path) if state_path else state_file.default_path(base)
    current = state_file.load(path)
    if not current.resources:
        out("No objects need to be destroyed.")
        return 0
    out("\n".join(f"  # {a} will be destroyed" for a in current.resources))
    out(f"\nPlan: 0 to add, 0 to change, {len(current.resources)} to destroy.")
    if not auto_approve and not (confirm or _ask)("Do you really want to destroy all resources?"):
        out("Destroy cancelled.")
        return 0
    refused = _prevented(base, current)
    if refused:
        out("\n".join(d.render() for d in refused))
        raise TerraformError(refused)
    order = _config_order(base)
    where = region or current.region or DEFAULT_REGION
    engine = Engine(Aws(endpoint_url, where, credentials), current, path, out)
    try:
        count = destroy_all(engine, order)
    except TerraformError as exc:
        out("\n".join(d.render() for d in exc.diagnostics))
        raise
    out(_complete("Destroy", engine.counts))
    return count


def _prevented(base: Path, current: state_file.State) -> list[Diagnostic]:
    """Errors for instances in state whose configuration sets lifecycle.prevent_destroy."""
    from cronbridge.terraform import lifecycle
    from cronbridge.terraform.planner import prevented

    try:
        module = load_module(base)
    except TerraformError:
        return []
    found = []
    for address in current.resources:
        config = module.resources.get(address.split("[", 1)[0])
        if config is not None and lifecycle.read(config.body)[0].prevent_destroy:
            found.append(prevented(address, config.pos))
    return found


def _config_order(base: Path) -> list[str]:
    from cronbridge.terraform import graph

    try:
        return graph.order(graph.build(load_module(base)))
    except TerraformError:
        return []


def _ask(question: str) -> bool:
    return input(f"{question} Only 'yes' will be accepted: ").strip() == "yes"
