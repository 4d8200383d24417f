"""Diagnostics: an error or warning at a file and line, with a hint that says how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cronbridge.terraform.ast import Pos


class Severity(StrEnum):
    """How bad a diagnostic is."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One finding: severity, where, what, and how to fix it."""

    severity: Severity
    pos: Pos
    summary: str
    hint: str = ""

    def render(self) -> str:
        """Terraform-like text: `Error: summary` then location and hint."""
        head = f"{self.severity.value.capitalize()}: {self.summary}"
        text = f"{head}\n  on {self.pos}"
        return f"{text}\n  Fix: {self.hint}" if self.hint else text


def error(pos: Pos, summary: str, hint: str = "") -> Diagnostic:
    """An error diagnostic."""
    return Diagnostic(Severity.ERROR, pos, summary, hint)


def warning(pos: Pos, summary: str, hint: str = "") -> Diagnostic:
    """A warning diagnostic."""
    return Diagnostic(Severity.WARNING, pos, summary, hint)


class TerraformError(Exception):
    """Stops reading or evaluation; carries the diagnostics that explain why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(d.render() for d in diagnostics))
        self.diagnostics = diagnostics

    @classmethod
    def at(cls, pos: Pos, summary: str, hint: str = "") -> TerraformError:
        """An error with a single diagnostic."""
        return cls([error(pos, summary, hint)])
