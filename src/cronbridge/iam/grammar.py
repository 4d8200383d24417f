"""Policy documents checked as IAM checks them, in IAM's order, with IAM's messages (the table in docs/iam.md).

IAM answers the first problem it meets, in this order: JSON syntax and shapes; the version (managed policies);
its older "legacy" parser (Effect spelling, Date values, short ARNs); Sid uniqueness; the presence of actions;
the first malformed Resource; action prefixes; then the rules of the policy's kind (principals, resources).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from cronbridge.errors import AwsError
from cronbridge.iam import principals
from cronbridge.iam.dates import is_policy_date
from cronbridge.iam.resource_format import format_error, legacy_shape_ok
from cronbridge.nesting import too_deep

PolicyKind = Literal["identity", "managed", "trust", "session", "resource"]
VERSIONS = ("2012-10-17", "2008-10-17")
TOP_FIELDS = frozenset({"Version", "Id", "Statement"})
STATEMENT_FIELDS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"}
)
BASE_OPERATORS = frozenset({
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
    "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan",
    "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
    "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
})
QUALIFIERS = ("ForAllValues", "ForAnyValue")

SYNTAX = "Syntax errors in policy."
OLD_VERSION = "Policy document must be version 2012-10-17 or greater."
LEGACY = "The policy failed legacy parsing"
SID_UNIQUE = "Statement IDs (SID) in a single policy must be unique."
SID_CHARACTERS = (
    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
)
NO_ACTIONS = "Policy statement must contain actions."
NO_RESOURCES = "Policy statement must contain resources."
NO_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ONE_COLON = "Actions/Condition can contain only one colon."
HAS_PRINCIPAL = "Policy document should not specify a principal."
HAS_RESOURCE = "Has prohibited field Resource"
TRUST_ACTIONS = "AssumeRole policy may only specify STS AssumeRole actions."
# what a trust policy may allow: assuming the role, and what a session may carry (tags, source identity, context)
_TRUST_ACTIONS = frozenset(
    f"sts:{name}".lower() for name in ("AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "TagSession",
                                       "SetSourceIdentity", "SetContext")
)
_VENDOR = re.compile(r"[A-Za-z0-9.-]+")
_SID = re.compile(r"[0-9A-Za-z]*")


class MalformedPolicy(AwsError):
    """A policy document IAM would refuse; the message is IAM's reason."""

    code = "MalformedPolicyDocument"
    status = 400


def check_document(text_or_dict: str | Mapping[str, Any], kind: PolicyKind = "identity") -> Mapping[str, Any]:
    """The document, once every check IAM makes passes; MalformedPolicy with IAM's message at the first failure."""
    document = load(text_or_dict)
    statements = statement_list(document)
    if kind == "managed" and document.get("Version") != "2012-10-17":
        raise MalformedPolicy(OLD_VERSION)
    resource_error = _legacy(statements, kind)
    _check_sids(statements, kind)
    if any(not _listed(s, "Action", "NotAction") for s in statements):
        raise MalformedPolicy(NO_ACTIONS)
    if resource_error is not None:
        raise MalformedPolicy(resource_error)
    for statement in statements:
        for action in _values(statement, "Action") + _values(statement, "NotAction"):
            _check_action(action)
    _check_kind(statements, kind)
    return document


# syntax -------------------------------------------------------------------------------------------------------
def load(text_or_dict: str | Mapping[str, Any]) -> Mapping[str, Any]:
    """The JSON object of a policy, its top-level fields checked; MalformedPolicy(SYNTAX) otherwise."""
    document: Any = text_or_dict
    if not isinstance(text_or_dict, Mapping):
        try:
            document = json.loads(text_or_dict, parse_constant=_no_constant, object_pairs_hook=_no_repeats)
        except (ValueError, TypeError, RecursionError):
            raise MalformedPolicy(SYNTAX) from None
    if not isinstance(document, Mapping) or not set(document) <= TOP_FIELDS or too_deep(dict(document)):
        raise MalformedPolicy(SYNTAX)
    if "Version" in document and document["Version"] not in VERSIONS:
        raise MalformedPolicy(SYNTAX)
    if "Id" in document and not isinstance(document["Id"], str):
        raise MalformedPolicy(SYNTAX)
    return document


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; an element named twice ("Effect" twice in a statement) is a syntax error."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a key appears twice")
    return found


