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
from pathlib import Path
from urllib.parse import urlsplit

from . import resources
from .parsing import CommandParser, Version


def _dev(args: argparse.Namespace) -> int:
    try:
        from .._server import DataDirectoryInUse, ServerConfig, serve
        from .._server._serve import exposure_warning
    except ImportError:
        print(
            "baxcloud dev needs the server extra: pip install 'baxcloud[server]'", file=sys.stderr
        )
        return 2

    def ready(base_url: str, app: object) -> None:
        warning = exposure_warning(args.host, urlsplit(base_url).port or args.port)
        if warning is not None:
            print(f"baxcloud dev: warning: {warning}", file=sys.stderr, flush=True)
        print("BaxCloud local server is running.", flush=True)
        print(f"  BAXCLOUD_BASE_URL={base_url}")
        print(f"  BAXCLOUD_API_KEY={app.api_key}")  # type: ignore[attr-defined]
        print(f"  BAXCLOUD_WEBHOOK_SECRET={app.webhook_secret}")  # type: ignore[attr-defined]
        if faults.rate > 0:
            kinds = "+".join(faults.kinds)
            print(f"  faults: rate={faults.rate:g} kinds={kinds} seed={faults.seed}")
        print("Press Ctrl+C to stop.", flush=True)

    from .._server._faults import parse_fault_spec

    try:
        faults = parse_fault_spec(args.faults or "")
    except ValueError as exc:
        print(f"baxcloud dev: error: --faults: {exc}", file=sys.stderr)
        return 2
    try:
        config = ServerConfig(
            faults=faults,
            api_key=args.api_key,
            webhook_secret=args.webhook_secret,
            data_dir=args.data,
            manual_clock=args.manual_clock,
            recording_max_bytes=args.recording_max_bytes,
            webhook_urls=tuple(args.webhook_url or ()),
        )
    except ValueError as exc:  # a bad --webhook-url (the message names the problem)
        print(f"baxcloud dev: error: {exc}", file=sys.stderr)
        return 2
    try:
        serve(config, host=args.host, port=args.port, on_ready=ready)
    except DataDirectoryInUse as exc:
        print(f"baxcloud dev: error: {exc}", file=sys.stderr)
        return 1
    return 0


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

    dev = commands.add_parser("dev", help="run the local BaxCloud server")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=7880)
    dev.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep state (credentials included) in SQLite under DIR",
    )
    dev.add_argument("--api-key", default=None, help="API key to accept (default: generated)")
    dev.add_argument("--webhook-secret", default=None, help="whsec_... (default: generated)")
    dev.add_argument(
        "--webhook-url",
        action="append",
        default=None,
        metavar="URL",
        help="deliver every event to URL, signed per Standard Webhooks (repeatable)",
    )
    dev.add_argument(
        "--manual-clock", action="store_true", help="time moves only through /_dev/clock/advance"
    )
    dev.add_argument(
        "--recording-max-bytes",
        type=int,
        default=64 * 1024 * 1024,
        metavar="N",
        help="the largest a simulated recording file grows (default 64 MiB, at least 4096); "
        "a recording that reaches it stops by itself",
    )
    dev.add_argument(
        "--faults",
        default=None,
        metavar="SPEC",
        help="inject faults into /v1 requests, e.g. 'rate=0.3,kinds=429+503+drop,seed=7'. "
        "Keys: rate (0-1), kinds ('+'-joined: 429, 500, 503, drop, slow, after_commit; "
        "default all but slow), seed (int, reproducible), slow_seconds (default 3). "
        "Change at runtime with POST /_dev/faults",
    )
    dev.set_defaults(handler=_dev)

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
