"""Which storage errors mean the disk is full (SQLite's SQLITE_FULL, PostgreSQL's disk_full, the kernel's ENOSPC or
EDQUOT): a state the server reports and recovers from when space returns, not a bug."""

from __future__ import annotations

import errno
import sqlite3

import psycopg.errors

_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


def disk_full(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says there is no room left to write."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error) and (
            getattr(current, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(current)
        ):
            return True
        if isinstance(current, psycopg.errors.DiskFull):  # SQLSTATE 53100: the database server's disk
            return True
        if isinstance(current, OSError) and current.errno in _NO_SPACE:
            return True
        current = current.__cause__ or current.__context__
    return False
