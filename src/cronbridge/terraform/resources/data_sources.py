"""Data sources: aws_iam_policy_document (pure), aws_caller_identity (STS), aws_region."""

from __future__ import annotations

import json
import zlib
from typing import Any

from cronbridge.terraform.resources.base import Aws, DataSourceType, Values
from cronbridge.terraform.schema import Attr, BlockSpec, computed, required
from cronbridge.terraform.values import UNKNOWN

_PRINCIPALS = BlockSpec({"type": required(), "identifiers": required(("set", "string"))})
_STATEMENT = BlockSpec(
    {
        "sid": Attr("string"),
        "effect": Attr("string", default="Allow"),
        "actions": Attr(("set", "string")),
        "not_actions": Attr(("set", "string")),
        "resources": Attr(("set", "string")),
        "not_resources": Attr(("set", "string")),
    },
    {
        "principals": _PRINCIPALS,
        "not_principals": _PRINCIPALS,
        "condition": BlockSpec({"test": required(), "variable": required(), "values": required(("list", "string"))}),
    },
)

POLICY_DOCUMENT = BlockSpec(
    {
        "version": Attr("string", default="2012-10-17"),
        "policy_id": Attr("string"),
        "json": computed(),
        "minified_json": computed(),
        "id": computed(),
    },
    {"statement": _STATEMENT},
)


def _one_or_many(values: list[str]) -> Any:
    return values[0] if len(values) == 1 else sorted(values)


def _principals(blocks: list[Values]) -> dict[str, Any] | str:
    if len(blocks) == 1 and blocks[0]["type"] == "*" and blocks[0]["identifiers"] == ["*"]:
        return "*"
    return {b["type"]: _one_or_many(list(b["identifiers"])) for b in blocks}


def _condition(blocks: list[Values]) -> dict[str, Any]:
    out: dict[str, dict[str, Any]] = {}
    for block in blocks:
        out.setdefault(block["test"], {})[block["variable"]] = _one_or_many(list(block["values"]))
    return out


_KEYS = (
    ("sid", "Sid"),
    ("actions", "Action"),
    ("not_actions", "NotAction"),
    ("resources", "Resource"),
    ("not_resources", "NotResource"),
)


def _statement(values: Values) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": values.get("effect") or "Allow"}
    for name, wire in _KEYS:
        value = values.get(name)
        if value:
            out[wire] = value if isinstance(value, str) else _one_or_many(list(value))
    for name, wire in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        if values.get(name):
            out[wire] = _principals(values[name])
    if values.get("condition"):
        out["Condition"] = _condition(values["condition"])
    return out


def read_policy_document(aws: Aws | None, values: Values) -> Values:
    """Build the policy JSON from statement blocks."""
    doc: dict[str, Any] = {"Version": values.get("version") or "2012-10-17"}
    if values.get("policy_id"):
        doc["Id"] = values["policy_id"]
    doc["Statement"] = [_statement(s) for s in values.get("statement") or []]
    if any(v is UNKNOWN for s in doc["Statement"] for v in _flat(s)):
        return {**values, "json": UNKNOWN, "minified_json": UNKNOWN, "id": UNKNOWN}
    text = json.dumps(doc, indent=2)
    return {
        **values,
        "json": text,
        "minified_json": json.dumps(doc, separators=(",", ":")),
        "id": str(zlib.crc32(text.encode())),
    }


def _flat(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flat(v)]
    if isinstance(value, list):
        return [x for v in value for x in _flat(v)]
    return [value]


CALLER_IDENTITY = BlockSpec({"account_id": computed(), "arn": computed(), "user_id": computed(), "id": computed()})


def read_caller_identity(aws: Aws | None, values: Values) -> Values:
    """The caller's account (unknown until a server is reachable)."""
    if aws is None:
        return {k: UNKNOWN for k in CALLER_IDENTITY.attrs}
    identity = aws.identity
    return {**identity, "id": identity["account_id"]}


REGION = BlockSpec(
    {
        "name": Attr("string"),
        "region": Attr("string"),
        "id": computed(),
        "description": computed(),
        "endpoint": computed(),
    }
)


def make_region_reader(region: str) -> Any:
    """aws_region reads the provider's region."""

    def read(aws: Aws | None, values: Values) -> Values:
        name = values.get("region") or values.get("name") or region
        return {
            "name": name,
            "region": name,
            "id": name,
            "description": name,
            "endpoint": f"ecs.{name}.amazonaws.com",
        }

    return read


def data_sources(region: str) -> dict[str, DataSourceType]:
    """The data sources, with aws_region bound to the provider's region."""
    return {
        "aws_iam_policy_document": DataSourceType("aws_iam_policy_document", POLICY_DOCUMENT, read_policy_document),
        "aws_caller_identity": DataSourceType("aws_caller_identity", CALLER_IDENTITY, read_caller_identity),
        "aws_region": DataSourceType("aws_region", REGION, make_region_reader(region)),
    }
