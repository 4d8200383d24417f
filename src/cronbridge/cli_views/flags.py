"""The global flags, accepted before or after any subcommand (as kubectl's and the AWS CLI's are)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cronbridge.cli_views.render import OUTPUTS
from cronbridge.config import LOG_LEVELS


def add_global_flags(parser: argparse.ArgumentParser, top: bool) -> None:
    """On the top parser the flags carry their defaults; on a subcommand they only override what was given before."""

    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("global options (before or after the command)")
    group.add_argument(
        "--endpoint-url", "--endpoint", dest="endpoint", metavar="URL", default=default(None),
        help="the server (default $CRONBRIDGE_ENDPOINT, $AWS_ENDPOINT_URL, the profile's endpoint_url, "
        "http://127.0.0.1:4599)",
    )
    group.add_argument(
        "--region", default=default(None),
        help="region to name (default $AWS_REGION, $AWS_DEFAULT_REGION, the profile's, us-east-1); "
        "for `server`, the default region",
    )
    group.add_argument("--profile", default=default(None), help="a named profile of ~/.aws/config and credentials")
    group.add_argument(
        "--data-dir", type=Path, default=default(None),
        help="a local server's state folder (its admin-credentials file; for `server`, where state lives)",
    )
    group.add_argument(
        "-o", "--output", choices=OUTPUTS, default=default(None),
        help="table (default; fits the terminal), wide (more columns, nothing cut), json or yaml (the API's shape)",
    )
    group.add_argument("--no-headers", action="store_true", default=default(False), help="tables without a header")
    group.add_argument(
        "--config", type=Path, metavar="FILE", default=default(None),
        help="a cronbridge.toml with server settings (default $CRONBRIDGE_CONFIG, ./cronbridge.toml)",
    )
    group.add_argument(
        "--log-level", choices=LOG_LEVELS, default=default(None), help="logging on stderr (default info)"
    )


def spread(parser: argparse.ArgumentParser) -> None:
    """Give every subcommand (at any depth) the global flags."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                add_global_flags(sub, top=False)
                spread(sub)
