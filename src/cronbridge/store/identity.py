"""IAM users, roles, managed policies and versions, inline policies, attachments and access keys in SQLite."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal

from cronbridge.identity.model import KeyRecord, KeyUse, ManagedPolicy, PolicyVersion, Role, User
from cronbridge.store.database import Database, Row

OwnerKind = Literal["user", "role", "group"]

def _tags(text: str) -> dict[str, str]:
    return dict(json.loads(text))


def _user(row: Row) -> User:
    return User(row["name"], row["user_id"], row["arn"], row["path"], row["created_at"], _tags(row["tags"]),
                row["permissions_boundary"])


def _role(row: Row) -> Role:
    return Role(
        row["name"],
        row["role_id"],
        row["arn"],
        row["path"],
        row["trust_policy"],
        row["created_at"],
        row["description"],
        row["max_session_duration"],
        _tags(row["tags"]),
        row["permissions_boundary"],
    )


def _policy(row: Row) -> ManagedPolicy:
    return ManagedPolicy(
        row["name"],
        row["policy_id"],
        row["arn"],
        row["path"],
        row["default_version"],
        row["created_at"],
        row["updated_at"],
        row["description"],
        _tags(row["tags"]),
        row["attachments"],
        row["boundaries"],
    )


def _key(row: Row) -> KeyRecord:
    return KeyRecord(
        row["access_key_id"],
        row["secret"],
        row["status"],
        row["created_at"],
        row["user_name"],
        row["role_arn"],
        row["session_name"],
        row["session_token"],
        row["expires_at"],
        row["session_policy"],
        tuple(json.loads(row["session_policy_arns"])),
    )


_POLICY_SELECT = (
    "SELECT p.*, (SELECT COUNT(*) FROM iam_attachments a WHERE a.policy_arn = p.arn) AS attachments,"
    " (SELECT COUNT(*) FROM iam_users u WHERE u.permissions_boundary = p.arn)"
    " + (SELECT COUNT(*) FROM iam_roles r WHERE r.permissions_boundary = p.arn) AS boundaries FROM iam_policies p"
)


class IdentityStore:
    """Rows in, records out; the service above decides what is allowed."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # users

    def put_user(self, user: User) -> None:
        self.db.execute(
            "INSERT INTO iam_users (name, user_id, arn, path, created_at, tags, permissions_boundary)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET tags = excluded.tags,"
            " permissions_boundary = excluded.permissions_boundary",
            (user.name, user.user_id, user.arn, user.path, user.created_at, json.dumps(user.tags),
             user.permissions_boundary),
        )

    def user(self, name: str) -> User | None:
        row = self.db.one("SELECT * FROM iam_users WHERE name = ?", (name,))
        return None if row is None else _user(row)

    def users(self, path_prefix: str = "/") -> list[User]:
        rows = self.db.query(
            "SELECT * FROM iam_users WHERE substr(path, 1, ?) = ? ORDER BY name", (len(path_prefix), path_prefix)
        )
        return [_user(r) for r in rows]

    def delete_user(self, name: str) -> bool:
        return self.db.execute("DELETE FROM iam_users WHERE name = ?", (name,)) > 0

    # roles

    def put_role(self, role: Role) -> None:
        self.db.execute(
            "INSERT INTO iam_roles (name, role_id, arn, path, trust_policy, description, max_session_duration,"
            " created_at, tags, permissions_boundary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name)"
            " DO UPDATE SET trust_policy = excluded.trust_policy, description = excluded.description,"
            " max_session_duration = excluded.max_session_duration, tags = excluded.tags,"
            " permissions_boundary = excluded.permissions_boundary",
            (
                role.name,
                role.role_id,
                role.arn,
                role.path,
                role.trust_policy,
                role.description,
                role.max_session_duration,
                role.created_at,
                json.dumps(role.tags),
                role.permissions_boundary,
            ),
        )

    def role(self, name: str) -> Role | None:
        row = self.db.one("SELECT * FROM iam_roles WHERE name = ?", (name,))
        return None if row is None else _role(row)

    def roles(self, path_prefix: str = "/") -> list[Role]:
        rows = self.db.query(
            "SELECT * FROM iam_roles WHERE substr(path, 1, ?) = ? ORDER BY name", (len(path_prefix), path_prefix)
        )
        return [_role(r) for r in rows]

    def delete_role(self, name: str) -> bool:
        return self.db.execute("DELETE FROM iam_roles WHERE name = ?", (name,)) > 0

    # managed policies

    def put_policy(self, policy: ManagedPolicy, next_version: int) -> None:
        self.db.execute(
            "INSERT INTO iam_policies (arn, name, policy_id, path, default_version, description, created_at,"
            " updated_at, tags, next_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (arn) DO UPDATE SET"
            " default_version = excluded.default_version, updated_at = excluded.updated_at, tags = excluded.tags,"
            " next_version = excluded.next_version",
            (
                policy.arn,
                policy.name,
                policy.policy_id,
                policy.path,
                policy.default_version,
                policy.description,
                policy.created_at,
                policy.updated_at,
                json.dumps(policy.tags),
                next_version,
            ),
        )

    def policy(self, arn: str) -> ManagedPolicy | None:
        row = self.db.one(_POLICY_SELECT + " WHERE p.arn = ?", (arn,))
        return None if row is None else _policy(row)

    def next_version(self, arn: str) -> int:
        row = self.db.one("SELECT next_version FROM iam_policies WHERE arn = ?", (arn,))
        return 1 if row is None else int(row["next_version"])

    def policies(self, scope: str = "All", path_prefix: str = "/", only_attached: bool = False) -> list[ManagedPolicy]:
        rows = self.db.query(
            _POLICY_SELECT + " WHERE substr(p.path, 1, ?) = ? ORDER BY p.name", (len(path_prefix), path_prefix)
        )
        found = [_policy(r) for r in rows]
        if scope == "AWS":
            found = [p for p in found if p.aws_managed]
        elif scope == "Local":
            found = [p for p in found if not p.aws_managed]
        return [p for p in found if p.attachment_count or not only_attached]

    def delete_policy(self, arn: str) -> bool:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM iam_policy_versions WHERE policy_arn = ?", (arn,))
            return conn.execute("DELETE FROM iam_policies WHERE arn = ?", (arn,)).rowcount > 0

    def put_version(self, version: PolicyVersion) -> None:
        self.db.execute(
            "INSERT INTO iam_policy_versions (policy_arn, version_id, document, created_at) VALUES (?, ?, ?, ?)",
            (version.policy_arn, version.version_id, version.document, version.created_at),
        )

    def versions(self, arn: str) -> list[PolicyVersion]:
        policy = self.policy(arn)
        default = policy.default_version if policy else ""
        rows = self.db.query(
            "SELECT * FROM iam_policy_versions WHERE policy_arn = ? ORDER BY created_at DESC,"
            " CAST(substr(version_id, 2) AS INTEGER) DESC",
            (arn,),
        )
        return [
            PolicyVersion(r["policy_arn"], r["version_id"], r["document"], r["version_id"] == default, r["created_at"])
            for r in rows
        ]

    def delete_version(self, arn: str, version_id: str) -> bool:
        return (
            self.db.execute(
                "DELETE FROM iam_policy_versions WHERE policy_arn = ? AND version_id = ?", (arn, version_id)
            )
            > 0
        )

    # inline policies and attachments

    def put_inline(self, kind: OwnerKind, owner: str, name: str, document: str) -> None:
        self.db.execute(
            "INSERT INTO iam_inline_policies (owner_kind, owner, name, document) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (owner_kind, owner, name) DO UPDATE SET document = excluded.document",
            (kind, owner, name, document),
        )

    def inline(self, kind: OwnerKind, owner: str) -> dict[str, str]:
        rows = self.db.query(
            "SELECT name, document FROM iam_inline_policies WHERE owner_kind = ? AND owner = ? ORDER BY name",
            (kind, owner),
        )
        return {r["name"]: r["document"] for r in rows}

    def delete_inline(self, kind: OwnerKind, owner: str, name: str) -> bool:
        return (
            self.db.execute(
                "DELETE FROM iam_inline_policies WHERE owner_kind = ? AND owner = ? AND name = ?", (kind, owner, name)
            )
            > 0
        )

    def attach(self, kind: OwnerKind, owner: str, policy_arn: str) -> None:
        self.db.execute(
            "INSERT INTO iam_attachments (owner_kind, owner, policy_arn, seq) VALUES (?, ?, ?,"
            " (SELECT COALESCE(MAX(seq), 0) + 1 FROM iam_attachments)) ON CONFLICT DO NOTHING",
            (kind, owner, policy_arn),
        )

    def attached(self, kind: OwnerKind, owner: str) -> list[str]:
        rows = self.db.query(
            "SELECT policy_arn FROM iam_attachments WHERE owner_kind = ? AND owner = ? ORDER BY seq", (kind, owner)
        )
        return [r["policy_arn"] for r in rows]

    def detach(self, kind: OwnerKind, owner: str, policy_arn: str) -> bool:
        return (
            self.db.execute(
                "DELETE FROM iam_attachments WHERE owner_kind = ? AND owner = ? AND policy_arn = ?",
                (kind, owner, policy_arn),
            )
            > 0
        )

    # access keys

    def put_key(self, key: KeyRecord) -> None:
        self.db.execute(
            "INSERT INTO iam_access_keys (access_key_id, secret, status, created_at, user_name, role_arn,"
            " session_name, session_token, expires_at, session_policy, session_policy_arns)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (access_key_id) DO UPDATE SET"
            " secret = excluded.secret, status = excluded.status, user_name = excluded.user_name",
            (
                key.access_key_id,
                key.secret_access_key,
                key.status,
                key.created_at,
                key.user_name,
                key.role_arn,
                key.session_name,
                key.session_token,
                key.expires_at,
                key.session_policy,
                json.dumps(list(key.session_policy_arns)),
            ),
        )

    def key(self, access_key_id: str) -> KeyRecord | None:
        row = self.db.one("SELECT * FROM iam_access_keys WHERE access_key_id = ?", (access_key_id,))
        return None if row is None else _key(row)

    def user_keys(self, user_name: str) -> list[KeyRecord]:
        rows = self.db.query(
            "SELECT * FROM iam_access_keys WHERE user_name = ? AND session_token IS NULL ORDER BY created_at",
            (user_name,),
        )
        return [_key(r) for r in rows]

    def delete_key(self, access_key_id: str) -> bool:
        return self.db.execute("DELETE FROM iam_access_keys WHERE access_key_id = ?", (access_key_id,)) > 0

    def expire_sessions(self, before: float) -> int:
        """Forget temporary keys that expired before `before` (kept a while so callers see ExpiredToken)."""
        return self.db.execute("DELETE FROM iam_access_keys WHERE expires_at IS NOT NULL AND expires_at < ?", (before,))

    def note_key_use(self, access_key_id: str, use: KeyUse) -> None:
        """Record that a key signed a request (GetAccessKeyLastUsed)."""
        self.db.execute(
            "UPDATE iam_access_keys SET last_used_at = ?, last_used_service = ?, last_used_region = ?"
            " WHERE access_key_id = ?",
            (use.at, use.service, use.region, access_key_id),
        )

    def key_use(self, access_key_id: str) -> KeyUse | None:
        row = self.db.one(
            "SELECT last_used_at, last_used_service, last_used_region FROM iam_access_keys WHERE access_key_id = ?",
            (access_key_id,),
        )
        if row is None or row["last_used_at"] is None:
            return None
        return KeyUse(row["last_used_at"], row["last_used_service"] or "", row["last_used_region"] or "")

    def set_tags(self, table: str, key_column: str, key: str, tags: Mapping[str, str]) -> None:
        assert table in ("iam_users", "iam_roles", "iam_policies", "iam_instance_profiles", "iam_oidc_providers")
        self.db.execute(f"UPDATE {table} SET tags = ? WHERE {key_column} = ?", (json.dumps(dict(tags)), key))
