"""`baxcloud dev`: the local server in the foreground, logging what it serves.

Activity (the credentials, then a line per request and per webhook attempt) goes
to stdout; warnings and errors go to stderr. The heading is shell syntax (`export`
lines and `#` comments) so that it can be pasted into a shell as it is.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._server import LocalBaxCloudApp

EXPORT = "export "
READY = "# Press Ctrl+C to stop."
DEFAULT_PORT = 7880


def export_line(name: str, value: str) -> str:
    return f"{EXPORT}{name}={shlex.quote(value)}"


def parse_export_line(line: str) -> tuple[str, str] | None:
    """`("BAXCLOUD_API_KEY", "bax_sk_...")` from a line `baxcloud dev` printed, else None.

    For programs that start `baxcloud dev` and read its settings (tests, benchmarks).
    """
    if not line.startswith(EXPORT + "BAXCLOUD_"):
        return None
    words = shlex.split(line[len(EXPORT) :])
    if len(words) != 1:
        return None
    name, _, value = words[0].partition("=")
    return name, value


def _say(line: str) -> None:
    with contextlib.suppress(OSError):  # stdout went away (`baxcloud dev | head`): serve on
        print(line, flush=True)


def _heading(args: argparse.Namespace, base_url: str, app: LocalBaxCloudApp) -> list[str]:
    from .._server.state.rooms import DEFAULT_EMPTY_TIMEOUT

    lines = [
        f"# BaxCloud local server on {base_url}. To use it from a shell, paste:",
        export_line("BAXCLOUD_BASE_URL", base_url),
        export_line("BAXCLOUD_API_KEY", app.api_key),
        export_line("BAXCLOUD_WEBHOOK_SECRET", app.webhook_secret),
    ]
    if args.data is None:
        lines.append(
            "# The key and the secret change on every restart; "
            "start with --data DIR to keep them (and the state)."
        )
    else:
        lines.append(f"# The key, the secret and the state are kept in {args.data}.")
    lines.append(
        f"# A room closes {DEFAULT_EMPTY_TIMEOUT} s after it is left empty "
        "(its emptyTimeout, unless created with another)."
    )
    faults = app.config.faults
    if faults.rate > 0:
        kinds = "+".join(faults.kinds)
        lines.append(f"# Faults: rate={faults.rate:g} kinds={kinds} seed={faults.seed}")
    if not args.quiet:
        lines.append("# Requests and webhook deliveries are logged below (--quiet: not).")
    lines.append(READY)
    return lines


def _dev(args: argparse.Namespace) -> int:
    try:
        from urllib.parse import urlsplit

        from .._server import CannotListen, DataDirectoryInUse, ServerConfig, serve
        from .._server._faults import parse_fault_spec
        from .._server._serve import exposure_warning
    except ImportError:
        print(
            "baxcloud dev needs the server extra: pip install 'baxcloud[server]'", file=sys.stderr
        )
        return 2

    def ready(base_url: str, app: LocalBaxCloudApp) -> None:
        warning = exposure_warning(args.host, urlsplit(base_url).port or args.port)
        if warning is not None:
            print(f"baxcloud dev: warning: {warning}", file=sys.stderr, flush=True)
        _say("\n".join(_heading(args, base_url, app)))

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
        serve(
            config,
            host=args.host,
            port=args.port,
            on_ready=ready,
            log=None if args.quiet else _say,
        )
    except (DataDirectoryInUse, CannotListen) as exc:
        print(f"baxcloud dev: error: {exc}", file=sys.stderr)
        return 1
    return 0


def register(commands: Any) -> None:
    """Add `dev` to the `baxcloud` subcommands (`commands` from `add_subparsers`)."""
    dev = commands.add_parser("dev", help="run the local BaxCloud server")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=DEFAULT_PORT)
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
    dev.add_argument(
        "--quiet",
        action="store_true",
        help="do not log each request and webhook delivery attempt",
    )
    dev.set_defaults(handler=_dev)
