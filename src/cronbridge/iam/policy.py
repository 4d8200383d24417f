"""IAM policy documents: parsed into statements once checked as IAM checks them (grammar.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cronbridge.iam.grammar import (
    BASE_OPERATORS,
    QUALIFIERS,
    SYNTAX,
    VERSIONS,
    MalformedPolicy,
    PolicyKind,
    check_document,
    load,
    operator_parts,
    statement_list,
)

__all__ = ["BASE_OPERATORS", "QUALIFIERS", "VERSIONS", "Condition", "MalformedPolicy", "Policy", "PolicyKind",
           "Statement", "parse_conditions", "parse_policy", "split_operator"]


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


def parse_policy(text_or_dict: str | Mapping[str, Any], *, kind: PolicyKind = "identity", check: bool = True
                 ) -> Policy:
    """Parse a policy document, checked as IAM checks a `kind` policy (MalformedPolicy with IAM's message).

    `check=False` reads a document IAM accepted before (a stored one) with its shape checked only, so a rule
    added later never makes a stored policy unreadable.
    """
    if check:
        document = check_document(text_or_dict, kind)
        statements = statement_list(document)
    else:
        document = load(text_or_dict)
        statements = statement_list(document)
    built = tuple(parse_statement(item) for item in statements)
    return Policy(document.get("Version", "2008-10-17"), built, document.get("Id"), kind)


def parse_statement(item: Mapping[str, Any]) -> Statement:
    """One statement of a document whose shape is checked (grammar.statement_list)."""
    effect = item["Effect"]
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicy(SYNTAX)
    return Statement(
        effect=effect,
        sid=item.get("Sid"),
        actions=_strings(item.get("Action")),
        not_actions=_strings(item.get("NotAction")),
        resources=_strings(item.get("Resource")),
        not_resources=_strings(item.get("NotResource")),
        principals=_principal(item.get("Principal")),
        not_principals=_principal(item.get("NotPrincipal")),
        conditions=parse_conditions(item.get("Condition")),
    )


def _strings(value: str | list[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


def _principal(value: Any) -> Mapping[str, tuple[str, ...]] | None:
    if value is None:
        return None
    if value == "*":
        return {"*": ("*",)}  # everyone, whatever the principal type
    if not isinstance(value, Mapping):
        return {}
    return {name: _strings(ids) or () for name, ids in value.items()}


def parse_conditions(value: Any) -> tuple[Condition, ...]:
    """The Condition block as a flat tuple of conditions (all must hold); an empty unknown operator is no test."""
    if not value:
        return ()
    if not isinstance(value, Mapping):
        raise MalformedPolicy(SYNTAX)
    conditions = []
    for operator_text, block in value.items():
        if not isinstance(block, Mapping):
            raise MalformedPolicy(SYNTAX)
        if not block:
            continue
        qualifier, operator, if_exists = split_operator(operator_text)
        for key, raw in block.items():
            values = raw if isinstance(raw, list) else [raw]
            conditions.append(Condition(operator, key, tuple(_text(v) for v in values), qualifier, if_exists))
    return tuple(conditions)


def split_operator(text: str) -> tuple[str | None, str, bool]:
    """`ForAnyValue:StringLikeIfExists` -> ("ForAnyValue", "StringLike", True); MalformedPolicy if unknown."""
    parts = operator_parts(text)
    if parts is None:
        raise MalformedPolicy(SYNTAX)
    return parts


def _text(value: str | bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