def statement_list(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The statements (one object or a non-empty list of them), each of the right shape."""
    raw = document.get("Statement")
    statements = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(statements, list) or not statements:
        raise MalformedPolicy(SYNTAX)
    for statement in statements:
        if not _statement_shape_ok(statement):
            raise MalformedPolicy(SYNTAX)
    return statements


def _statement_shape_ok(statement: Any) -> bool:
    if not isinstance(statement, Mapping) or not set(statement) <= STATEMENT_FIELDS:
        return False
    pairs = (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal"))
    if any(a in statement and b in statement for a, b in pairs):
        return False
    effect = statement.get("Effect")
    if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
        return False
    listed = ("Action", "NotAction", "Resource", "NotResource")
    return (
        all(_strings_ok(statement[f]) for f in listed if f in statement)
        and isinstance(statement.get("Sid", ""), str)
        and all(_principal_shape_ok(statement[f]) for f in ("Principal", "NotPrincipal") if f in statement)
        and ("Condition" not in statement or _condition_shape_ok(statement["Condition"]))
    )


def _strings_ok(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _principal_shape_ok(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, Mapping) and all(_strings_ok(ids) for ids in value.values())


def _condition_shape_ok(block: Any) -> bool:
    if not isinstance(block, Mapping):
        return False
    for operator, keys in block.items():
        if not isinstance(keys, Mapping) or not all(_condition_value_ok(v) for v in keys.values()):
            return False
        if keys and operator_parts(operator) is None:
            return False
    return True


def _condition_value_ok(value: Any) -> bool:
    if isinstance(value, list):
        return all(_scalar(v) for v in value)
    return _scalar(value)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | bool | int | float)


def operator_parts(text: str) -> tuple[str | None, str, bool] | None:
    """`ForAnyValue:StringLikeIfExists` -> ("ForAnyValue", "StringLike", True); None for an unknown operator."""
    qualifier, colon, rest = text.partition(":")
    if not colon:
        qualifier, rest = "", text
    elif qualifier not in QUALIFIERS:
        return None
    if_exists = rest.endswith("IfExists")
    operator = rest[: -len("IfExists")] if if_exists else rest
    if operator not in BASE_OPERATORS or (if_exists and operator == "Null"):
        return None
    return qualifier or None, operator, if_exists


# the legacy parser ----------------------------------------------------------------------------------------------
def _legacy(statements: list[Mapping[str, Any]], kind: PolicyKind) -> str | None:
    """Raise LEGACY where IAM's older parser fails; the first malformed Resource's message, reported later."""
    for statement in statements:
        if statement["Effect"] not in ("Allow", "Deny") or not _dates_ok(statement.get("Condition") or {}):
            raise MalformedPolicy(LEGACY)
    if kind == "trust":
        return None
    first_error: str | None = None
    for statement in statements:
        for field in ("Resource", "NotResource"):
            resources = _values(statement, field)
            errors = [e for e in (format_error(r) for r in resources) if e is not None]
            first_error = first_error or (errors[0] if errors else None)
            if first_error is None and not all(legacy_shape_ok(r) for r in resources):
                raise MalformedPolicy(LEGACY)
    return first_error


def _dates_ok(block: Mapping[str, Any]) -> bool:
    for operator, keys in block.items():
        parts = operator_parts(operator)
        if parts is None or not parts[1].startswith("Date"):
            continue
        for value in keys.values():
            if not all(is_policy_date(v) for v in (value if isinstance(value, list) else [value])):
                return False
    return True


# the rest, in IAM's order ---------------------------------------------------------------------------------------
def _check_sids(statements: list[Mapping[str, Any]], kind: PolicyKind) -> None:
    sids = [s["Sid"] for s in statements if s.get("Sid")]
    if len(sids) != len(set(sids)):
        raise MalformedPolicy(SID_UNIQUE)
    if kind not in ("trust", "resource") and not all(_SID.fullmatch(sid) for sid in sids):
        raise MalformedPolicy(SID_CHARACTERS)


def _values(statement: Mapping[str, Any], field: str) -> list[str]:
    value = statement.get(field)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _listed(statement: Mapping[str, Any], *fields: str) -> bool:
    """Whether the statement has one of `fields`, not as an empty list."""
    return any(field in statement and statement[field] != [] for field in fields)


def _check_action(action: str) -> None:
    if action == "*":
        return
    parts = action.split(":")
    if len(parts) == 1 or not parts[0]:
        raise MalformedPolicy(NO_VENDOR)
    if len(parts) > 2:
        raise MalformedPolicy(ONE_COLON)
    if parts[0] != "*" and not _VENDOR.fullmatch(parts[0]):
        raise MalformedPolicy(f"Vendor {parts[0]} is not valid")


def _check_kind(statements: list[Mapping[str, Any]], kind: PolicyKind) -> None:
    if kind == "trust":
        _check_trust(statements)
        return
    if kind == "resource":  # a resource's own policy (an SQS queue's): principals, and resources
        if any("Principal" not in s and "NotPrincipal" not in s for s in statements):
            raise MalformedPolicy(principals.NO_PRINCIPAL)
        return
    if any("Principal" in s or "NotPrincipal" in s for s in statements):
        raise MalformedPolicy(HAS_PRINCIPAL)
    if any(not _listed(s, "Resource", "NotResource") for s in statements):
        raise MalformedPolicy(NO_RESOURCES)


def _check_trust(statements: list[Mapping[str, Any]]) -> None:
    if any("Principal" not in s and "NotPrincipal" not in s for s in statements):
        raise MalformedPolicy(principals.NO_PRINCIPAL)
    if any("Resource" in s or "NotResource" in s for s in statements):
        raise MalformedPolicy(HAS_RESOURCE)
    for statement in statements:
        found = principals.principal_error(statement.get("Principal", statement.get("NotPrincipal")))
        if found is not None:
            raise MalformedPolicy(found)
    if not all(_trust_action_ok(action) for s in statements for action in _values(s, "Action")):
        raise MalformedPolicy(TRUST_ACTIONS)


def _trust_action_ok(action: str) -> bool:
    """An STS action a trust policy can allow (case-insensitive, as actions are); one with a wildcard is left to
    evaluation, which only ever asks a trust policy about these."""
    return "*" in action or "?" in action or action.lower() in _TRUST_ACTIONS
