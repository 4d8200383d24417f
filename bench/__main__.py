"""`python -m bench [--quick] [NAME ...]`: run the named benchmarks (default: all), printing figures and ratios."""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
import time
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(available())})")
    parser.add_argument("--quick", action="store_true", help="small, fast variants (a smoke run)")
    parser.add_argument("--full", action="store_true", help="the largest variants, where a benchmark has them")
    parser.add_argument("--client", choices=["prepared", "boto3"],
                        help="how API benchmarks call the servers: requests signed beforehand and sent with http.client"
                             " (prepared, the default: the client's CPU stays small) or a boto3 call each time")
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    for name in names:
        print(f"\n=== bench {name}", flush=True)
        started = time.perf_counter()
        run = importlib.import_module(f"bench.bench_{name}").run
        accepted = inspect.signature(run).parameters
        extra: dict[str, object] = {"full": True} if args.full and "full" in accepted else {}
        if args.client and "client" in accepted:
            extra["client"] = args.client
        run(quick=args.quick, **extra)
        print(f"=== bench {name}: {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
