"""`cronbridge completion bash|zsh|fish`: a completion script written from the command's own parser."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass

SHELLS = ("bash", "zsh", "fish")


@dataclass(frozen=True)
class Node:
    """One command path (e.g. ('logs', 'tail')): its subcommands with their help, and its options."""

    path: tuple[str, ...]
    commands: dict[str, str]
    options: list[argparse.Action]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "print a shell completion script: source <(cronbridge completion bash)"
    p = sub.add_parser("completion", help=text, description=text)
    p.add_argument("shell", choices=SHELLS)


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[Node]:
    commands: dict[str, str] = {}
    children: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {c.dest: c.help or "" for c in action._choices_actions}
            for name, child in action.choices.items():
                commands[name] = helps.get(name, "")
                children.append((name, child))
    options = [a for a in parser._actions if a.option_strings and a.help != argparse.SUPPRESS]
    yield Node(path, commands, options)
    for name, child in children:
        yield from walk(child, (*path, name))


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    nodes = list(walk(parser))
    if shell == "fish":
        return fish(nodes)
    body = bash(nodes)
    if shell == "zsh":
        return "#compdef cronbridge\nautoload -U +X bashcompinit && bashcompinit\n" + body
    return body


def _takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0


def bash(nodes: list[Node]) -> str:
    paths = "|".join(f'"/{"/".join(n.path)}"' for n in nodes if n.path)
    lines = [
        "# cronbridge completion for bash: source <(cronbridge completion bash)",
        "_cronbridge_complete() {",
        '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} key="" w i words=""',
        "  for ((i=1; i<COMP_CWORD; i++)); do",
        "    w=${COMP_WORDS[i]}",
        '    [[ $w == -* ]] && continue',
        f'    case "$key/$w" in {paths}) key="$key/$w";; esac',
        "  done",
        '  case "$prev" in',
    ]
    choices: dict[str, str] = {}
    for node in nodes:
        for action in node.options:
            if action.choices and _takes_value(action):
                for flag in action.option_strings:
                    choices[flag] = " ".join(str(c) for c in action.choices)
    for flag, values in sorted(choices.items()):
        lines.append(f'    {flag}) COMPREPLY=($(compgen -W "{values}" -- "$cur")); return;;')
    lines += ["  esac", '  case "$key" in']
    for node in nodes:
        words = [*node.commands, *(f for a in node.options for f in a.option_strings)]
        lines.append(f'    "{"/" + "/".join(node.path) if node.path else ""}") words="{" ".join(words)}";;')
    lines += [
        "  esac",
        '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
        "}",
        "complete -o default -F _cronbridge_complete cronbridge",
        "",
    ]
    return "\n".join(lines)


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish(nodes: list[Node]) -> str:
    lines = ["# cronbridge completion for fish: cronbridge completion fish | source", "complete -c cronbridge -f"]
    for node in nodes:
        condition = _fish_condition(node, nodes)
        for name, text in node.commands.items():
            lines.append(f"complete -c cronbridge -n {_quote(condition)} -a {name} -d {_quote(text[:60])}")
        for action in node.options:
            flags = " ".join(
                f"-l {f[2:]}" if f.startswith("--") else f"-s {f[1:]}" for f in action.option_strings
            )
            values = f" -x -a {_quote(' '.join(str(c) for c in action.choices))}" if action.choices else ""
            needs = " -r" if _takes_value(action) and not action.choices else ""
            text = (action.help or "").replace("%(default)s", str(action.default))[:60]
            lines.append(f"complete -c cronbridge -n {_quote(condition)} {flags}{values}{needs} -d {_quote(text)}")
    return "\n".join(lines) + "\n"


def _fish_condition(node: Node, nodes: list[Node]) -> str:
    if not node.path:
        return "__fish_use_subcommand"
    seen = " ".join(f"; and __fish_seen_subcommand_from {word}" for word in node.path)[6:]
    below = [n.path[len(node.path)] for n in nodes if len(n.path) == len(node.path) + 1 and n.path[:-1] == node.path]
    if below:
        seen += "; and not __fish_seen_subcommand_from " + " ".join(below)
    return seen
