"""Resource commands of the `baxcloud` command line: one table, one generic runner.

    baxcloud rooms list
    baxcloud rooms create --name standup --max-participants 10 --json
    baxcloud recordings download rec_123 ./downloads

Every command is a row of `RESOURCES`: the SDK method it calls on the blocking
client and its arguments, named after that method's parameters (see `spec.py`).
Output is a table (lists) or `field  value` lines (one object) by default;
`--json` prints the SDK model as JSON instead (snake_case field names,
timestamps as ISO 8601 strings in UTC; lists as an array of every item, or as a
page object when `--page` or `--limit` is given). Errors are one line on stderr;
the exit status is 0 on success, 1 when the API (or token verification, or the
connection) failed, 2 for usage errors.

Registering the parsers loads no part of the SDK: `run.py` does, once a command runs.
"""

from __future__ import annotations

import argparse
import functools
from typing import Any

from .spec import Command, Resource, flag, option, positional

__all__ = ["RESOURCES", "register"]


def _egress_defaults(kwargs: dict[str, Any]) -> None:
    # Recording modes need a file output; MP4 unless --file-type says otherwise.
    if kwargs.get("mode") in ("record", "both") and "file" not in kwargs:
        kwargs["file"] = {"file_type": "MP4"}


def _input_type(value: str) -> str:
    upper = value.upper()
    return {"RTMP": "RTMP_INPUT", "WHIP": "WHIP_INPUT"}.get(upper, upper)


FILE_TYPES = "{MP4,OGG,WEBM}"
MODES = "{record,stream,both}"
LAYOUTS = "{speaker,grid,single-speaker}"
QUALITIES = "{480p,720p,1080p}"
STATUSES = "{starting,active,ending,completed,failed,aborted}"
INPUT_TYPES = "{RTMP_INPUT,WHIP_INPUT}"
TRACK_SOURCES = "{camera,microphone,screen_share,screen_share_audio}"

NAME = positional("name", "the room's name")
ROOM_NAME = positional("room_name", "the room's name")
IDENTITY = positional("identity", "the participant's identity")
RECORDING_ID = positional("recording_id", "the recording's id (rec_...)")
EGRESS_ID = positional("egress_id", "the egress's id (EG_...)")
INGRESS_ID = positional("ingress_id", "the ingress's id (IN_...)")
ONLY_ROOM = option("room_name", "only those of this room")
METADATA = positional("metadata", "the new metadata: any text, such as JSON")
METADATA_OPTION = option("metadata", "any text, such as JSON, that apps can read")
STREAM_URLS_HELP = "RTMP(S) URLs with their stream keys (1-5; repeat or list several)"

