"""The state file in the Terraform folder: what cronbridge created, as JSON, saved after each step.

Format (documented in docs/terraform.md):
{"format": "cronbridge-terraform-state", "version": 1, "serial": N, "region": "us-east-1",
 "resources": {"aws_x.name[0]": {"type": "aws_x", "attributes": {...}, "dependencies": [...]}},
 "outputs": {"name": value}}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "cronbridge-terraform-state"
FILENAME = "cronbridge.tfstate.json"


@dataclass
class ResourceState:
    """One created instance: its type, every attribute, and the addresses it depended on."""

    type: str
    attributes: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)


@dataclass
class State:
    """All instances by address, plus outputs; `serial` grows with every save."""

    resources: dict[str, ResourceState] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    serial: int = 0
    region: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The document written to disk."""
        return {
            "format": FORMAT,
            "version": 1,
            "serial": self.serial,
            "region": self.region,
            "resources": {
                a: {"type": r.type, "attributes": r.attributes, "dependencies": r.dependencies}
                for a, r in self.resources.items()
            },
            "outputs": self.outputs,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> State:
        """Read a document written by to_json."""
        if doc.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        resources = {
            a: ResourceState(r["type"], r["attributes"], list(r.get("dependencies", [])))
            for a, r in doc.get("resources", {}).items()
        }
        outputs, serial = dict(doc.get("outputs", {})), int(doc.get("serial", 0))
        return cls(resources, outputs, serial, doc.get("region"))


def default_path(directory: Path) -> Path:
    """Where the state lives unless told otherwise."""
    return directory / FILENAME


def load(path: Path) -> State:
    """The state at `path`, or an empty one when the file does not exist."""
    if not path.exists():
        return State()
    return State.from_json(json.loads(path.read_text(encoding="utf-8")))


def save(state: State, path: Path) -> None:
    """Write atomically (temporary file, then rename), bumping the serial."""
    state.serial += 1
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(state.to_json(), indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
