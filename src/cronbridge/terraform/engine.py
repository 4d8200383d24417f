"""Apply and destroy: perform a plan's changes through boto3, saving the state after every step so a
failed run can be resumed by running it again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cronbridge.terraform import state as state_file
from cronbridge.terraform.config import Module
from cronbridge.terraform.planner import Action, Change, Planner, Walk
from cronbridge.terraform.resources import RESOURCES, Aws
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


class Engine:
    """Performs changes against one endpoint and keeps the state file current."""

    def __init__(self, aws: Aws, state: State, state_path: Path, out: Out) -> None:
        self.aws = aws
        self.state = state
        self.state_path = state_path
        self.out = out

    def delete(self, address: str) -> None:
        """Delete one instance recorded in state, then forget it."""
        resource = self.state.resources[address]
        self.out(f"{address}: Destroying...")
        RESOURCES[resource.type].delete(self.aws, resource.attributes)
        del self.state.resources[address]
        state_file.save(self.state, self.state_path)
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
        if prior is not None and change.action is Action.UPDATE and kind.update is not None:
            self.out(f"{change.address}: Modifying...")
            result = kind.update(self.aws, prior.attributes, values)
        else:
            self.out(f"{change.address}: Creating...")
            result = kind.create(self.aws, values)
        self.state.resources[change.address] = ResourceState(
            change.type, result, change.dependencies
        )
        state_file.save(self.state, self.state_path)
        self.out(f"{change.address}: {'Modifications' if prior else 'Creation'} complete")
        return result


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


def apply_walk(
    module: Module, variables: dict[str, Any], engine: Engine, region: str, plan: Walk
) -> Walk:
    """Delete what must go (dependents first), then walk the module creating and updating."""
    for address in deletion_order(plan.changes, plan.order, engine.state):
        if address in engine.state.resources:
            engine.delete(address)
    planner = Planner(module, variables, engine.state, region, engine.aws)
    result = planner.walk(engine.perform)
    engine.state.outputs = {k: known(v) for k, v in result.outputs.items()}
    state_file.save(engine.state, engine.state_path)
    return result


def destroy_all(engine: Engine, order: list[str]) -> int:
    """Delete everything in state, dependents first; return how many were deleted."""
    addresses = list(engine.state.resources)
    changes = [
        Change(a, engine.state.resources[a].type, Action.DELETE, None, None) for a in addresses
    ]
    doomed = deletion_order(changes, order, engine.state)
    for address in doomed:
        engine.delete(address)
    engine.state.outputs = {}
    state_file.save(engine.state, engine.state_path)
    return len(doomed)
