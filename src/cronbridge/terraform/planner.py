"""Desired state from configuration compared with the state file: one Change per instance.

The same walk serves plan and apply: it visits variables, locals, resources and outputs in order
of dependency, and for each resource instance asks `decide` what to do. Plan records the change;
apply (engine.py) performs it and hands back the real attributes, which later references see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from cronbridge.terraform import ast, graph, lifecycle
from cronbridge.terraform.config import Module, ResourceConfig
from cronbridge.terraform.diagnostics import Diagnostic, TerraformError, error
from cronbridge.terraform.evaluate import Evaluator
from cronbridge.terraform.resources import RESOURCES, Aws, data_sources
from cronbridge.terraform.schema import BlockSpec, BodyEvaluator, configured_view
from cronbridge.terraform.state import State
from cronbridge.terraform.values import UNKNOWN, is_unknown, to_string


class Action(StrEnum):
    """What a plan does to one instance."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NOOP = "no-op"


@dataclass(frozen=True)
class AttrDiff:
    """One attribute that changes; `forces` when the change forces replacement."""

    path: str
    before: Any
    after: Any
    forces: bool = False


@dataclass
class Change:
    """The plan for one instance."""

    address: str
    type: str
    action: Action
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    diffs: list[AttrDiff] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)


@dataclass
class InstanceInfo:
    """A desired instance with what checks need: its config and the extra roots (count, each)."""

    address: str
    config: ResourceConfig
    values: dict[str, Any]
    extra: dict[str, Any]


Decide = Callable[[Change, dict[str, Any]], dict[str, Any]]
"""Given a change and the desired values, return the attributes the instance ends with."""


@dataclass
class Walk:
    """The outcome of evaluating a module against a state."""

    changes: list[Change]
    instances: list[InstanceInfo]
    outputs: dict[str, Any]
    diagnostics: list[Diagnostic]
    roots: dict[str, Any]
    region: str
    order: list[str]


def instance_address(base: str, key: int | str | None) -> str:
    """`aws_x.name`, `aws_x.name[0]` or `aws_x.name["key"]`."""
    if key is None:
        return base
    return f"{base}[{key}]" if isinstance(key, int) else f'{base}["{key}"]'


