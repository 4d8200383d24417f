"""Properties of plans: applying then planning plans nothing; one changed argument is one diff."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.terraform import plan
from cronbridge.terraform import state as state_file
from cronbridge.terraform.config import load_module
from cronbridge.terraform.planner import Change, Planner
from cronbridge.terraform.state import ResourceState
from cronbridge.terraform.values import UNKNOWN
from cronbridge.terraform.variables import gather, resolve

words = st.text(alphabet="abcdefghij-_", min_size=1, max_size=8)
configs = st.fixed_dictionaries(
    {
        "delay": st.integers(0, 900),
        "visibility": st.integers(0, 43_200),
        "tags": st.dictionaries(words, words, max_size=3),
        "actions": st.lists(st.sampled_from(["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:*"]), min_size=1),
        "indent": st.sampled_from([None, 0, 2, 4]),
        "name": st.one_of(st.none(), words),
    }
)


def _text(config: dict[str, Any]) -> str:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": config["actions"], "Resource": "*"}]}
    tags = ", ".join(f'"{k}" = "{v}"' for k, v in config["tags"].items())
    name = f'  name = "{config["name"]}"\n' if config["name"] else ""
    return (
        'resource "aws_sqs_queue" "q" {\n'
        f"{name}"
        f"  delay_seconds = {config['delay']}\n"
        f"  visibility_timeout_seconds = {config['visibility']}\n"
        f"  tags = {{ {tags} }}\n"
        f"  policy = <<EOT\n{json.dumps(policy, indent=config['indent'])}\nEOT\n"
        "}\n"
    )


def _pretend_applied(directory: Path) -> None:
    """Record every planned instance as created, computed attributes filled in as AWS would."""
    module = load_module(directory)
    values, _ = resolve(module, gather(module, {}, []))
    current = state_file.load(directory / state_file.FILENAME)

    def create(change: Change, desired: dict[str, Any]) -> dict[str, Any]:
        if change.action.value == "no-op":
            return change.before or {}
        done = {k: (f"generated-{k}" if v is UNKNOWN else v) for k, v in desired.items()}
        current.resources[change.address] = ResourceState(change.type, done, change.dependencies)
        return done

    Planner(module, values, current, "us-east-1").walk(create)
    state_file.save(current, directory / state_file.FILENAME)


@settings(max_examples=40, deadline=None)
@given(configs, st.sampled_from([None, 0, 2, 4]))
def test_a_plan_after_apply_plans_nothing_however_the_json_is_laid_out(config: dict[str, Any], indent: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "main.tf").write_text(_text(config))
        _pretend_applied(directory)
        (directory / "main.tf").write_text(_text({**config, "indent": indent}))
        again = plan(directory)
        assert again.diagnostics == []
        assert not again.has_changes, again.render()


@settings(max_examples=40, deadline=None)
@given(configs, st.integers(1, 100))
def test_one_changed_argument_is_one_update_with_one_diff(config: dict[str, Any], step: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "main.tf").write_text(_text(config))
        _pretend_applied(directory)
        changed = {**config, "delay": (config["delay"] + step) % 901}
        (directory / "main.tf").write_text(_text(changed))
        result = plan(directory)
        if changed["delay"] == config["delay"]:
            assert not result.has_changes
            return
        [change] = result.changes
        assert change.action.value == "update"
        assert [(d.path, d.before, d.after) for d in change.diffs] == [
            ("delay_seconds", config["delay"], changed["delay"])
        ]
