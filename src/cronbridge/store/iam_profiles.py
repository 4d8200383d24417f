"""IAM instance profiles (each holds at most one role) in SQLite."""

from __future__ import annotations

import json

from cronbridge.identity.model import InstanceProfile
from cronbridge.store.database import Database, Row


def _profile(row: Row) -> InstanceProfile:
    return InstanceProfile(row["name"], row["profile_id"], row["arn"], row["path"], row["created_at"],
                           dict(json.loads(row["tags"])), row["role_name"])


class ProfileStore:
    """Rows in, records out; the identity service decides what is allowed."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, profile: InstanceProfile) -> None:
        self.db.execute(
            "INSERT INTO iam_instance_profiles (name, profile_id, arn, path, created_at, tags, role_name)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET tags = excluded.tags,"
            " role_name = excluded.role_name",
            (profile.name, profile.profile_id, profile.arn, profile.path, profile.created_at,
             json.dumps(profile.tags), profile.role_name),
        )

    def get(self, name: str) -> InstanceProfile | None:
        row = self.db.one("SELECT * FROM iam_instance_profiles WHERE name = ?", (name,))
        return None if row is None else _profile(row)

    def all(self, path_prefix: str = "/") -> list[InstanceProfile]:
        rows = self.db.query(
            "SELECT * FROM iam_instance_profiles WHERE substr(path, 1, ?) = ? ORDER BY name",
            (len(path_prefix), path_prefix),
        )
        return [_profile(r) for r in rows]

    def of_role(self, role: str) -> list[InstanceProfile]:
        rows = self.db.query("SELECT * FROM iam_instance_profiles WHERE role_name = ? ORDER BY name", (role,))
        return [_profile(r) for r in rows]

    def delete(self, name: str) -> bool:
        return self.db.execute("DELETE FROM iam_instance_profiles WHERE name = ?", (name,)) > 0