class Planner:
    """Walks a module in dependency order; see the module docstring."""

    def __init__(
        self,
        module: Module,
        variables: dict[str, Any],
        state: State,
        region: str,
        aws: Aws | None = None,
    ) -> None:
        self.module = module
        self.state = state
        self.aws = aws
        self.diagnostics: list[Diagnostic] = list(module.diagnostics)
        self.roots: dict[str, Any] = {
            "var": {n: variables.get(n, UNKNOWN) for n in module.variables},
            "local": {},
            "path": {"module": ".", "root": ".", "cwd": "."},
            "data": {},
        }
        for config in module.resources.values():
            if config.mode == "managed":
                self.roots.setdefault(config.type, {})
        self.region = self._region(region)
        self.data_types = data_sources(self.region)
        self.changes: list[Change] = []
        self.instances: list[InstanceInfo] = []
        self.outputs: dict[str, Any] = {}
        self.visited: set[str] = set()
        self.deps = graph.build(module)
        self._check_depends_on()

    def _check_depends_on(self) -> None:
        """depends_on must name resources or data sources of this folder (Terraform: an error)."""
        for config in self.module.resources.values():
            attr = config.meta("depends_on")
            if attr is None:
                continue
            for name in sorted(graph.depends_on(attr)):
                if name not in self.module.resources:
                    self.diagnostics.append(
                        error(
                            attr.pos,
                            f'Invalid depends_on reference: "{name}" is not declared',
                            "name a resource or data source of this folder, e.g. depends_on = [aws_x.name]",
                        )
                    )

    def evaluator(self, extra: dict[str, Any] | None = None) -> Evaluator:
        """An evaluator over the roots known so far."""
        return Evaluator({**self.roots, **(extra or {})}, self.module.dir)

    def _region(self, default: str) -> str:
        if self.module.region is None:
            return default
        try:
            return to_string(self.evaluator().eval(self.module.region))
        except (TerraformError, ValueError):
            self.diagnostics.append(
                error(
                    self.module.region.pos,
                    "The provider region must be known before apply",
                    "use a literal or a variable",
                )
            )
            return default

    def walk(self, decide: Decide) -> Walk:
        """Visit every node in dependency order; orphans (state only) go last."""
        order = graph.order(self.deps)
        for node in order:
            self._visit(node, decide)
        for address, resource in list(self.state.resources.items()):
            if address not in self.visited:
                change = Change(
                    address,
                    resource.type,
                    Action.DELETE,
                    resource.attributes,
                    None,
                    dependencies=resource.dependencies,
                )
                decide(change, {})
                self.changes.append(change)
        return Walk(
            self.changes,
            self.instances,
            self.outputs,
            _unique(self.diagnostics),
            self.roots,
            self.region,
            order,
        )

    def _visit(self, node: str, decide: Decide) -> None:
        kind, _, name = node.partition(".")
        if kind == "var":
            return
        if kind in ("local", "output"):
            attr = (self.module.locals if kind == "local" else self.module.outputs)[name]
            value = self._eval(attr.expr)
            if kind == "local":
                self.roots["local"][name] = value
            else:
                self.outputs[name] = value
            return
        config = self.module.resources[node]
        if config.mode == "data":
            self._read_data(config)
        else:
            self._resource(config, decide)

    def _eval(self, expr: ast.Expr, extra: dict[str, Any] | None = None) -> Any:
        try:
            return self.evaluator(extra).eval(expr)
        except TerraformError as exc:
            self.diagnostics.extend(exc.diagnostics)
            return UNKNOWN

    def _read_data(self, config: ResourceConfig) -> None:
        kind = self.data_types.get(config.type)
        if kind is None:
            self.diagnostics.append(
                error(
                    config.pos,
                    f'Unsupported data source "{config.type}"',
                    "use one of: " + ", ".join(sorted(self.data_types)),
                )
            )
            return
        body = BodyEvaluator(self.evaluator())
        values = body.block(config.body, kind.schema, config.pos)
        self.diagnostics.extend(body.diagnostics)
        try:
            read = kind.read(self.aws, values)
        except Exception as exc:  # noqa: BLE001 - botocore's errors, reported with the block's line
            from cronbridge.terraform.engine import failure

            self.diagnostics.extend(failure(config.address, "reading", exc, config.pos).diagnostics)
            read = {name: UNKNOWN for name in kind.schema.attrs}
        self.roots["data"].setdefault(config.type, {})[config.name] = read

    def _keys(self, config: ResourceConfig) -> list[tuple[int | str | None, dict[str, Any]]]:
        count, for_each = config.meta("count"), config.meta("for_each")
        if count is not None:
            n = self._eval(count.expr)
            if n is UNKNOWN or not isinstance(n, int | float):
                raise TerraformError.at(
                    count.pos,
                    "Invalid count: its value must be a whole number known before apply",
                    "use variables or literals in count",
                )
            return [(i, {"count": {"index": i}}) for i in range(int(n))]
        if for_each is not None:
            return self._for_each_keys(for_each)
        return [(None, {})]

    def _for_each_keys(self, attr: ast.Attribute) -> list[tuple[int | str | None, dict[str, Any]]]:
        value = self._eval(attr.expr)
        if is_unknown(value) or not isinstance(value, dict | list):
            raise TerraformError.at(
                attr.pos,
                "Invalid for_each: a map or set of strings known before apply is required",
                "use variables or literals",
            )
        pairs = value.items() if isinstance(value, dict) else ((to_string(v), v) for v in value)
        ordered = sorted(((str(k), v) for k, v in pairs), key=lambda kv: kv[0])  # maps and sets are sorted
        return [(k, {"each": {"key": k, "value": v}}) for k, v in ordered]

    def _resource(self, config: ResourceConfig, decide: Decide) -> None:
        kind = RESOURCES.get(config.type)
        if kind is None:
            self.diagnostics.append(
                error(
                    config.pos,
                    f'Unsupported resource type "{config.type}"',
                    "use one of: " + ", ".join(sorted(RESOURCES)),
                )
            )
            self._keep_instances_of(config.address)
            return
        try:
            keys = self._keys(config)
        except TerraformError as exc:
            self.diagnostics.extend(exc.diagnostics)
            self._keep_instances_of(config.address)
            return
        results: dict[Any, Any] = {}
        for key, extra in keys:
            results[key] = self._instance(config, kind.schema, key, extra, decide)
        self.roots[config.type][config.name] = _shape(config, results)

    def _keep_instances_of(self, base: str) -> None:
        """A resource that could not be evaluated plans no deletion of its instances."""
        self.visited.update(a for a in self.state.resources if _base_of(a) == base)

    def _instance(
        self,
        config: ResourceConfig,
        schema: BlockSpec,
        key: int | str | None,
        extra: dict[str, Any],
        decide: Decide,
    ) -> dict[str, Any]:
        body = BodyEvaluator(self.evaluator(extra))
        desired = body.block(config.body, schema, config.pos)
        self.diagnostics.extend(body.diagnostics)
        address = instance_address(config.address, key)
        self.visited.add(address)
        self.instances.append(InstanceInfo(address, config, desired, extra))
        prior = self.state.resources.get(address)
        life = lifecycle.read(config.body)[0]
        if prior is not None:
            desired = _ignoring(desired, prior.attributes, schema, life)
        change = compare(address, config.type, schema, desired, prior.attributes if prior else None)
        if life.prevent_destroy and change.action is Action.REPLACE:
            self.diagnostics.append(prevented(address, config.pos))
        change.dependencies = sorted(d for d in self.deps[config.address] if not d.startswith(("var.", "local.")))
        self.changes.append(change)
        return decide(change, desired)