RESOURCES: dict[str, Resource] = {
    "rooms": Resource(
        "SyncRooms",
        "Create, show, list, update and delete rooms.",
        (
            ("NAME", "name"),
            ("SID", "sid"),
            ("PARTICIPANTS", "num_participants"),
            ("MAX", "max_participants"),
            ("RECORDING", "active_recording"),
            ("CREATED", "created_at"),
        ),
        (
            Command("list", "list", "List rooms, oldest first.", output="page"),
            Command(
                "create",
                "create",
                "Create a room and show it.",
                (
                    option("name", "a unique room name, 1-256 characters", required=True),
                    option(
                        "max_participants",
                        "the most participants at once (default 0: unlimited)",
                        type=int,
                        metavar="N",
                    ),
                    option(
                        "empty_timeout",
                        "seconds the room may stay empty before it closes (default 300)",
                        type=int,
                        metavar="SECONDS",
                    ),
                    METADATA_OPTION,
                    flag(
                        "enable_recording",
                        "start a cloud recording when the first participant joins",
                    ),
                ),
            ),
            Command("get", "get", "Show a room.", (NAME,)),
            Command(
                "delete",
                "delete",
                "Delete a room: its participants are disconnected and its egress stops.",
                (NAME,),
                "none",
                "Deleted room {name}.",
            ),
            Command(
                "update-metadata",
                "update_metadata",
                "Replace a room's metadata and show the room.",
                (NAME, METADATA),
            ),
        ),
        shown_as={"max_participants": {0: "unlimited"}},
    ),
    "participants": Resource(
        "SyncParticipants",
        "List, show, update and remove the participants of a room.",
        (
            ("IDENTITY", "identity"),
            ("NAME", "name"),
            ("SID", "sid"),
            ("STATE", "state"),
            ("PUBLISHER", "is_publisher"),
            ("TRACKS", "#tracks"),
            ("JOINED", "joined_at"),
        ),
        (
            Command(
                "list",
                "list",
                "List a room's participants, in order of joining.",
                (ROOM_NAME,),
                output="page",
            ),
            Command("get", "get", "Show a participant and its tracks.", (ROOM_NAME, IDENTITY)),
            Command(
                "remove",
                "remove",
                "Disconnect a participant from a room.",
                (ROOM_NAME, IDENTITY),
                "none",
                "Removed {identity} from room {room_name}.",
            ),
            Command(
                "update-metadata",
                "update_metadata",
                "Replace a participant's metadata and show the participant.",
                (ROOM_NAME, IDENTITY, METADATA),
            ),
        ),
    ),
    "tokens": Resource(
        "SyncTokens",
        "Mint and check participant access tokens, locally (no network call).",
        (),
        (
            Command(
                "create",
                "create",
                "Mint an access token that lets a participant join a room.",
                (
                    option("room_name", "the room the token lets its holder join", required=True),
                    option(
                        "participant_identity",
                        "the participant's identity, unique in the room",
                        required=True,
                        metavar="IDENTITY",
                    ),
                    option("participant_name", "the participant's display name", metavar="NAME"),
                    option(
                        "ttl",
                        "how long the token is valid, 1 s to 7 days (default 3600)",
                        type=int,
                        metavar="SECONDS",
                    ),
                    METADATA_OPTION,
                    flag("can_publish", "may publish tracks (default yes)", into="grants"),
                    flag("can_subscribe", "may subscribe to tracks (default yes)", into="grants"),
                    flag("can_publish_data", "may send data (default yes)", into="grants"),
                    flag(
                        "can_update_own_metadata",
                        "may update its own metadata (default no)",
                        into="grants",
                    ),
                    flag("room_admin", "may administer the room", into="grants"),
                    flag("hidden", "invisible to other participants", into="grants"),
                    option(
                        "can_publish_sources",
                        "only these track sources may be published",
                        into="grants",
                        action="extend",
                        nargs="+",
                        metavar=TRACK_SOURCES,
                    ),
                ),
                note="Prints the token: it is a credential, hand it only to that participant.",
            ),
            Command(
                "verify",
                "verify",
                "Check that a token was minted with this API key and is current; show its claims.",
                (positional("token", "the token, or - to read it from stdin"),),
            ),
        ),
    ),
    "recordings": Resource(
        "SyncRecordings",
        "Record rooms to files; list, show and download the recordings.",
        (
            ("ID", "id"),
            ("ROOM", "room_name"),
            ("STATUS", "status"),
            ("TYPE", "file_type"),
            ("SIZE", "size_bytes"),
            ("DURATION", "duration_seconds"),
            ("EGRESS", "egress_id"),
            ("CREATED", "created_at"),
        ),
        (
            Command(
                "list",
                "list",
                "List recordings, oldest first.",
                (option("status", "only recordings in this state", metavar=STATUSES), ONLY_ROOM),
                output="page",
            ),
            Command(
                "list-active",
                "list_active",
                "List the recordings running now.",
                (positional("room_name", "only those of this room", nargs="?"),),
                output="items",
            ),
            Command("get", "get", "Show a recording.", (RECORDING_ID,)),
            Command(
                "start",
                "start",
                "Start recording a room and show the new recording.",
                (
                    option("room_name", "the room to record", required=True),
                    option("file_type", "the file's type (default MP4)", metavar=FILE_TYPES),
                ),
            ),
            Command(
                "stop",
                "stop",
                "Stop a recording, named by its egress id (EGRESS in `recordings list`); "
                "it ends, then completes once its file is ready.",
                (EGRESS_ID,),
            ),
            Command(
                "url",
                "get_download_url",
                "Print a pre-signed URL for a completed recording's file.",
                (
                    RECORDING_ID,
                    option(
                        "expires_in",
                        "how long the URL is valid, 60 s to 7 days (default 3600)",
                        type=int,
                        metavar="SECONDS",
                    ),
                ),
                note="Anyone holding the URL can download the file until it expires.",
            ),
            Command(
                "download",
                "download",
                "Download a completed recording's file, resuming an interrupted download.",
                (
                    RECORDING_ID,
                    positional(
                        "destination",
                        "a file, or a directory to keep the recording's own filename "
                        "(default: the current directory)",
                        nargs="?",
                        default=".",
                    ),
                ),
                output="download",
                note="The file is written as DESTINATION.part and renamed once complete; "
                "after Ctrl-C or a failure, the same command resumes where it stopped. "
                "Shows a progress bar on a terminal (--no-progress to hide it) and prints "
                "the file's path.",
            ),
        ),
    ),
    "egress": Resource(
        "SyncEgress",
        "Record rooms and stream them to RTMP destinations; auto-stream rules.",
        (
            ("ID", "id"),
            ("ROOM", "room_name"),
            ("MODE", "mode"),
            ("STATUS", "status"),
            ("QUALITY", "quality"),
            ("LAYOUT", "layout"),
            ("RECORDING", "recording_id"),
            ("CREATED", "created_at"),
        ),
        (
            Command(
                "list",
                "list",
                "List egress, oldest first.",
                (ONLY_ROOM, option("status", "only egress in this state", metavar=STATUSES)),
                output="page",
            ),
            Command("get", "get", "Show an egress and each destination's status.", (EGRESS_ID,)),
            Command(
                "start",
                "start",
                "Start recording and/or streaming a room and show the new egress.",
                (
                    option("room_name", "the room to capture", required=True),
                    option(
                        "mode",
                        "record to a file, stream to RTMP, or both",
                        required=True,
                        metavar=MODES,
                    ),
                    option("layout", "the video layout (default speaker)", metavar=LAYOUTS),
                    option("quality", "the video quality (default 720p)", metavar=QUALITIES),
                    option(
                        "file_type",
                        "the recording's file type (record and both modes; default MP4)",
                        into="file",
                        metavar=FILE_TYPES,
                    ),
                    option(
                        "urls",
                        STREAM_URLS_HELP + " (stream and both modes)",
                        flag="--stream-urls",
                        into="stream",
                        action="extend",
                        nargs="+",
                        metavar="URL",
                    ),
                ),
                prepare=_egress_defaults,
            ),
            Command(
                "stop",
                "stop",
                "Stop an egress; it ends, then completes.",
                (EGRESS_ID,),
            ),
            Command(
                "delete",
                "delete",
                "Delete a finished egress.",
                (EGRESS_ID,),
                "none",
                "Deleted egress {egress_id}.",
            ),
            Command(
                "auto-config",
                "update_auto_stream_config",
                "Show the project's auto-stream rules, or change some of them.",
                (
                    flag("enabled", "turn auto-stream on (--no-enabled: off)"),
                    option("mode", "record, stream or both", metavar=MODES),
                    option("quality", "the video quality", metavar=QUALITIES),
                    option("layout", "the video layout", metavar=LAYOUTS),
                    option(
                        "min_participants",
                        "participants a room needs before its egress starts",
                        type=int,
                        metavar="N",
                    ),
                    option("file_type", "the recordings' file type", metavar=FILE_TYPES),
                    option(
                        "stream_urls",
                        STREAM_URLS_HELP,
                        action="extend",
                        nargs="+",
                        metavar="URL",
                    ),
                    option(
                        "stream_urls",
                        "remove every stream URL",
                        flag="--no-stream-urls",
                        action="store_const",
                        const=[],
                    ),
                ),
                method_without_args="get_auto_stream_config",
                note="Without options, shows the current rules; with options, changes "
                "only the settings given and shows the result. When enabled, an egress "
                "with these settings starts in a room as soon as it reaches the minimum "
                "number of participants, once per room session.",
            ),
        ),
    ),
    "ingress": Resource(
        "SyncIngress",
        "Stream into rooms from OBS (RTMP) or a browser (WHIP).",
        (
            ("ID", "id"),
            ("TYPE", "input_type"),
            ("ROOM", "room_name"),
            ("IDENTITY", "participant_identity"),
            ("STATUS", "status"),
            ("URL", "rtmps_url|whip_url"),
            ("CREATED", "created_at"),
        ),
        (
            Command(
                "list",
                "list",
                "List ingress endpoints, oldest first (stream keys and tokens masked).",
                (ONLY_ROOM,),
                output="page",
                secret_fields=("stream_key", "token"),
            ),
            Command(
                "get",
                "get",
                "Show an ingress endpoint and its status (stream key and token masked).",
                (INGRESS_ID,),
                secret_fields=("stream_key", "token"),
            ),
            Command(
                "create",
                "create",
                "Create an endpoint that publishes a stream into a room.",
                (
                    option(
                        "input_type",
                        "RTMP_INPUT (an RTMPS URL and stream key, for OBS) or WHIP_INPUT "
                        "(a WHIP URL and bearer token); RTMP and WHIP work too",
                        required=True,
                        type=_input_type,
                        metavar=INPUT_TYPES,
                    ),
                    option("room_name", "the room the stream goes into", required=True),
                    option(
                        "participant_identity",
                        "the identity of the participant that carries the stream",
                        required=True,
                        metavar="IDENTITY",
                    ),
                    option("participant_name", "its display name", metavar="NAME"),
                    flag("enable_transcoding", "transcode the input into simulcast layers"),
                    flag(
                        "bypass_transcoding",
                        "pass the input through as is (WHIP only; not with transcoding)",
                    ),
                ),
                note="Prints the stream key (RTMP) or WHIP token: this is the only time "
                "they are shown (`ingress get` and `ingress list` mask them), so keep them.",
            ),
            Command(
                "delete",
                "delete",
                "Delete an ingress endpoint; a live stream on it ends first.",
                (INGRESS_ID,),
                "none",
                "Deleted ingress {ingress_id}.",
            ),
        ),
    ),
}


