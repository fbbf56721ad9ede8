"""The `baxcloud` command line: `dev` (local server) and `demo` (guided tour)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _dev(args: argparse.Namespace) -> int:
    try:
        from ._server import ServerConfig, serve
    except ImportError:
        print(
            "baxcloud dev needs the server extra: pip install 'baxcloud[server]'", file=sys.stderr
        )
        return 2

    def ready(base_url: str, app: object) -> None:
        print("BaxCloud local server is running.", flush=True)
        print(f"  BAXCLOUD_BASE_URL={base_url}")
        print(f"  BAXCLOUD_API_KEY={app.api_key}")  # type: ignore[attr-defined]
        print(f"  BAXCLOUD_WEBHOOK_SECRET={app.webhook_secret}")  # type: ignore[attr-defined]
        print("Press Ctrl+C to stop.", flush=True)

    config = ServerConfig(
        api_key=args.api_key,
        webhook_secret=args.webhook_secret,
        data_dir=args.data,
        manual_clock=args.manual_clock,
    )
    serve(config, host=args.host, port=args.port, on_ready=ready)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baxcloud", description="BaxCloud Python SDK command line."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
        "--manual-clock", action="store_true", help="time moves only through /_dev/clock/advance"
    )
    dev.set_defaults(handler=_dev)

    demo = commands.add_parser(
        "demo",
        help="walk through the Node SDK quick start against an embedded local server "
        "(or BAXCLOUD_BASE_URL when set)",
    )
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