def prevented(address: str, pos: ast.Pos) -> Diagnostic:
    """The error for a plan that would destroy an instance whose lifecycle forbids it."""
    return error(
        pos,
        f"Instance cannot be destroyed: {address} has lifecycle.prevent_destroy set, "
        "but the plan calls for this resource to be destroyed",
        "remove prevent_destroy to allow it, or undo the change that forces replacement",
    )


def _ignoring(
    desired: dict[str, Any], prior: dict[str, Any], spec: BlockSpec, life: lifecycle.Lifecycle
) -> dict[str, Any]:
    """ignore_changes: the listed arguments (or all) keep their recorded values."""
    names = set(spec.attrs) | set(spec.blocks) if life.ignore_all else life.ignore_changes
    return {k: (prior[k] if k in names and k in prior else v) for k, v in desired.items()}


def _shape(config: ResourceConfig, results: dict[Any, Any]) -> Any:
    if config.meta("count") is not None:
        return [results[i] for i in sorted(results)]
    if config.meta("for_each") is not None:
        return dict(results)
    return results[None]


def _base_of(address: str) -> str:
    return address.split("[", 1)[0]


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for d in diagnostics:
        key = (d.severity, d.pos, d.summary)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def compare(
    address: str,
    type_: str,
    schema: BlockSpec,
    desired: dict[str, Any],
    prior: dict[str, Any] | None,
) -> Change:
    """The change that turns `prior` (None: absent) into `desired`."""
    if prior is None:
        return Change(
            address,
            type_,
            Action.CREATE,
            None,
            desired,
            [AttrDiff(p, None, v) for p, v, _ in _flatten(configured_view(desired, schema), schema) if v is not None],
        )
    desired = _keep_computed(desired, prior, schema)
    diffs = diff(configured_view(prior, schema), configured_view(desired, schema), schema)
    if not diffs:
        return Change(address, type_, Action.NOOP, prior, prior)
    action = Action.REPLACE if any(d.forces for d in diffs) else Action.UPDATE
    after = (
        dict(desired)
        if action is Action.REPLACE
        else {
            k: (prior.get(k) if v is UNKNOWN and k not in configured_view(desired, schema) else v)
            for k, v in desired.items()
        }
    )
    return Change(address, type_, action, prior, after, diffs)


def _keep_computed(desired: dict[str, Any], prior: dict[str, Any], spec: BlockSpec) -> dict[str, Any]:
    """Optional-computed arguments the configuration leaves out keep what AWS chose (a generated
    name or target id is not a change)."""
    out = dict(desired)
    for name, attr in spec.attrs.items():
        if attr.computed and attr.configurable and out.get(name) is UNKNOWN and name in prior:
            out[name] = prior[name]
    return out


def _flatten(values: dict[str, Any], spec: BlockSpec, prefix: str = "") -> list[tuple[str, Any, bool]]:
    out: list[tuple[str, Any, bool]] = []
    for name, value in values.items():
        if name in spec.blocks:
            child = spec.blocks[name]
            for i, item in enumerate(value or []):
                out.extend(_flatten(item, child, f"{prefix}{name}[{i}]."))
        else:
            attr = spec.attrs.get(name)
            out.append((prefix + name, value, bool(attr and attr.force_new)))
    return out


def diff(before: dict[str, Any], after: dict[str, Any], spec: BlockSpec) -> list[AttrDiff]:
    """Attribute-level differences, each marked when it forces replacement."""
    old = {p: v for p, v, _ in _flatten(before, spec)}
    out = []
    for path, value, force_new in _flatten(after, spec):
        if path in old and old[path] == value:
            continue
        forces = force_new or _in_force_new_block(path, spec)
        out.append(AttrDiff(path, old.get(path), value, forces))
    new_paths = {p for p, _, _ in _flatten(after, spec)}
    for path, value in old.items():
        if path not in new_paths and value is not None:
            out.append(AttrDiff(path, value, None, _in_force_new_block(path, spec)))
    return out


def _in_force_new_block(path: str, spec: BlockSpec) -> bool:
    head = path.split("[", 1)[0]
    return head in spec.blocks and spec.blocks[head].force_new


def plan_walk(module: Module, variables: dict[str, Any], state: State, region: str, aws: Aws | None = None) -> Walk:
    """Evaluate without changing anything: every change is recorded, nothing is performed."""

    def record(change: Change, desired: dict[str, Any]) -> dict[str, Any]:
        return change.after if change.after is not None else desired

    return Planner(module, variables, state, region, aws).walk(record)


def module_dir(path: str | Path) -> Path:
    """A folder argument as an absolute path."""
    return Path(path).resolve()