def _escape(text: str) -> str:
    return text.replace("%", "%%")


def _listed(sentence: str) -> str:
    """A help sentence as a command list shows it, like `dev`'s: `list rooms, oldest first`."""
    return _escape(sentence[:1].lower() + sentence[1:].removesuffix("."))


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection and output")
    group.add_argument(
        "--api-key",
        dest="api_key",
        help="bax_sk_... (default: BAXCLOUD_API_KEY; prefer the variable: "
        "arguments are visible to other users of this machine)",
    )
    group.add_argument(
        "--base-url", dest="base_url", help="API URL (default: BAXCLOUD_BASE_URL, else hosted)"
    )
    group.add_argument(
        "--timeout", dest="timeout", type=float, metavar="SECONDS", help="per attempt"
    )
    group.add_argument(
        "--max-retries",
        dest="max_retries",
        type=int,
        metavar="N",
        help="retries of a failed attempt that is safe to retry (default 2)",
    )
    group.add_argument(
        "--json",
        dest="json",
        action="store_true",
        help="print JSON on stdout (snake_case fields, ISO 8601 UTC timestamps)",
    )
    return common


def register(commands: Any) -> None:
    """Add one subcommand per resource (and per action under it) to `commands`.

    A resource's actions are added when its parser is first used (see
    `parsing.CommandParser`).
    """
    for resource_name, resource in RESOURCES.items():
        commands.add_parser(
            resource_name,
            help=_listed(resource.help),
            description=_escape(resource.help),
            complete=functools.partial(_add_actions, resource_name, resource),
        )


