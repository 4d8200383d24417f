"""A Terraform folder read into a Module: variables, locals, outputs, resources, data, provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cronbridge.terraform import ast, lifecycle
from cronbridge.terraform.diagnostics import Diagnostic, TerraformError, error, warning
from cronbridge.terraform.syntax import parse_body
from cronbridge.terraform.values import Type

_UNSUPPORTED_BLOCKS = {
    "module": "inline the module's resources in this folder",
    "moved": "destroy and apply again, or rename the address in cronbridge.tfstate.json",
    "removed": "delete the instance from cronbridge.tfstate.json to forget it without destroying it",
    "import": "create the resource with apply instead of importing it",
    "check": "express the condition as a variable validation block",
}
_PROVIDER_NO_EFFECT = {
    "access_key",
    "secret_key",
    "token",
    "profile",
    "endpoints",
    "skip_credentials_validation",
    "skip_metadata_api_check",
    "skip_region_validation",
    "skip_requesting_account_id",
    "s3_use_path_style",
    "insecure",
    "max_retries",
}
_VARIABLE_ARGS = {"type", "default", "description", "sensitive", "nullable"}


@dataclass(frozen=True)
class Variable:
    """An input variable."""

    name: str
    type: Type
    default: ast.Expr | None
    validations: tuple[tuple[ast.Expr, ast.Expr], ...]
    pos: ast.Pos


@dataclass(frozen=True)
class ResourceConfig:
    """One resource or data block."""

    mode: str
    type: str
    name: str
    body: ast.Body
    pos: ast.Pos

    @property
    def address(self) -> str:
        """`type.name`, or `data.type.name` for a data source."""
        base = f"{self.type}.{self.name}"
        return f"data.{base}" if self.mode == "data" else base

    def meta(self, name: str) -> ast.Attribute | None:
        """A meta-argument (count, for_each, depends_on) if set."""
        return self.body.attributes.get(name)


@dataclass
class Module:
    """Everything declared in one folder's .tf files."""

    dir: Path
    variables: dict[str, Variable] = field(default_factory=dict)
    locals: dict[str, ast.Attribute] = field(default_factory=dict)
    outputs: dict[str, ast.Attribute] = field(default_factory=dict)
    resources: dict[str, ResourceConfig] = field(default_factory=dict)
    region: ast.Expr | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sensitive_outputs: set[str] = field(default_factory=set)


def load_module(directory: Path) -> Module:
    """Parse every .tf file of a folder; a syntax error stops with its file and line."""
    module = Module(directory)
    files = sorted(directory.glob("*.tf"))
    if not files:
        raise TerraformError.at(
            ast.Pos(str(directory), 0),
            "No .tf files in this folder",
            "run the command in a folder that holds Terraform files",
        )
    for path in files:
        body = parse_body(path.read_text(encoding="utf-8"), path.name)
        for block in body.blocks:
            _add_block(module, block)
        for attr in body.attributes.values():
            module.diagnostics.append(
                error(
                    attr.pos,
                    f'Unexpected argument "{attr.name}" at top level',
                    "put it inside a block",
                )
            )
    return module


def _add_block(module: Module, block: ast.Block) -> None:
    kind = block.type
    if kind in ("resource", "data"):
        _add_resource(module, block)
    elif kind == "variable":
        _add_variable(module, block)
    elif kind == "locals":
        _add_locals(module, block)
    elif kind == "output":
        _add_output(module, block)
    elif kind == "provider":
        _add_provider(module, block)
    elif kind == "terraform":
        _check_terraform(module, block)
    elif kind in _UNSUPPORTED_BLOCKS:
        module.diagnostics.append(error(block.pos, f'"{kind}" blocks are not supported', _UNSUPPORTED_BLOCKS[kind]))
    else:
        module.diagnostics.append(
            error(
                block.pos,
                f'Unsupported block type "{kind}"',
                "use resource, data, variable, locals, output, provider or terraform",
            )
        )


