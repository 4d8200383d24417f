"""How the CLI prints: JSON for scripts, tables for people (colour only on a terminal), times in UTC."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

STYLES = {
    "ENABLED": "green",
    "DISABLED": "yellow",
    "SUCCEEDED": "green",
    "FAILED": "red",
    "PENDING": "cyan",
    "RUNNING": "cyan",
    "STOPPED": "dim",
    "PROVISIONING": "cyan",
}


@dataclass(frozen=True)
class Column:
    title: str
    key: str
    styled: bool = False


def console(stream: TextIO | None = None) -> Console:
    """A rich console: colour only when the stream is a terminal (and NO_COLOR is unset)."""
    out = stream or sys.stdout
    return Console(file=out, highlight=False, soft_wrap=False, width=None if out.isatty() else 250)


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "\n".join(cell(v) for v in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items()) or "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column], title: str | None = None) -> Table:
    grid = Table(title=title, show_lines=False, header_style="bold", box=None, pad_edge=False)
    for column in columns:
        grid.add_column(column.title, overflow="fold")
    for row in rows:
        grid.add_row(*[_styled(row.get(c.key), c.styled) for c in columns])
    return grid


def _styled(value: Any, styled: bool) -> str:
    text = cell(value).replace("[", r"\[")
    style = STYLES.get(str(value)) if styled else None
    return f"[{style}]{text}[/{style}]" if style else text


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[Column], empty: str) -> None:
    out = console()
    if not rows:
        out.print(empty)
        return
    out.print(table(rows, columns))


def print_fields(pairs: Sequence[tuple[str, Any]]) -> None:
    out = console()
    width = max(len(k) for k, _ in pairs)
    for key, value in pairs:
        out.print(f"[bold]{key.ljust(width)}[/bold]  {cell(value).replace('[', chr(92) + '[')}")
