"""How the CLI prints: -o table|wide|json|yaml as kubectl does; colour only on a terminal and never with NO_COLOR."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TextIO

import yaml

OUTPUTS = ("table", "wide", "json", "yaml")
GAP = "  "
ELLIPSIS = "…"
ANSI = {"green": "32", "red": "31", "yellow": "33", "cyan": "36", "dim": "2", "bold": "1"}
STYLES = {
    "ENABLED": "green",
    "DISABLED": "yellow",
    "SUCCEEDED": "green",
    "FAILED": "red",
    "FAILED_TO_START": "red",
    "PENDING": "cyan",
    "RUNNING": "cyan",
    "STOPPED": "dim",
    "PROVISIONING": "cyan",
    "STARTING": "cyan",
    "UNKNOWN": "dim",
}


@dataclass(frozen=True)
class Column:
    """One column: its header, the row key it shows, whether its value is coloured by state, how far it may be cut
    to fit a terminal (0: never), and whether only `-o wide` shows it."""

    title: str
    key: str
    styled: bool = False
    shrink: int = 0
    wide: bool = False


@dataclass(frozen=True)
class Output:
    """Where and how to print: the format, headers, colour, and the width a table must fit (None: any)."""

    format: str = "table"
    headers: bool = True
    colour: bool = False
    width: int | None = None

    @property
    def structured(self) -> bool:
        return self.format in ("json", "yaml")


def colour_wanted(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Colour only on a terminal, never with NO_COLOR (https://no-color.org) or TERM=dumb."""
    return stream.isatty() and not env.get("NO_COLOR") and env.get("TERM") != "dumb"


def output_for(fmt: str | None, headers: bool = True, stream: TextIO | None = None,
               env: Mapping[str, str] | None = None) -> Output:
    """The output a command prints with: the terminal's width (or $COLUMNS) for tables, none when piped."""
    out = stream or sys.stdout
    env = os.environ if env is None else env
    width: int | None = None
    if env.get("COLUMNS", "").isdigit():
        width = int(env["COLUMNS"])
    elif out.isatty():
        width = shutil.get_terminal_size().columns
    return Output(fmt or "table", headers, colour_wanted(out, env), width)


def plain(value: Any) -> Any:
    """JSON-able values: datetimes as ISO 8601 in UTC with a Z, like the API's own times."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def iso(moment: datetime) -> str:
    """2026-11-29T03:54:22.690Z."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def emit(value: Any, out: Output, stream: TextIO | None = None) -> None:
    """Print a structured answer as JSON or YAML (the API's shape)."""
    target = stream or sys.stdout
    if out.format == "yaml":
        target.write(yaml.safe_dump(plain(value), sort_keys=False, allow_unicode=True))
        return
    target.write(json.dumps(plain(value), indent=2, ensure_ascii=False) + "\n")


def cell(value: Any) -> str:
    """One value on one line."""
    if value is None or value == "":
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items()) or "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, datetime):
        return iso(value)
    return " ".join(str(value).split())


def paint(text: str, style: str | None, out: Output) -> str:
    if not (style and out.colour):
        return text
    return f"\033[{ANSI[style]}m{text}\033[0m"


def cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + ELLIPSIS


def fit(widths: list[int], columns: Sequence[Column], limit: int | None) -> list[int]:
    """Narrow the cuttable columns, widest first, until the row fits `limit` (or none can be cut further)."""
    fitted = list(widths)
    if limit is None:
        return fitted
    over = sum(fitted) + len(GAP) * (len(fitted) - 1) - limit
    while over > 0:
        cuttable = [i for i, c in enumerate(columns) if c.shrink and fitted[i] > max(c.shrink, len(c.title))]
        if not cuttable:
            break
        widest = max(cuttable, key=lambda i: fitted[i])
        fitted[widest] -= 1
        over -= 1
    return fitted


def table_lines(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], out: Output) -> list[str]:
    """The table as lines: `-o table` fits the terminal by cutting IDs and long text; `-o wide` cuts nothing."""
    shown = [c for c in columns if out.format == "wide" or not c.wide]
    texts = [[cell(row.get(c.key)) for c in shown] for row in rows]
    widths = [max([len(c.title) if out.headers else 1] + [len(t[i]) for t in texts]) for i, c in enumerate(shown)]
    widths = fit(widths, shown, None if out.format == "wide" else out.width)
    lines = []
    if out.headers:
        lines.append(_line([c.title for c in shown], widths, [None] * len(shown), out, bold=True))
    for row, text in zip(rows, texts, strict=True):
        styles = [STYLES.get(str(row.get(c.key)).split(" ")[0]) if c.styled else None for c in shown]
        lines.append(_line(text, widths, styles, out))
    return lines


def _line(texts: Sequence[str], widths: Sequence[int], styles: Sequence[str | None], out: Output,
          bold: bool = False) -> str:
    parts = []
    for i, (text, width) in enumerate(zip(texts, widths, strict=True)):
        shown = cut(text, width)
        pad = "" if i == len(texts) - 1 else " " * (width - len(shown))
        parts.append(paint(shown, "bold" if bold else styles[i], out) + pad)
    return GAP.join(parts).rstrip()


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], empty: str, out: Output,
                stream: TextIO | None = None) -> None:
    target = stream or sys.stdout
    if not rows:
        print(empty, file=sys.stderr if out.headers else target)
        return
    for line in table_lines(rows, columns, out):
        print(line, file=target)


def print_fields(pairs: Sequence[tuple[str, Any]], out: Output) -> None:
    """`key  value` lines, keys aligned (one object, e.g. a task)."""
    width = max(len(k) for k, _ in pairs)
    for key, value in pairs:
        print(f"{paint(key.ljust(width), 'bold', out)}  {cell(value)}")


def heading(text: str, out: Output) -> None:
    print()
    print(paint(text, "bold", out))
