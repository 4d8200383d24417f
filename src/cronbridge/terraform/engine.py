"""Apply and destroy: perform a plan's changes through boto3, saving the state after every step so a
failed run can be resumed by running it again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cronbridge.errors import AwsError
from cronbridge.terraform import ast
from cronbridge.terraform import state as state_file
from cronbridge.terraform.config import Module
from cronbridge.terraform.diagnostics import TerraformError
from cronbridge.terraform.planner import Action, Change, Planner, Walk
from cronbridge.terraform.resources import RESOURCES, Aws
from cronbridge.terraform.resources.base import NOT_FOUND
from cronbridge.terraform.state import ResourceState, State
from cronbridge.terraform.values import UNKNOWN

Out = Callable[[str], None]


def known(value: Any) -> Any:
    """Unknowns (unset optional-computed arguments) as None, for the AWS calls."""
    if value is UNKNOWN:
        return None
    if isinstance(value, dict):
        return {k: known(v) for k, v in value.items()}
    if isinstance(value, list):
        return [known(v) for v in value]
    return value


def failure(address: str, verb: str, exc: Exception, pos: ast.Pos | None) -> TerraformError:
    """An AWS or connection error while changing one instance, as a diagnostic naming it."""
    code, message = _reason(exc)
    where = pos or ast.Pos(address, 0)
    hint = "fix the cause; what was done so far is in the state file, and running the command again finishes the job"
    return TerraformError.at(where, f"{verb} {address}: {code}: {message}", hint)


def _reason(exc: Exception) -> tuple[str, str]:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return str(error.get("Code", "Error")), str(error.get("Message", exc))
    if isinstance(exc, AwsError):
        return exc.code, exc.message
    if isinstance(exc, BotoCoreError):
        return type(exc).__name__, str(exc)
    return type(exc).__name__, str(exc)


def _aws_failures() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError, AwsError)


class Engine:
    """Performs changes against one endpoint and keeps the state file current."""

    def __init__(
        self,
        aws: Aws,
        state: State,
        state_path: Path,
        out: Out,
        positions: dict[str, ast.Pos] | None = None,
    ) -> None:
        self.aws = aws
        self.state = state
        self.state_path = state_path
        self.out = out
        self.positions = positions or {}
        self.counts = {"added": 0, "changed": 0, "destroyed": 0}

    def _pos(self, address: str) -> ast.Pos | None:
        return self.positions.get(address.split("[", 1)[0])

    def delete(self, address: str) -> None:
        """Delete one instance recorded in state, then forget it."""
        resource = self.state.resources[address]
        self.out(f"{address}: Destroying...")
        try:
            RESOURCES[resource.type].delete(self.aws, resource.attributes)
        except _aws_failures() as exc:
            if not _already_gone(exc):
                raise failure(address, "deleting", exc, self._pos(address)) from exc
        del self.state.resources[address]
        state_file.save(self.state, self.state_path)
        self.counts["destroyed"] += 1
        self.out(f"{address}: Destruction complete")

    def perform(self, change: Change, desired: dict[str, Any]) -> dict[str, Any]:
        """Create or update one instance (deletions happened first); return its attributes."""
        if change.action is Action.NOOP:
            return change.before or {}
        if change.action is Action.DELETE:
            self.delete(change.address)
            return {}
        if change.action is Action.REPLACE and change.address in self.state.resources:
            self.delete(change.address)
        kind = RESOURCES[change.type]
        values = known(desired)
        prior = self.state.resources.get(change.address)
        updating = prior is not None and change.action is Action.UPDATE and kind.update is not None
        self.out(f"{change.address}: {'Modifying' if updating else 'Creating'}...")
        try:
            if updating and prior is not None and kind.update is not None:
                result = kind.update(self.aws, prior.attributes, values)
            else:
                result = kind.create(self.aws, values)
        except _aws_failures() as exc:
            verb = "updating" if updating else "creating"
            raise failure(change.address, verb, exc, self._pos(change.address)) from exc
        self.state.resources[change.address] = ResourceState(change.type, result, change.dependencies)
        state_file.save(self.state, self.state_path)
        self.counts["changed" if updating else "added"] += 1
        self.out(f"{change.address}: {'Modifications' if updating else 'Creation'} complete")
        return result


def _already_gone(exc: Exception) -> bool:
    """Deleting what no longer exists succeeds, as the AWS provider treats it."""
    code, _ = _reason(exc)
    return code in NOT_FOUND


def deletion_order(changes: list[Change], order: list[str], st: State) -> list[str]:
    """Instances to delete before creating anything: dependents first."""
    doomed = [c.address for c in changes if c.action in (Action.DELETE, Action.REPLACE)]
    rank = {node: i for i, node in enumerate(order)}

    def key(address: str) -> tuple[int, str]:
        base = address.split("[", 1)[0]
        if base in rank:
            return (rank[base], address)
        deps = st.resources[address].dependencies if address in st.resources else []
        return (max((rank.get(d, 0) for d in deps), default=0) + len(rank), address)

    return sorted(doomed, key=key, reverse=True)


def apply_walk(module: Module, variables: dict[str, Any], engine: Engine, region: str, plan: Walk) -> Walk:
    """Delete what must go (dependents first), then walk the module creating and updating."""
    for address in deletion_order(plan.changes, plan.order, engine.state):
        if address in engine.state.resources:
            engine.delete(address)
    engine.state.region = region
    planner = Planner(module, variables, engine.state, region, engine.aws)
    result = planner.walk(engine.perform)
    engine.state.outputs = {k: known(v) for k, v in result.outputs.items()}
    state_file.save(engine.state, engine.state_path)
    return result


def destroy_all(engine: Engine, order: list[str]) -> int:
    """Delete everything in state, dependents first; return how many were deleted."""
    addresses = list(engine.state.resources)
    changes = [Change(a, engine.state.resources[a].type, Action.DELETE, None, None) for a in addresses]
    doomed = deletion_order(changes, order, engine.state)
    for address in doomed:
        engine.delete(address)
    engine.state.outputs = {}
    state_file.save(engine.state, engine.state_path)
    return len(doomed)
