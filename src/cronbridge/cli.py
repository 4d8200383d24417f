"""The `cronbridge` command: run the server, the demo, and (through the API) look at what runs."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from cronbridge import __version__, cli_terraform
from cronbridge.config import from_environment


def _server_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("server", help="run the server: every AWS service on one port")
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 4599; 0 picks a free one)")
    p.add_argument("--data-dir", type=Path, help="where the SQLite state lives (default ~/.local/share/cronbridge)")
    p.add_argument(
        "--launcher", choices=["auto", "docker", "process", "noop"],
        help="how tasks run (default auto; noop runs nothing, for benchmarks)",
    )
    p.add_argument("--region", help="default region when a request names none")
    p.add_argument(
        "--auth", choices=["enforce", "open"],
        help="enforce (default): SigV4 with known keys; open: any well-formed signature acts as the administrator",
    )
    p.add_argument("--signature-skew", type=float, help="seconds a request's signing time may be off (default 300)")
    p.add_argument("--allow-reset", action="store_true", default=None, help="enable POST /_cronbridge/reset (tests)")
    p.add_argument(
        "--manual-clock", action="store_true", default=None,
        help="time moves only via POST /_cronbridge/clock (tests)",
    )


def _demo_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="create the seed's scheduled batch and run it once, printing what happens")
    p.add_argument("--launcher", choices=["auto", "docker", "process"], default="process")
    p.add_argument("--data-dir", type=Path, help="state folder (default: a new temporary folder)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cronbridge", description=__doc__)
    parser.add_argument("--version", action="version", version=f"cronbridge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _server_parser(sub)
    _demo_parser(sub)
    cli_terraform.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    if args.command == "server":
        from cronbridge.server import serve

        settings = from_environment(
            host=args.host, port=args.port, data_dir=args.data_dir, launcher=args.launcher,
            region=args.region, allow_reset=args.allow_reset, manual_clock=args.manual_clock,
            auth=args.auth, signature_skew=args.signature_skew,
        )
        serve(settings)
        return 0
    if args.command == "demo":
        from cronbridge import demo

        return demo.run(launcher=args.launcher, data_dir=args.data_dir)
    if args.command in ("plan", "apply", "destroy"):
        return cli_terraform.run(args)
    return 2
