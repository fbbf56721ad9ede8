"""The `baxcloud` command line: `dev` (local server), `demo` (guided tour) and the
resource commands (`rooms`, `participants`, ... in `resources.py`).

Building the parser loads no part of the SDK (httpx, cattrs, anyio, the client):
`baxcloud --help`, `--version` and a mistyped flag answer at once. A module that
adds subcommands does so with `register(commands)` and imports the SDK only in
its handlers; tests/cli/test_cli_startup.py holds every command to that.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import dev, resources, simulate
from .parsing import CommandParser, Version


def _demo(args: argparse.Namespace) -> int:
    from .._core.errors import BaxCloudError
    from .demo import run_demo

    try:
        return run_demo()
    except BaxCloudError as exc:  # no server extra, or no server at BAXCLOUD_BASE_URL
        print(f"baxcloud demo: error: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baxcloud", description="BaxCloud Python SDK command line."
    )
    parser.add_argument("--version", action=Version)
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=CommandParser
    )

    dev.register(commands)
    simulate.register(commands)

    demo = commands.add_parser(
        "demo",
        help="walk through the Node SDK quick start against an embedded local server "
        "(or BAXCLOUD_BASE_URL when set)",
    )
    demo.set_defaults(handler=_demo)

    resources.register(commands)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command and its arguments; exits for --help, --version and usage errors."""
    return build_parser().parse_args(argv)


def run(args: argparse.Namespace) -> int:
    """Run a parsed command; its exit status."""
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `baxcloud rooms list | head`: the reader has had enough
        # Python would fail again flushing stdout at exit; let it write nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
