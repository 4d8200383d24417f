"""IAM policy documents: parse, validate as IAM does (MalformedPolicyDocument with the reason)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cronbridge.errors import AwsError

PolicyKind = Literal["identity", "trust", "session"]
VERSIONS = ("2012-10-17", "2008-10-17")
_STATEMENT_FIELDS = frozenset({"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
                               "Principal", "NotPrincipal", "Condition"})
_PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})
BASE_OPERATORS = frozenset({
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan",
    "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals",
    "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
    "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals",
    "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
})
QUALIFIERS = ("ForAllValues", "ForAnyValue")


class MalformedPolicy(AwsError):
    """A policy document IAM would refuse; the message is IAM's reason."""

    code = "MalformedPolicyDocument"
    status = 400


@dataclass(frozen=True)
class Condition:
    """One operator / key / values triple, with its set qualifier and IfExists flag."""

    operator: str
    key: str
    values: tuple[str, ...]
    qualifier: str | None = None
    if_exists: bool = False


@dataclass(frozen=True)
class Statement:
    """One statement; exactly one of each Action/NotAction, Resource/NotResource pair is set."""

    effect: Literal["Allow", "Deny"]
    sid: str | None = None
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    principals: Mapping[str, tuple[str, ...]] | None = None
    not_principals: Mapping[str, tuple[str, ...]] | None = None
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Policy:
    """A parsed policy document."""

    version: str
    statements: tuple[Statement, ...]
    id: str | None = None
    kind: PolicyKind = "identity"

    @property
    def uses_variables(self) -> bool:
        """Policy variables are only substituted in version 2012-10-17."""
        return self.version == "2012-10-17"


def parse_policy(text_or_dict: str | Mapping[str, Any], *, kind: PolicyKind = "identity"
                 ) -> Policy:
    """Parse and validate a policy document; MalformedPolicy with IAM's reason otherwise."""
    document = _load(text_or_dict)
    unknown = sorted(set(document) - {"Version", "Id", "Statement"})
    if unknown:
        raise MalformedPolicy(f"Unknown field {unknown[0]}")
    version = document.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise MalformedPolicy("The policy failed legacy parsing")
    if "Statement" not in document:
        raise MalformedPolicy("Missing required field Statement")
    raw = document["Statement"]
    raw_list = raw if isinstance(raw, list) else [raw]
    statements = tuple(parse_statement(item, kind) for item in raw_list)
    _check_unique_sids(statements)
    policy_id = document.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise MalformedPolicy("Syntax errors in policy.")
    return Policy(version, statements, policy_id, kind)