def _labels(block: ast.Block, count: int, module: Module) -> bool:
    if len(block.labels) != count:
        module.diagnostics.append(
            error(
                block.pos,
                f'A "{block.type}" block needs {count} label(s)',
                f"write {block.type} " + " ".join(['"name"'] * count) + " { }",
            )
        )
        return False
    return True


def _add_resource(module: Module, block: ast.Block) -> None:
    if not _labels(block, 2, module):
        return
    config = ResourceConfig(
        "managed" if block.type == "resource" else "data",
        block.labels[0],
        block.labels[1],
        block.body,
        block.pos,
    )
    if config.address in module.resources:
        module.diagnostics.append(
            error(
                block.pos,
                f"Duplicate resource {config.address}",
                "give each resource of a type its own name",
            )
        )
    for name in ("count", "for_each"):
        if name in block.body.attributes and config.mode == "data":
            module.diagnostics.append(
                error(
                    block.body.attributes[name].pos,
                    f'"{name}" on data sources is not supported',
                    "declare one data block per value",
                )
            )
    if "count" in block.body.attributes and "for_each" in block.body.attributes:
        module.diagnostics.append(error(block.pos, 'Both "count" and "for_each" are set', "keep only one of them"))
    module.diagnostics.extend(lifecycle.read(block.body)[1])
    provider = block.body.attributes.get("provider")
    if provider is not None and not (isinstance(provider.expr, ast.Ref) and provider.expr.name == "aws"):
        module.diagnostics.append(
            error(provider.pos, "Provider aliases are not supported", 'remove `provider`: one "aws" provider is used')
        )
    for bad in ("provisioner", "connection"):
        for nested in block.body.blocks_of(bad):
            module.diagnostics.append(
                error(
                    nested.pos,
                    f'"{bad}" blocks are not supported',
                    "run the command outside Terraform",
                )
            )
    module.resources[config.address] = config


def _add_variable(module: Module, block: ast.Block) -> None:
    if not _labels(block, 1, module):
        return
    attrs = block.body.attributes
    _no_blocks(module, block, ("validation",))
    sensitive = attrs.get("sensitive")
    if sensitive is not None and isinstance(sensitive.expr, ast.Literal) and sensitive.expr.value is True:
        module.diagnostics.append(
            warning(
                sensitive.pos,
                f'Variable "{block.labels[0]}" is sensitive, but plans and state show its value',
                "cronbridge does not mask sensitive values: keep secrets out of the configuration",
            )
        )
    for name, attr in attrs.items():
        if name not in _VARIABLE_ARGS:
            module.diagnostics.append(
                error(
                    attr.pos,
                    f'Unsupported argument "{name}" in variable',
                    "use type, default, description, sensitive, nullable",
                )
            )
    validations = []
    for nested in block.body.blocks_of("validation"):
        cond, message = (
            nested.body.attributes.get("condition"),
            nested.body.attributes.get("error_message"),
        )
        if cond is None or message is None:
            module.diagnostics.append(
                error(
                    nested.pos,
                    "A validation needs condition and error_message",
                    "add both arguments",
                )
            )
            continue
        validations.append((cond.expr, message.expr))
    type_ = parse_type(attrs["type"].expr) if "type" in attrs else "any"
    default = attrs["default"].expr if "default" in attrs else None
    module.variables[block.labels[0]] = Variable(block.labels[0], type_, default, tuple(validations), block.pos)


def _no_blocks(module: Module, block: ast.Block, allowed: tuple[str, ...] = ()) -> None:
    """Nested blocks a variable, locals or output block does not take are errors, not ignored."""
    for nested in block.body.blocks:
        if nested.type not in allowed:
            module.diagnostics.append(
                error(
                    nested.pos,
                    f'Unsupported block "{nested.type}" in {block.type}',
                    "remove it" + (f" (only {', '.join(allowed)} is allowed)" if allowed else ""),
                )
            )


def _add_locals(module: Module, block: ast.Block) -> None:
    _no_blocks(module, block)
    for name, attr in block.body.attributes.items():
        if name in module.locals:
            module.diagnostics.append(error(attr.pos, f'Duplicate local value "{name}"', "define each local once"))
        module.locals[name] = attr


