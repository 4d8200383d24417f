"""IAM's size limits per policy type, counted as IAM counts them (white space not counted)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from cronbridge.errors import AwsError

OwnerKind = Literal["user", "role", "group"]
MANAGED_POLICY_SIZE = 6144
TRUST_POLICY_SIZE = 2048
INLINE_POLICY_SIZE: dict[OwnerKind, int] = {"user": 2048, "role": 10240, "group": 5120}
SESSION_POLICY_SIZE = 2048


class PolicyTooLarge(AwsError):
    """A policy (or an owner's inline policies together) over IAM's size limit."""

    code = "LimitExceeded"
    status = 409


def policy_size(document: str) -> int:
    """A document's size as IAM counts it against its limits: every character but white space."""
    return sum(1 for char in document if not char.isspace())


def check_managed(document: str) -> None:
    """A managed policy (CreatePolicy, CreatePolicyVersion) holds at most 6,144 characters."""
    if policy_size(document) > MANAGED_POLICY_SIZE:
        raise PolicyTooLarge(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_SIZE}")


def check_trust(document: str) -> None:
    """A role's trust policy holds at most 2,048 characters (the default quota)."""
    if policy_size(document) > TRUST_POLICY_SIZE:
        raise PolicyTooLarge(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_SIZE}")


def check_inline(kind: OwnerKind, owner: str, documents: Iterable[str]) -> None:
    """All the inline policies of one user (2,048), role (10,240) or group (5,120), added together."""
    limit = INLINE_POLICY_SIZE[kind]
    if sum(policy_size(d) for d in documents) > limit:
        raise PolicyTooLarge(f"Maximum policy size of {limit} bytes exceeded for {kind} {owner}")