def _load(text_or_dict: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(text_or_dict, Mapping):
        return text_or_dict
    try:
        document = json.loads(text_or_dict)
    except (ValueError, TypeError):
        raise MalformedPolicy("Syntax errors in policy.") from None
    if not isinstance(document, dict):
        raise MalformedPolicy("Syntax errors in policy.")
    return document


def parse_statement(item: Any, kind: PolicyKind) -> Statement:
    """One statement, checked against the rules for identity, trust or session policies."""
    if not isinstance(item, Mapping):
        raise MalformedPolicy("Syntax errors in policy.")
    unknown = sorted(set(item) - _STATEMENT_FIELDS)
    if unknown:
        raise MalformedPolicy(f"Unknown field {unknown[0]}")
    effect = item.get("Effect")
    if effect is None:
        raise MalformedPolicy("Missing required field Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicy(f"Invalid effect: {effect}")
    _check_pairs(item, kind)
    sid = item.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise MalformedPolicy("Syntax errors in policy.")
    if sid and kind != "trust" and not sid.isalnum():
        raise MalformedPolicy("Statement IDs (SID) must be alpha-numeric. Check that your "
                              "input satisfies the regular expression [0-9A-Za-z]*")
    return Statement(
        effect=effect, sid=sid,
        actions=_actions(item.get("Action")), not_actions=_actions(item.get("NotAction")),
        resources=_strings(item.get("Resource")), not_resources=_strings(item.get("NotResource")),
        principals=_principal(item.get("Principal")),
        not_principals=_principal(item.get("NotPrincipal")),
        conditions=parse_conditions(item.get("Condition")),
    )


def _check_pairs(item: Mapping[str, Any], kind: PolicyKind) -> None:
    if "Action" in item and "NotAction" in item:
        raise MalformedPolicy("Statement can't contain both Action and NotAction")
    if "Action" not in item and "NotAction" not in item:
        raise MalformedPolicy("Policy statement must contain actions.")
    if "Resource" in item and "NotResource" in item:
        raise MalformedPolicy("Statement can't contain both Resource and NotResource")
    has_principal = "Principal" in item or "NotPrincipal" in item
    if kind == "trust":
        if not has_principal:
            raise MalformedPolicy("Missing required field Principal")
        for field in ("Resource", "NotResource"):
            if field in item:
                raise MalformedPolicy(f"Has prohibited field {field}")
        return
    for field in ("Principal", "NotPrincipal"):
        if field in item:
            raise MalformedPolicy(f"Has prohibited field {field}")
    if "Resource" not in item and "NotResource" not in item:
        raise MalformedPolicy("Policy statement must contain resources.")


def _strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise MalformedPolicy("Syntax errors in policy.")
    return tuple(values)


def _actions(value: Any) -> tuple[str, ...] | None:
    actions = _strings(value)
    for action in actions or ():
        service, colon, name = action.partition(":")
        if action == "*":
            continue
        if not colon or not service or not name:
            raise MalformedPolicy("Actions/Conditions must be prefaced by a vendor, "
                                  "e.g., iam, sdb, ec2, etc.")
        if "*" in service or "?" in service:
            raise MalformedPolicy(f"Vendor {service} is not valid")
    return actions


def _principal(value: Any) -> Mapping[str, tuple[str, ...]] | None:
    if value is None:
        return None
    if value == "*":
        return {"*": ("*",)}  # everyone, whatever the principal type
    if not isinstance(value, Mapping) or not value:
        raise MalformedPolicy("Invalid principal in policy")
    principals: dict[str, tuple[str, ...]] = {}
    for name, ids in value.items():
        found = _strings(ids)
        if name not in _PRINCIPAL_TYPES or found is None:
            raise MalformedPolicy("Invalid principal in policy")
        if any(("*" in v or "?" in v) and v != "*" for v in found):
            raise MalformedPolicy("Invalid principal in policy")
        principals[name] = found
    return principals


def parse_conditions(value: Any) -> tuple[Condition, ...]:
    """The Condition block as a flat tuple of conditions (all must hold)."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise MalformedPolicy("Syntax errors in policy.")
    conditions = []
    for operator_text, block in value.items():
        qualifier, operator, if_exists = split_operator(operator_text)
        if not isinstance(block, Mapping):
            raise MalformedPolicy("Syntax errors in policy.")
        for key, raw in block.items():
            values = raw if isinstance(raw, list) else [raw]
            if not all(isinstance(v, str | bool | int | float) for v in values):
                raise MalformedPolicy("Syntax errors in policy.")
            conditions.append(Condition(operator, key, tuple(_text(v) for v in values),
                                        qualifier, if_exists))
    return tuple(conditions)


def split_operator(text: str) -> tuple[str | None, str, bool]:
    """`ForAnyValue:StringLikeIfExists` -> ("ForAnyValue", "StringLike", True)."""
    qualifier, colon, rest = text.partition(":")
    if not colon:
        qualifier, rest = "", text
    elif qualifier not in QUALIFIERS:
        raise MalformedPolicy(f"Invalid Condition type : {text}")
    if_exists = rest.endswith("IfExists") and rest != "IfExists"
    operator = rest[: -len("IfExists")] if if_exists else rest
    if operator not in BASE_OPERATORS or (if_exists and operator == "Null"):
        raise MalformedPolicy(f"Invalid Condition type : {text}")
    return qualifier or None, operator, if_exists


def _text(value: str | bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_unique_sids(statements: tuple[Statement, ...]) -> None:
    sids = [s.sid for s in statements if s.sid]
    if len(sids) != len(set(sids)):
        raise MalformedPolicy("Statement IDs (SID) in a single policy must be unique")