def _add_output(module: Module, block: ast.Block) -> None:
    _no_blocks(module, block)
    if _labels(block, 1, module):
        value = block.body.attributes.get("value")
        if value is None:
            module.diagnostics.append(error(block.pos, "An output needs a value", "add `value = ...`"))
            return
        module.outputs[block.labels[0]] = value
        for name, attr in block.body.attributes.items():
            if name not in ("value", "description", "sensitive", "depends_on"):
                module.diagnostics.append(
                    error(attr.pos, f'Unsupported argument "{name}" in output', "use value, description, sensitive")
                )
        sensitive = block.body.attributes.get("sensitive")
        if sensitive is not None and isinstance(sensitive.expr, ast.Literal) and sensitive.expr.value is True:
            module.sensitive_outputs.add(block.labels[0])


def _check_terraform(module: Module, block: ast.Block) -> None:
    for nested in block.body.blocks:
        if nested.type in ("backend", "cloud"):
            module.diagnostics.append(
                warning(
                    nested.pos,
                    f'The "{nested.type}" block is not used: state is kept in this folder',
                    "cronbridge keeps its state in cronbridge.tfstate.json beside the .tf files",
                )
            )
        elif nested.type != "required_providers":
            module.diagnostics.append(error(nested.pos, f'Unsupported block "{nested.type}" in terraform', "remove it"))
    for name, attr in block.body.attributes.items():
        if name != "required_version":
            module.diagnostics.append(error(attr.pos, f'Unsupported argument "{name}" in terraform', "remove it"))


def _add_provider(module: Module, block: ast.Block) -> None:
    if block.labels != ("aws",):
        module.diagnostics.append(
            error(block.pos, f"Provider {block.labels} is not supported", 'only provider "aws" is')
        )
        return
    region = block.body.attributes.get("region")
    module.region = region.expr if region is not None else None
    for name, attr in block.body.attributes.items():
        if name in _PROVIDER_NO_EFFECT:
            module.diagnostics.append(
                warning(
                    attr.pos,
                    f'Provider argument "{name}" has no effect with cronbridge',
                    "cronbridge calls the endpoint given by --endpoint / CRONBRIDGE_ENDPOINT with the "
                    "caller's credentials; keep it for the real AWS provider or remove it",
                )
            )
        elif name != "region":
            module.diagnostics.append(
                error(attr.pos, f'Provider argument "{name}" is not supported', "remove it (only region is honoured)")
            )
    for nested in block.body.blocks:
        target = _PROVIDER_NO_EFFECT if nested.type == "endpoints" else set()
        make = warning if nested.type in target else error
        module.diagnostics.append(
            make(
                nested.pos,
                f'Provider block "{nested.type}" '
                + ("has no effect with cronbridge" if make is warning else "is not supported"),
                "cronbridge calls the endpoint given by --endpoint / CRONBRIDGE_ENDPOINT"
                if make is warning
                else "remove it (default_tags, assume_role and the like are not supported)",
            )
        )


def parse_type(node: ast.Expr) -> Type:
    """A type constraint expression (string, list(string), object({...})...) as a Type."""
    if isinstance(node, ast.Ref) and node.name in ("string", "number", "bool", "any"):
        return node.name
    if isinstance(node, ast.Call) and node.name in ("list", "set", "map", "optional") and node.args:
        return (node.name, parse_type(node.args[0]))
    if isinstance(node, ast.Call) and node.name == "object" and isinstance(node.args[0], ast.ObjectExpr):
        return ("object", {_key(k): parse_type(v) for k, v in node.args[0].items})
    if isinstance(node, ast.Call) and node.name == "tuple" and isinstance(node.args[0], ast.TupleExpr):
        return ("tuple", [parse_type(t) for t in node.args[0].items])
    raise TerraformError.at(
        node.pos,
        "Invalid type constraint",
        "use string, number, bool, any, list(T), set(T), map(T), object({...}) or tuple([...])",
    )


def _key(node: ast.Expr) -> str:
    if isinstance(node, ast.Literal):
        return str(node.value)
    raise TerraformError.at(node.pos, "Invalid object type attribute name", "use a plain name")
