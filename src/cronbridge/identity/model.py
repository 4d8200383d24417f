"""The identity records: users, roles, managed policies and versions, access keys, principals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from cronbridge.iam.evaluate import NamedPolicy

PrincipalKind = Literal["user", "assumed-role", "root", "service"]


@dataclass(frozen=True)
class User:
    """An IAM user."""

    name: str
    user_id: str
    arn: str
    path: str
    created_at: float
    tags: dict[str, str] = field(default_factory=dict)
    permissions_boundary: str | None = None  # a managed policy's ARN


@dataclass(frozen=True)
class Role:
    """An IAM role: who may assume it (trust policy) and for how long."""

    name: str
    role_id: str
    arn: str
    path: str
    trust_policy: str
    created_at: float
    description: str | None = None
    max_session_duration: int = 3600
    tags: dict[str, str] = field(default_factory=dict)
    permissions_boundary: str | None = None  # a managed policy's ARN


@dataclass(frozen=True)
class Group:
    """An IAM group: its members get its inline and attached policies."""

    name: str
    group_id: str
    arn: str
    path: str
    created_at: float


@dataclass(frozen=True)
class InstanceProfile:
    """An IAM instance profile: a container for (at most) one role."""

    name: str
    profile_id: str
    arn: str
    path: str
    created_at: float
    tags: dict[str, str] = field(default_factory=dict)
    role_name: str | None = None


@dataclass(frozen=True)
class KeyUse:
    """When an access key last signed a request, for which service and in which region."""

    at: float
    service: str
    region: str


@dataclass(frozen=True)
class ManagedPolicy:
    """A customer (or AWS) managed policy; its document lives in its default version."""

    name: str
    policy_id: str
    arn: str
    path: str
    default_version: str
    created_at: float
    updated_at: float
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    attachment_count: int = 0
    boundary_count: int = 0  # users and roles with it as their permissions boundary

    @property
    def aws_managed(self) -> bool:
        return self.arn.startswith("arn:aws:iam::aws:policy/")


@dataclass(frozen=True)
class PolicyVersion:
    """One version of a managed policy's document."""

    policy_arn: str
    version_id: str
    document: str
    is_default: bool
    created_at: float


@dataclass(frozen=True)
class KeyRecord:
    """An access key: a user's long-term key (AKIA...) or a role session's temporary one (ASIA...)."""

    access_key_id: str
    secret_access_key: str
    status: str
    created_at: float
    user_name: str | None = None
    role_arn: str | None = None
    session_name: str | None = None
    session_token: str | None = None
    expires_at: float | None = None
    session_policy: str | None = None
    session_policy_arns: tuple[str, ...] = ()

    @property
    def temporary(self) -> bool:
        return self.session_token is not None

    @property
    def active(self) -> bool:
        return self.status == "Active"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, a role session (assumed-role), the account root, or an AWS service."""

    arn: str
    kind: PrincipalKind
    name: str
    account: str
    user_id: str
    access_key_id: str | None = None
    role_arn: str | None = None
    session_name: str | None = None
    session_policies: tuple[NamedPolicy, ...] = ()

    @property
    def condition_keys(self) -> dict[str, str]:
        """The aws:* request keys this principal fills in (aws:username only for users)."""
        keys = {
            "aws:PrincipalArn": self.role_arn or self.arn,
            "aws:userid": self.user_id,
            "aws:PrincipalAccount": self.account,
            "aws:PrincipalType": _TYPES[self.kind],
        }
        if self.kind == "user":
            keys["aws:username"] = self.name
        return keys


_TYPES = {"user": "User", "assumed-role": "AssumedRole", "root": "Account", "service": "Service"}


@dataclass(frozen=True)
class AccessKeyPair:
    """A long-term key as CreateAccessKey returns it (the only time the secret is shown)."""

    user_name: str
    access_key_id: str
    secret_access_key: str
    status: str
    created_at: float


@dataclass(frozen=True)
class TemporaryCredentials:
    """What AssumeRole returns: a session's keys, token and expiry, and the session's identity."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: float
    assumed_role_arn: str
    assumed_role_id: str
    packed_policy_size: int | None = None
