"""The `cronbridge` command: run the server, the demo, and (through the API) look at what runs."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys

from cronbridge import __version__, cli_db, cli_explain, cli_terraform, cli_views
from cronbridge.cli_views import completion, schedule_check
from cronbridge.cli_views.flags import add_global_flags, spread
from cronbridge.config import ConfigError, from_environment, parse_duration

EPILOG = "Exit codes: 0 ok, 1 failed (one line on stderr), 2 bad usage, 3 server unreachable, 4 credentials refused."


def _server_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "run the server: every AWS service on one port (settings: flags over $CRONBRIDGE_* over cronbridge.toml)"
    p = sub.add_parser("server", help=text, description=text)
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 4599; 0 picks a free one)")
    p.add_argument(
        "--database",
        help="where state lives: postgresql://... (several servers may share it; libpq multi-host URLs work) or "
        "sqlite:///path (default: cronbridge.db in the data folder)",
    )
    p.add_argument(
        "--launcher", choices=["auto", "docker", "process", "swarm", "noop"],
        help="how tasks run (default auto; swarm: on the Docker Swarm whose manager DOCKER_HOST names; "
        "noop runs nothing, for benchmarks)",
    )
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
    p.add_argument(
        "--workers", type=int,
        help="server processes on the one port and database (default: one per CPU; 1 with --manual-clock)",
    )
    p.add_argument(
        "--task-retention", metavar="DURATION",
        help="how long stopped tasks are kept for the console and the CLI: 90s, 30m, 12h, 7d (default 7d); "
        "the ECS API shows them for an hour, as ECS does",
    )
    p.add_argument(
        "--access-log", nargs="?", const="-", metavar="FILE",
        help="log one line per request, to FILE or (without one) to stderr",
    )


def _demo_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="create the seed's scheduled batch and run it once, printing what happens")
    p.add_argument("--launcher", choices=["auto", "docker", "process"], default="process")
    p.add_argument("--image", help="the container image (default: busybox, which the docker launcher must find "
                   "locally: scripts/busybox-image builds one)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cronbridge", description=__doc__, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"cronbridge {__version__}")
    add_global_flags(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _server_parser(sub)
    _demo_parser(sub)
    cli_terraform.add_parsers(sub)
    cli_explain.add_parser(sub)
    cli_views.add_parsers(sub)
    cli_db.add_parser(sub)
    schedule_check.add_parser(sub)
    completion.add_parser(sub)
    spread(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = (args.log_level or "info").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        return _dispatch(parser, args)
    except ConfigError as err:
        print(f"cronbridge: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130



def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "server":
        return _serve(args)
    if args.command == "demo":
        from cronbridge import demo

        return demo.run(launcher=args.launcher, data_dir=args.data_dir, image=args.image)
    if args.command == cli_db.COMMAND:
        return cli_db.run(args)
    if args.command == "completion":
        sys.stdout.write(completion.script(parser, args.shell))
        return 0
    if args.command == "schedule":
        return schedule_check.run(args)
    if args.command == "explain":
        return cli_explain.run(args)
    if args.command in cli_views.COMMANDS:
        return cli_views.run(args)
    if args.command in ("plan", "apply", "destroy"):
        return cli_terraform.run(args)
    return 2


def _duration(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError:
        raise ConfigError(f"--task-retention takes a duration such as 90s, 30m, 12h or 7d, not {text!r}") from None


def _serve(args: argparse.Namespace) -> int:
    from cronbridge.server.process import serve

    settings = from_environment(
        config=args.config, host=args.host, port=args.port, data_dir=args.data_dir, launcher=args.launcher,
        region=args.region, allow_reset=args.allow_reset, manual_clock=args.manual_clock,
        auth=args.auth, signature_skew=args.signature_skew, log_level=args.log_level, access_log=args.access_log,
        task_retention=_duration(args.task_retention), workers=args.workers, database=args.database,
    )
    logging.getLogger().setLevel(settings.log_level.upper())
    try:
        serve(settings)
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            print(f"cronbridge: error: port {settings.port} on {settings.host} is already in use (another cronbridge "
                  "server?); choose another with --port, $CRONBRIDGE_PORT or port in cronbridge.toml", file=sys.stderr)
            return 1
        if err.errno in (errno.EACCES, errno.EADDRNOTAVAIL):
            print(f"cronbridge: error: cannot listen on {settings.host}:{settings.port}: {os.strerror(err.errno)}",
                  file=sys.stderr)
            return 1
        raise
    return 0
