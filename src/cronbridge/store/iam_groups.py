"""IAM groups and their members in SQLite (group policies are in iam_inline_policies / iam_attachments)."""

from __future__ import annotations

from cronbridge.identity.model import Group
from cronbridge.store.database import Database, Row


def _group(row: Row) -> Group:
    return Group(row["name"], row["group_id"], row["arn"], row["path"], row["created_at"])


class GroupStore:
    """Rows in, records out; the identity service decides what is allowed."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, group: Group) -> None:
        self.db.execute(
            "INSERT INTO iam_groups (name, group_id, arn, path, created_at) VALUES (?, ?, ?, ?, ?)",
            (group.name, group.group_id, group.arn, group.path, group.created_at),
        )

    def rename(self, name: str, group: Group) -> None:
        """Give a group a new name and path (UpdateGroup): its members and policies follow it."""
        with self.db.transaction():
            self.db.execute("UPDATE iam_groups SET name = ?, arn = ?, path = ? WHERE name = ?",
                            (group.name, group.arn, group.path, name))
            self.db.execute("UPDATE iam_group_members SET group_name = ? WHERE group_name = ?", (group.name, name))
            for table in ("iam_inline_policies", "iam_attachments"):
                self.db.execute(f"UPDATE {table} SET owner = ? WHERE owner_kind = 'group' AND owner = ?",
                                (group.name, name))

    def get(self, name: str) -> Group | None:
        row = self.db.one("SELECT * FROM iam_groups WHERE name = ?", (name,))
        return None if row is None else _group(row)

    def all(self, path_prefix: str = "/") -> list[Group]:
        rows = self.db.query(
            "SELECT * FROM iam_groups WHERE substr(path, 1, ?) = ? ORDER BY name", (len(path_prefix), path_prefix)
        )
        return [_group(r) for r in rows]

    def delete(self, name: str) -> bool:
        return self.db.execute("DELETE FROM iam_groups WHERE name = ?", (name,)) > 0

    def add_member(self, group: str, user: str) -> None:
        self.db.execute(
            "INSERT INTO iam_group_members (group_name, user_name, seq)"
            " VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM iam_group_members)) ON CONFLICT DO NOTHING",
            (group, user),
        )

    def remove_member(self, group: str, user: str) -> bool:
        return self.db.execute(
            "DELETE FROM iam_group_members WHERE group_name = ? AND user_name = ?", (group, user)) > 0

    def members(self, group: str) -> list[str]:
        rows = self.db.query(
            "SELECT user_name FROM iam_group_members WHERE group_name = ? ORDER BY seq", (group,))
        return [r["user_name"] for r in rows]

    def groups_of(self, user: str) -> list[Group]:
        rows = self.db.query(
            "SELECT g.* FROM iam_groups g JOIN iam_group_members m ON m.group_name = g.name"
            " WHERE m.user_name = ? ORDER BY m.seq", (user,))
        return [_group(r) for r in rows]

    def forget_user(self, user: str) -> None:
        self.db.execute("DELETE FROM iam_group_members WHERE user_name = ?", (user,))
