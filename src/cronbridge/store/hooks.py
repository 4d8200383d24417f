"""One open transaction of either engine: its savepoint depth and the callbacks run when it ends (shared by the SQLite
and PostgreSQL databases, so both keep the same promises about commit and rollback hooks)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any


def call_all(callbacks: Iterable[Callable[[], None]]) -> None:
    for callback in callbacks:
        callback()


class Hooks:
    """Callbacks of one transaction: after_commit ones run once it commits, after_rollback ones (newest first) if it
    or the savepoint they were made in rolls back."""

    def __init__(self) -> None:
        self.depth = 0  # savepoints open inside the transaction
        self.commit_hooks: list[Callable[[], None]] = []
        self.rollback_hooks: list[Callable[[], None]] = []

    def committed(self) -> None:
        """The transaction committed: run its after_commit callbacks, forget the rest."""
        done, self.commit_hooks, self.rollback_hooks = self.commit_hooks, [], []
        call_all(done)

    def rolled_back(self) -> None:
        """The transaction rolled back: what was taken out of memory to be written goes back."""
        self.commit_hooks.clear()
        undone, self.rollback_hooks = self.rollback_hooks, []
        call_all(reversed(undone))

    @contextmanager
    def savepoint(self, execute: Callable[[str], Any], conn: Any) -> Iterator[Any]:
        """SAVEPOINT ... RELEASE (ROLLBACK TO on error: only its own writes and callbacks are undone)."""
        self.depth += 1
        name = f"nested_{self.depth}"
        callbacks, undo = len(self.commit_hooks), len(self.rollback_hooks)
        execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            execute(f"ROLLBACK TO SAVEPOINT {name}")
            execute(f"RELEASE SAVEPOINT {name}")
            del self.commit_hooks[callbacks:]  # what it undid will not commit
            undone = self.rollback_hooks[undo:]
            del self.rollback_hooks[undo:]
            call_all(reversed(undone))
            raise
        else:
            execute(f"RELEASE SAVEPOINT {name}")
        finally:
            self.depth -= 1