def _add_actions(
    resource_name: str, resource: Resource, resource_parser: argparse.ArgumentParser
) -> None:
    common = _common_options()
    actions = resource_parser.add_subparsers(
        dest="action", required=True, metavar="ACTION", title="actions"
    )
    for command in resource.commands:
        _add_command(actions, common, resource_name, resource, command)


def _add_command(
    actions: Any,
    common: argparse.ArgumentParser,
    resource_name: str,
    resource: Resource,
    command: Command,
) -> None:
    description = command.help
    if command.output == "page":
        description += " Walks every page unless --page or --limit is given."
    if command.note:
        description += " " + command.note
    parser = actions.add_parser(
        command.name,
        parents=[common],
        help=_listed(command.help),
        description=_escape(description),
    )
    for arg in command.args:
        kwargs = {"help": _escape(arg.help), **arg.options}
        if arg.is_positional:
            parser.add_argument(arg.dest, metavar=arg.name, **kwargs)
        else:
            parser.add_argument(arg.name, dest=arg.dest, **kwargs)
    if command.output == "page":
        parser.add_argument("--page", type=int, metavar="N", help="only this page")
        parser.add_argument("--limit", type=int, metavar="N", help="items per page")
    if command.output == "download":
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(
        handler=functools.partial(_run, resource_name, resource, command, parser.prog)
    )


def _run(
    resource_name: str, resource: Resource, command: Command, prog: str, args: argparse.Namespace
) -> int:
    from .run import run_command

    return run_command(resource_name, resource, command, prog, args)
