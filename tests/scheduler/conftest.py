"""The `harness` fixture: a System on a real SQLite file, a FakeClock, the noop launcher."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cronbridge.clock import FakeClock
from fixtures.harness import T0, Harness


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    made = Harness(tmp_path / "data", FakeClock(T0))
    yield made
    made.close()
