"""The `baxcloud` command line: `dev` (local server), `demo` (guided tour) and the
resource commands (`rooms`, `participants`, ... in `resources.py`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import dev, simulate


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baxcloud", description="BaxCloud Python SDK command line."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dev.register(commands)
    simulate.register(commands)

    demo = commands.add_parser(
        "demo",
        help="walk through the Node SDK quick start against an embedded local server "
        "(or BAXCLOUD_BASE_URL when set)",
    )
    demo.set_defaults(handler=_demo)

    from .resources import add_resource_commands

    add_resource_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
