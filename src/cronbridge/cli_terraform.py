"""`cronbridge plan|apply|destroy DIR`: Terraform folders against a cronbridge server, with Terraform's flags."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, text in (
        ("plan", "show what apply would change, and what would fail on AWS, without changing anything"),
        ("apply", "create and update what the folder declares, through the API of a running server"),
        ("destroy", "delete everything this folder's state says it created"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("dir", type=Path, nargs="?", default=Path("."), help="the Terraform folder (default .)")
        p.add_argument("-var", dest="vars", action="append", default=[], metavar="NAME=VALUE")
        p.add_argument("-var-file", dest="var_files", action="append", default=[], type=Path, metavar="FILE")
        p.add_argument("-auto-approve", dest="auto_approve", action="store_true", help="do not ask for yes")
        p.add_argument("--offline", action="store_true", help="plan only: do not ask the server anything")


def _vars(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"-var expects NAME=VALUE, got {pair!r}")
        out[name.strip()] = value
    return out


def run(args: argparse.Namespace) -> int:
    from cronbridge import terraform
    from cronbridge.terraform import credentials
    from cronbridge.terraform.resources import Aws

    logging.getLogger("botocore").setLevel(logging.WARNING)
    if args.profile:  # boto3's default chain (used when no key is given explicitly) reads it
        os.environ["AWS_PROFILE"] = args.profile
    env = dict(os.environ)
    endpoint = terraform.resolve_endpoint(args.endpoint, env)
    creds = credentials.resolve(env)
    common: dict[str, Any] = {"vars": _vars(args.vars), "var_files": args.var_files}
    try:
        if args.command == "plan":
            aws = None if args.offline else Aws(endpoint, args.region or terraform.DEFAULT_REGION, creds)
            result = terraform.plan(args.dir, region=args.region, aws=aws, **common)
            print(result.render())
            return 1 if result.has_errors else 0
        if args.command == "apply":
            applied = terraform.apply(
                args.dir,
                endpoint_url=endpoint,
                region=args.region,
                credentials=creds,
                auto_approve=args.auto_approve,
                **common,
            )
            return 1 if applied.has_errors else 0
        terraform.destroy(
            args.dir,
            endpoint_url=endpoint,
            region=args.region,
            credentials=creds,
            auto_approve=args.auto_approve,
            **common,
        )
        return 0
    except terraform.TerraformError as err:
        if args.command != "destroy":  # destroy has printed its own
            for diagnostic in err.diagnostics:
                print(diagnostic.render())
        return 1
