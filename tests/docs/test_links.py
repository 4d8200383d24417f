"""Every link and path a doc cites stays inside the repository and exists (a clone has nothing else)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SKIP = {".git", ".venv", "node_modules", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", "build", "dist"}
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\s]+)`")
ROOTS = ("docs/", "examples/", "scripts/", "src/", "tests/", "bench/", ".ci/")


def documents() -> list[Path]:
    return sorted(p for p in REPO.rglob("*.md") if not SKIP & set(p.relative_to(REPO).parts))


def inside(path: Path) -> bool:
    return path.resolve().is_relative_to(REPO)


def problems(doc: Path) -> list[str]:
    text = doc.read_text()
    found = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (doc.parent / target.split("#", 1)[0]).resolve()
        if not inside(path):
            found.append(f"link outside the repository: {target}")
        elif not path.exists():
            found.append(f"broken link: {target}")
    for token in CODE.findall(text):
        if token.startswith(("/work/", "/home/", "~/work")) or (token.startswith("../") and
                                                                 not inside(doc.parent / token)):
            found.append(f"path outside the repository: {token}")
        elif token.startswith("../") and not (doc.parent / token).exists():
            found.append(f"no such file in the repository: {token}")
        elif token.startswith(ROOTS) and not re.search(r"[*<>{}|$]", token):
            path = token.split(":", 1)[0].split("#", 1)[0].rstrip(".,;)")
            if not (REPO / path).exists():
                found.append(f"no such file in the repository: {token}")
    return found


@pytest.mark.parametrize("doc", documents(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_and_cited_path_stays_inside_the_repository(doc: Path) -> None:
    assert problems(doc) == []


def test_the_check_sees_the_docs() -> None:
    names = {str(p.relative_to(REPO)) for p in documents()}
    assert {"README.md", "docs/cli.md", "examples/seed-fixed/README.md"} <= names
