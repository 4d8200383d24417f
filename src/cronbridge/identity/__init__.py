"""Identities: users, roles, access keys, managed and inline policies, and who a signing key stands for."""

from cronbridge.identity.model import (
    AccessKeyPair,
    KeyRecord,
    ManagedPolicy,
    PolicyVersion,
    Principal,
    Role,
    TemporaryCredentials,
    User,
)
from cronbridge.identity.service import IdentityService

__all__ = [
    "AccessKeyPair",
    "IdentityService",
    "KeyRecord",
    "ManagedPolicy",
    "PolicyVersion",
    "Principal",
    "Role",
    "TemporaryCredentials",
    "User",
]
