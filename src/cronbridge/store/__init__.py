"""Durable state: one SQLite database (WAL), reached only through the repositories in this package."""
