"""The `harness` fixture: a System on a real database (each test runs on SQLite and on PostgreSQL), a FakeClock, the
noop launcher."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cronbridge.clock import FakeClock
from fixtures.harness import T0, Harness


@pytest.fixture
def harness(tmp_path: Path, database_location: str) -> Iterator[Harness]:
    made = Harness(tmp_path / "data", FakeClock(T0), database_location)
    yield made
    made.close()
