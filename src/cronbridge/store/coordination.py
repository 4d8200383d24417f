"""State shared by server processes on one database: the scheduler lease and small named values (the manual clock)."""

from __future__ import annotations

from typing import Any

from cronbridge.store.database import Database


class Leases:
    """Named leases: one holder at a time, until it stops renewing and the lease expires (wall-clock seconds)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def acquire(self, name: str, holder: str, now: float, ttl: float, steal: str | None = None) -> bool:
        """Take or renew the lease; False while another holder's lease is unexpired (unless that holder is `steal`,
        known dead). A standby only reads."""
        row = self.db.one("SELECT holder, expires_at FROM leases WHERE name = ?", (name,))
        if row is not None and not _free(row, holder, now, steal):
            return False
        with self.db.transaction() as conn:  # one statement decides: two standbys cannot both take it
            taken = conn.execute(
                "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
                " SET holder = excluded.holder, expires_at = excluded.expires_at"
                " WHERE leases.holder = excluded.holder OR leases.expires_at <= ? OR leases.holder = ?"
                " RETURNING holder",
                (name, holder, now + ttl, now, steal or ""),
            ).fetchone()
        return taken is not None

    def release(self, name: str, holder: str) -> None:
        self.db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def current(self, name: str) -> str | None:
        """Whoever the row names, expired or not (None when nobody ever took it, or it was released)."""
        row = self.db.one("SELECT holder FROM leases WHERE name = ?", (name,))
        return None if row is None else str(row["holder"])

    def holder(self, name: str, now: float) -> str | None:
        row = self.db.one("SELECT holder, expires_at FROM leases WHERE name = ?", (name,))
        return row["holder"] if row is not None and row["expires_at"] > now else None


def _free(row: Any, holder: str, now: float, steal: str | None) -> bool:
    return bool(row["holder"] == holder or row["expires_at"] <= now or (steal is not None and row["holder"] == steal))


class Meta:
    """Small named values kept across restarts."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, name: str) -> str | None:
        row = self.db.one("SELECT value FROM meta WHERE name = ?", (name,))
        return None if row is None else str(row["value"])

    def put(self, name: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
