"""Refresh: instances deleted outside cronbridge are dropped from the state before planning."""

from __future__ import annotations

from cronbridge.terraform import ast
from cronbridge.terraform.diagnostics import Diagnostic
from cronbridge.terraform.resources import RESOURCES, Aws
from cronbridge.terraform.state import State


def refresh(state: State, aws: Aws) -> tuple[list[str], list[Diagnostic]]:
    """Drop from `state` (in memory) the instances the server no longer has; return their
    addresses, and an error for each instance whose existence could not be checked."""
    gone: list[str] = []
    problems: list[Diagnostic] = []
    for address, resource in list(state.resources.items()):
        kind = RESOURCES.get(resource.type)
        if kind is None or kind.exists is None:
            continue
        try:
            present = kind.exists(aws, resource.attributes)
        except Exception as exc:  # noqa: BLE001 - botocore's errors, reported with the address
            from cronbridge.terraform.engine import failure

            problems.extend(failure(address, "refreshing", exc, ast.Pos(address, 0)).diagnostics)
            continue
        if not present:
            del state.resources[address]
            gone.append(address)
    return gone, problems


def note(gone: list[str]) -> str:
    """Terraform's note about objects changed outside it."""
    lines = [f"  # {address} has been deleted" for address in gone]
    return "\n".join(
        [
            "Note: Objects have changed outside of cronbridge",
            "",
            "cronbridge detected the following changes made outside of cronbridge since the last apply:",
            "",
            *lines,
        ]
    )
