"""`baxcloud simulate`: act out media clients against a running `baxcloud dev`.

`join` mints a token with the configured API key and joins with it, as a client app
would; `leave`, `publish` and `unpublish` do the rest. They go through the local
server's `/_dev` endpoints (the same calls as `LocalServer.join`, ...), so the
server records the events and delivers its webhooks as for real clients.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..testing import LocalServer

TRACK_KINDS = ("audio", "video", "data")
TRACK_SOURCES = ("camera", "microphone", "screen_share", "screen_share_audio", "unknown")


class _Failed(Exception):
    """A one-line reason to stop (printed as `baxcloud simulate: error: ...`)."""


def _join(server: LocalServer, args: argparse.Namespace) -> list[str]:
    with server.client() as client:
        token = client.tokens.create(
            room_name=args.room, participant_identity=args.identity, participant_name=args.name
        )
    joined = server.join(token)
    shown = f"{joined.identity} ({joined.name})" if joined.name else joined.identity
    return [f"{shown} joined room {args.room!r} as {joined.sid}"]


def _leave(server: LocalServer, args: argparse.Namespace) -> list[str]:
    server.leave(args.room, args.identity)
    return [f"{args.identity} left room {args.room!r}"]


def _publish(server: LocalServer, args: argparse.Namespace) -> list[str]:
    lines = []
    for kind in args.kind or ["video"]:
        track = server.publish_track(
            args.room, args.identity, kind=kind, source=args.source, name=args.track_name
        )
        article = "an" if track.kind == "audio" else "a"
        lines.append(
            f"{args.identity} published {article} {track.kind} track ({track.sid}, "
            f"source {track.source}) in room {args.room!r}"
        )
    return lines


def _unpublish(server: LocalServer, args: argparse.Namespace) -> list[str]:
    sids = args.track
    if not sids:
        with server.client() as client:
            participant = client.participants.get(args.room, args.identity)
        sids = [track.sid for track in participant.tracks]
        if not sids:
            return [f"{args.identity} has no published track in room {args.room!r}"]
    for sid in sids:
        server.unpublish_track(args.room, args.identity, sid)
    return [f"{args.identity} unpublished track {sid} in room {args.room!r}" for sid in sids]


def _explain(exc: Exception, base_url: str) -> str:
    """One line saying what went wrong, never echoing a key."""
    from .._core.errors import (
        APIConnectionError,
        APIResponseValidationError,
        APIStatusError,
        AuthenticationError,
    )

    not_local = (
        f"{base_url} is not a local BaxCloud server (it has no /_dev simulation endpoints); "
        "point BAXCLOUD_BASE_URL at `baxcloud dev`"
    )
    if isinstance(exc, APIConnectionError):
        return f"no server reachable at {base_url}: is `baxcloud dev` running there?"
    if isinstance(exc, AuthenticationError):
        return (
            f"the server at {base_url} rejected the API key: use the BAXCLOUD_API_KEY "
            "that its `baxcloud dev` printed (it changes on every restart without --data)"
        )
    if isinstance(exc, APIResponseValidationError):
        return not_local
    if isinstance(exc, APIStatusError):
        # The local server says which thing is missing (`room_not_found`, ...); a bare
        # 404 or 405 means the endpoint itself is not there.
        if exc.status_code == 404 and exc.code.endswith("_not_found"):
            return exc.message
        if exc.status_code in (404, 405):
            return not_local
        return str(exc)
    return str(exc)


def _run(action: Callable[[LocalServer, argparse.Namespace], list[str]], args: Any) -> int:
    from .._core.errors import BaxCloudError
    from ..testing import LocalServer

    prog = f"baxcloud simulate {args.action}"
    base_url = args.base_url or os.environ.get("BAXCLOUD_BASE_URL")
    if not base_url:
        print(
            f"{prog}: error: no server: set BAXCLOUD_BASE_URL (and BAXCLOUD_API_KEY) to what "
            "`baxcloud dev` printed, or pass --base-url",
            file=sys.stderr,
        )
        return 2
    try:
        server = LocalServer.connect(base_url, api_key=args.api_key)
    except BaxCloudError as exc:  # no API key, or a malformed one, or a bad URL
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    try:
        lines = action(server, args)
    except BaxCloudError as exc:
        print(f"{prog}: error: {_explain(exc, server.base_url)}", file=sys.stderr)
        return 1
    finally:
        server.stop()
    for line in lines:
        print(line)
    return 0


def _add(
    actions: Any,
    name: str,
    help_text: str,
    action: Callable[[LocalServer, argparse.Namespace], list[str]],
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(
        name, help=help_text, description=help_text
    )
    # Also under the SDK's parameter names, as the resource commands take them.
    parser.add_argument(
        "--room", "--room-name", dest="room", required=True, metavar="NAME", help="the room"
    )
    parser.add_argument(
        "--identity",
        "--participant-identity",
        dest="identity",
        required=True,
        metavar="ID",
        help="the participant",
    )
    parser.add_argument(
        "--base-url", help="the local server (default: BAXCLOUD_BASE_URL, as `baxcloud dev` prints)"
    )
    parser.add_argument(
        "--api-key",
        help="bax_sk_... (default: BAXCLOUD_API_KEY; prefer the variable: "
        "arguments are visible to other users of this machine)",
    )

    def handler(args: argparse.Namespace) -> int:
        return _run(action, args)

    parser.set_defaults(handler=handler)
    return parser


def register(commands: Any) -> None:
    """Add `simulate` to the `baxcloud` subcommands (`commands` from `add_subparsers`)."""
    simulate = commands.add_parser(
        "simulate",
        help="act out participants on a running `baxcloud dev` (join, leave, publish, unpublish)",
        description="Act out what media clients do, on the local server at BAXCLOUD_BASE_URL "
        "(with BAXCLOUD_API_KEY): the server records the events and delivers their webhooks.",
    )
    actions = simulate.add_subparsers(dest="action", required=True, metavar="ACTION")
    join = _add(
        actions,
        "join",
        "mint a token for IDENTITY in ROOM with the API key and join with it "
        "(the room is created if needed)",
        _join,
    )
    join.add_argument(
        "--name", "--participant-name", dest="name", metavar="NAME", help="display name"
    )
    _add(actions, "leave", "disconnect a participant, as if its client left", _leave)
    publish = _add(actions, "publish", "publish tracks for a joined participant", _publish)
    publish.add_argument(
        "--kind",
        action="extend",
        nargs="+",
        choices=TRACK_KINDS,
        help="one track per kind given (default: one video track)",
    )
    publish.add_argument("--source", choices=TRACK_SOURCES, default=None)
    publish.add_argument("--track-name", default=None, metavar="NAME", help="the track's name")
    unpublish = _add(actions, "unpublish", "unpublish a participant's tracks", _unpublish)
    unpublish.add_argument(
        "--track",
        action="append",
        metavar="SID",
        help="the track to unpublish (repeatable; default: every published track)",
    )
