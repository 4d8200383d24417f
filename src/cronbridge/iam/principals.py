"""A trust policy's Principal element as IAM checks it: AWS accounts and ARNs, services, federated providers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

INVALID = "Invalid principal in policy"
NO_PRINCIPAL = (
    "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
    "The passed in policy has a statement with no principals!"
)
FEDERATED = "Federated principals must be valid domain names or SAML metadata ARNs"
TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
_PARTITION = r"aws(?:-[a-z]+)*"
_AWS = re.compile(
    rf"\d{{12}}|arn:{_PARTITION}:iam::\d{{12}}:(?:root|(?:user|role)/[\w+=,.@/-]+)"
    rf"|arn:{_PARTITION}:sts::\d{{12}}:(?:assumed-role/[\w+=,.@-]+/[\w+=,.@-]+|federated-user/[\w+=,.@-]+)"
    r"|A[A-Z]{3}[A-Z0-9]{16,}"  # a unique id (AIDA..., AROA...), as IAM rewrites a deleted principal
)
_SERVICE = re.compile(r"[a-z0-9][a-z0-9.-]*\.(?:amazonaws\.com(?:\.cn)?|amazon\.com|c2s\.ic\.gov|sc2s\.sgov\.gov)")
_FEDERATED_ARN = re.compile(rf"arn:{_PARTITION}:iam::\d{{12}}:(?:saml-provider|oidc-provider)/\S+")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
_CANONICAL = re.compile(r"[0-9a-f]{64}")


def principal_error(value: Any) -> str | None:
    """IAM's message for a Principal (or NotPrincipal) value it refuses in a trust policy; None when valid."""
    if value == "*":
        return None
    if not isinstance(value, Mapping) or not value:
        return INVALID
    for kind, ids in value.items():
        found = _entry_error(kind, [ids] if isinstance(ids, str) else list(ids))
        if found is not None:
            return found
    return None


def _entry_error(kind: str, ids: list[str]) -> str | None:
    if kind not in TYPES or not ids:
        return INVALID
    for one in ids:
        if one == "*" and kind == "AWS":
            continue
        if not _valid(kind, one):
            return FEDERATED if kind == "Federated" else f'{INVALID}: "{_label(kind)}":"{one}"'
    return None


def _valid(kind: str, one: str) -> bool:
    if kind == "AWS":
        return _AWS.fullmatch(one) is not None
    if kind == "Service":
        return _SERVICE.fullmatch(one) is not None
    if kind == "Federated":
        return _FEDERATED_ARN.fullmatch(one) is not None or _DOMAIN.fullmatch(one) is not None
    return _CANONICAL.fullmatch(one) is not None


def _label(kind: str) -> str:
    """IAM names the principal type in capitals in its message, except AWS: "SERVICE", "CANONICAL_USER"."""
    return {"Service": "SERVICE", "CanonicalUser": "CANONICAL_USER"}.get(kind, kind)
