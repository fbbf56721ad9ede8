"""Resource commands of the `baxcloud` command line: one table, one generic runner.

    baxcloud rooms list
    baxcloud rooms create standup --max-participants 10 --json
    baxcloud recordings download rec_123 ./downloads

Every command is a row of `RESOURCES`: the SDK method it calls on the blocking
client, and how its arguments map to that method's parameters. Help texts come
from the SDK's docstrings. Output is a table (lists) or `field  value` lines
(one object) by default; `--json` prints the SDK model as JSON instead (snake_case
field names, timestamps as ISO 8601 strings in UTC; lists as an array of every
item, or as a page object when `--page` or `--limit` is given). Errors go to
stderr; the exit status is 0 on success, 1 when the API (or token verification,
or the connection) failed, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .output import Column

__all__ = ["add_resource_commands"]

USAGE_ERROR = 2
API_ERROR = 1


@dataclass(frozen=True)
class Arg:
    """One command-line argument and the SDK parameter it feeds.

    `flags` without a leading dash make a positional argument (the flag is its
    metavar). `into` gathers the value into a mapping passed as that SDK
    parameter (`grants=`, `file=`, `stream=`) under the key `param`.
    Options that are not given are not passed, so the SDK's defaults apply.
    """

    flags: tuple[str, ...]
    param: str
    help: str | None = None
    into: str | None = None
    argparse: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dest(self) -> str:
        return f"sdk:{self.into}:{self.param}" if self.into else f"sdk:{self.param}"


@dataclass(frozen=True)
class Command:
    """One `baxcloud RESOURCE NAME` command.

    output: "one" (a model), "page" (a paged list: adds --page/--limit and walks
    every page unless one is given), "items" (a plain list), "none" (prints
    `done`, formatted with the SDK arguments), "download".
    """

    name: str
    method: str
    args: tuple[Arg, ...] = ()
    output: str = "one"
    done: str = ""
    # Called instead of `method` when no option at all was given (auto-config).
    method_without_args: str | None = None
    # Secret fields always shown as **** (the API masks them too, after creation).
    secret_fields: tuple[str, ...] = ()
    note: str = ""
    summary: str = ""  # instead of the docstring's first paragraph
    prepare: Callable[[dict[str, Any]], None] | None = None


@dataclass(frozen=True)
class Resource:
    sdk_class: str
    columns: tuple[Column, ...]
    commands: tuple[Command, ...]


def _positional(metavar: str, param: str, **kwargs: Any) -> Arg:
    return Arg((metavar,), param, argparse=kwargs)


def _option(flag: str, param: str, help: str | None = None, **kwargs: Any) -> Arg:
    into = kwargs.pop("into", None)
    if kwargs.get("action") != "store_const":
        kwargs.setdefault("metavar", flag.lstrip("-").upper().replace("-", "_"))
    return Arg((flag,), param, help=help, into=into, argparse=kwargs)


def _flag(flag: str, param: str, help: str | None = None, into: str | None = None) -> Arg:
    return Arg((flag,), param, help, into, {"action": argparse.BooleanOptionalAction})


ROOM = _positional("ROOM", "room_name")
IDENTITY = _positional("IDENTITY", "identity")
ROOM_OPTION = _option("--room", "room_name", "only this room", metavar="ROOM")
METADATA = _positional("METADATA", "metadata")
RECORDING_ID = _positional("RECORDING_ID", "recording_id")
EGRESS_ID = _positional("EGRESS_ID", "egress_id")
INGRESS_ID = _positional("INGRESS_ID", "ingress_id")
STATUS = _option("--status", "status", "only this status")
FILE_TYPE = _option("--file-type", "file_type", metavar="{MP4,OGG,WEBM}")
LAYOUT = _option("--layout", "layout", metavar="{speaker,grid,single-speaker}")
QUALITY = _option("--quality", "quality", metavar="{480p,720p,1080p}")
MODE = _option("--mode", "mode", metavar="{record,stream,both}")
STREAM_URL = "an rtmp:// or rtmps:// URL with its stream key (repeat for several)"
SECRETS = ("stream_key", "token")


def _egress_defaults(kwargs: dict[str, Any]) -> None:
    # Recording modes need a file output; MP4 unless --file-type says otherwise.
    if kwargs.get("mode") in ("record", "both") and "file" not in kwargs:
        kwargs["file"] = {"file_type": "MP4"}


def _input_type(value: str) -> str:
    upper = value.upper()
    return {"RTMP": "RTMP_INPUT", "WHIP": "WHIP_INPUT"}.get(upper, upper)


RESOURCES: dict[str, Resource] = {
    "rooms": Resource(
        "SyncRooms",
        (
            ("NAME", "name"),
            ("SID", "sid"),
            ("PARTICIPANTS", "num_participants"),
            ("MAX", "max_participants"),
            ("RECORDING", "active_recording"),
            ("CREATED", "created_at"),
        ),
        (
            Command("list", "list", output="page"),
            Command(
                "create",
                "create",
                (
                    _positional("NAME", "name"),
                    _option("--max-participants", "max_participants", type=int, metavar="N"),
                    _option("--empty-timeout", "empty_timeout", type=int, metavar="SECONDS"),
                    _option("--metadata", "metadata", metavar="TEXT"),
                    _flag("--enable-recording", "enable_recording"),
                ),
            ),
            Command("get", "get", (_positional("NAME", "name"),)),
            Command(
                "delete", "delete", (_positional("NAME", "name"),), "none", "Deleted room {name}."
            ),
            Command("update-metadata", "update_metadata", (_positional("NAME", "name"), METADATA)),
        ),
    ),
    "participants": Resource(
        "SyncParticipants",
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
            Command("list", "list", (ROOM,), output="page"),
            Command("get", "get", (ROOM, IDENTITY)),
            Command(
                "remove",
                "remove",
                (ROOM, IDENTITY),
                "none",
                "Removed {identity} from room {room_name}.",
            ),
            Command("update-metadata", "update_metadata", (ROOM, IDENTITY, METADATA)),
        ),
    ),
    "tokens": Resource(
        "SyncTokens",
        (),
        (
            Command(
                "create",
                "create",
                (
                    ROOM,
                    _positional("IDENTITY", "participant_identity"),
                    _option("--name", "participant_name", metavar="NAME"),
                    _option("--ttl", "ttl", type=int, metavar="SECONDS"),
                    _option("--metadata", "metadata", metavar="TEXT"),
                    _flag("--can-publish", "can_publish", "may publish tracks", "grants"),
                    _flag("--can-subscribe", "can_subscribe", "may subscribe", "grants"),
                    _flag("--can-publish-data", "can_publish_data", "may send data", "grants"),
                    _flag(
                        "--can-update-own-metadata",
                        "can_update_own_metadata",
                        "may update its own metadata",
                        "grants",
                    ),
                    _flag("--room-admin", "room_admin", "room administrator", "grants"),
                    _flag("--hidden", "hidden", "invisible to other participants", "grants"),
                    _option(
                        "--can-publish-source",
                        "can_publish_sources",
                        "a track source it may publish (repeat for several)",
                        into="grants",
                        action="append",
                        metavar="SOURCE",
                    ),
                ),
                note="Prints the token: it is a credential, hand it only to that participant.",
            ),
            Command(
                "verify",
                "verify",
                (_positional("TOKEN", "token", help="the token, or - to read it from stdin"),),
            ),
        ),
    ),
    "recordings": Resource(
        "SyncRecordings",
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
            Command("list", "list", (STATUS, ROOM_OPTION), output="page"),
            Command("list-active", "list_active", (ROOM_OPTION,), output="items"),
            Command("get", "get", (RECORDING_ID,)),
            Command("start", "start", (ROOM, FILE_TYPE)),
            Command("stop", "stop", (EGRESS_ID,)),
            Command(
                "url",
                "get_download_url",
                (
                    RECORDING_ID,
                    _option("--expires-in", "expires_in", type=int, metavar="SECONDS"),
                ),
                note="Prints the URL: anyone holding it can download the file until it expires.",
            ),
            Command(
                "download",
                "download",
                (
                    RECORDING_ID,
                    _positional(
                        "DESTINATION",
                        "destination",
                        help="a file, or a directory to keep the recording's own filename "
                        "(default: the current directory)",
                        nargs="?",
                        default=".",
                    ),
                ),
                output="download",
                note="Shows a progress bar on stderr (--no-progress to hide it) and prints "
                "the file's path.",
            ),
        ),
    ),
    "egress": Resource(
        "SyncEgress",
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
            Command("list", "list", (ROOM_OPTION, STATUS), output="page"),
            Command("get", "get", (EGRESS_ID,)),
            Command(
                "start",
                "start",
                (
                    ROOM,
                    Arg(MODE.flags, "mode", argparse={**MODE.argparse, "required": True}),
                    LAYOUT,
                    QUALITY,
                    _option(
                        "--file-type",
                        "file_type",
                        "file type of the recording (record and both modes; default MP4)",
                        into="file",
                        metavar="{MP4,OGG,WEBM}",
                    ),
                    _option(
                        "--stream-url",
                        "urls",
                        STREAM_URL,
                        into="stream",
                        action="append",
                        metavar="URL",
                    ),
                ),
                prepare=_egress_defaults,
            ),
            Command("stop", "stop", (EGRESS_ID,)),
            Command("delete", "delete", (EGRESS_ID,), "none", "Deleted egress {egress_id}."),
            Command(
                "auto-config",
                "update_auto_stream_config",
                (
                    _flag("--enabled", "enabled", "turn auto-stream on (--no-enabled: off)"),
                    MODE,
                    QUALITY,
                    LAYOUT,
                    _option("--min-participants", "min_participants", type=int, metavar="N"),
                    FILE_TYPE,
                    _option(
                        "--stream-url", "stream_urls", STREAM_URL, action="append", metavar="URL"
                    ),
                    _option(
                        "--no-stream-urls",
                        "stream_urls",
                        "remove every stream URL",
                        action="store_const",
                        const=[],
                    ),
                ),
                method_without_args="get_auto_stream_config",
                summary="Show the project's auto-stream rules, or change some of them.",
                note="Without options, shows the current config; with options, changes "
                "only the settings given (only those are sent) and shows the result. When "
                "enabled, an egress with these settings starts in a room as soon as it "
                "reaches the minimum number of participants, once per room session.",
            ),
        ),
    ),
    "ingress": Resource(
        "SyncIngress",
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
            Command("list", "list", (ROOM_OPTION,), output="page", secret_fields=SECRETS),
            Command("get", "get", (INGRESS_ID,), secret_fields=SECRETS),
            Command(
                "create",
                "create",
                (
                    ROOM,
                    _positional("IDENTITY", "participant_identity"),
                    _option(
                        "--input-type",
                        "input_type",
                        required=True,
                        type=_input_type,
                        metavar="{RTMP_INPUT,WHIP_INPUT}",
                    ),
                    _option("--name", "participant_name", metavar="NAME"),
                    _flag("--enable-transcoding", "enable_transcoding"),
                    _flag("--bypass-transcoding", "bypass_transcoding"),
                ),
                note="Prints the stream key (RTMP) or WHIP token: this is the only time "
                "they are shown (`ingress get` and `ingress list` mask them), so keep them.",
            ),
            Command("delete", "delete", (INGRESS_ID,), "none", "Deleted ingress {ingress_id}."),
        ),
    ),
}


# ---- help texts from the SDK's docstrings ------------------------------------------


def _summary(doc: str | None) -> str:
    """The docstring's first paragraph (later ones cite the OpenAPI document)."""
    first = (doc or "").strip().split("\n\n")[0]
    return " ".join(first.split())


def _param_docs(doc: str | None) -> dict[str, str]:
    """`name: text` entries of the docstring's Args section."""
    docs: dict[str, str] = {}
    in_args, current = False, None
    for line in inspect.cleandoc(doc or "").splitlines():
        if not line.startswith(" "):
            in_args, current = line.strip() == "Args:", None
            continue
        if not in_args:
            continue
        match = re.match(r"    (\w+): (.*)", line)
        if match:
            current = match.group(1)
            docs[current] = match.group(2).strip()
        elif current is not None and line.strip():
            docs[current] += " " + line.strip()
    return docs


def _escape(text: str) -> str:
    return text.replace("%", "%%")


# ---- the parser ------------------------------------------------------------------


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
        "--json",
        dest="json",
        action="store_true",
        help="print JSON on stdout (snake_case fields, ISO 8601 UTC timestamps)",
    )
    return common


def add_resource_commands(commands: Any) -> None:
    """Add one subcommand per resource (and per action under it) to `commands`."""
    from .._sync import client as _sync_client  # already imported by `import baxcloud`

    common = _common_options()
    for resource_name, resource in RESOURCES.items():
        sdk_class = getattr(_sync_client, resource.sdk_class)
        summary = _summary(sdk_class.__doc__)
        resource_parser = commands.add_parser(
            resource_name, help=_escape(summary), description=_escape(summary)
        )
        actions = resource_parser.add_subparsers(
            dest="action", required=True, metavar="ACTION", title="actions"
        )
        for command in resource.commands:
            method = getattr(sdk_class, command.method)
            summary = command.summary or _summary(method.__doc__)
            description = summary
            if command.output == "page":
                description += " Walks every page unless --page or --limit is given."
            if command.note:
                description += " " + command.note
            parser = actions.add_parser(
                command.name,
                parents=[common],
                help=_escape(summary),
                description=_escape(description),
            )
            param_docs = _param_docs(method.__doc__)
            for arg in command.args:
                help_text = arg.help or param_docs.get(arg.param if not arg.into else "") or None
                kwargs = dict(arg.argparse)
                if help_text:
                    kwargs["help"] = _escape(help_text)
                if arg.flags[0].startswith("-"):
                    parser.add_argument(*arg.flags, dest=arg.dest, **kwargs)
                else:
                    parser.add_argument(arg.dest, metavar=arg.flags[0], **kwargs)
            if command.output == "page":
                parser.add_argument("--page", type=int, metavar="N", help="only this page")
                parser.add_argument("--limit", type=int, metavar="N", help="items per page")
            if command.output == "download":
                parser.add_argument(
                    "--no-progress", action="store_true", help="no progress bar on stderr"
                )
            parser.set_defaults(
                handler=functools.partial(_execute, resource_name, resource, command)
            )


# ---- running a command ------------------------------------------------------------


def _sdk_arguments(command: Command, args: argparse.Namespace) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for arg in command.args:
        value = getattr(args, arg.dest)
        if value is None:
            continue
        if arg.into:
            kwargs.setdefault(arg.into, {})[arg.param] = value
        else:
            kwargs[arg.param] = value
    if command.output == "page":
        for name in ("page", "limit"):
            if getattr(args, name) is not None:
                kwargs[name] = getattr(args, name)
    if command.prepare is not None:
        command.prepare(kwargs)
    return kwargs


def _fail(
    args: argparse.Namespace, exit_status: int, code: str | None, message: str, **extra: Any
) -> int:
    if args.json:
        error = {"code": code, "message": message, **extra}
        sys.stderr.write(json.dumps({"error": error}) + "\n")
    else:
        lines = [f"error: {code}: {message}" if code else f"error: {message}"]
        if extra.get("status") is not None:
            lines.append(f"  http status: {extra['status']}")
        if extra.get("request_id"):
            lines.append(f"  request id: {extra['request_id']}")
        for detail in extra.get("details") or ():
            lines.append(f"  {detail.get('field') or '-'}: {detail.get('message')}")
        sys.stderr.write("\n".join(lines) + "\n")
    return exit_status


def _execute(
    resource_name: str, resource: Resource, command: Command, args: argparse.Namespace
) -> int:
    from .._core.errors import (
        APIConnectionError,
        APIStatusError,
        BaxCloudError,
        TokenVerificationError,
    )
    from .._sync.client import BaxCloud

    kwargs = _sdk_arguments(command, args)
    if command.method == "verify" and kwargs.get("token") == "-":
        kwargs["token"] = sys.stdin.read().strip()
    client_options: dict[str, Any] = {"api_key": args.api_key, "base_url": args.base_url}
    if args.timeout is not None:
        client_options["timeout"] = args.timeout
    try:
        client = BaxCloud(**client_options)
    except (BaxCloudError, ValueError, TypeError) as exc:
        return _fail(args, USAGE_ERROR, "configuration", str(exc))

    progress = None
    with client:
        namespace = getattr(client, resource_name)
        method_name = command.method
        if command.method_without_args and not kwargs:
            method_name = command.method_without_args
        if command.output == "download" and not args.no_progress:
            from .output import ProgressBar

            progress = ProgressBar(sys.stderr, kwargs["recording_id"])
            kwargs["progress"] = progress
        try:
            try:
                result = getattr(namespace, method_name)(**kwargs)
            finally:
                if progress is not None:
                    progress.finish()
            if command.output == "page" and not ("page" in kwargs or "limit" in kwargs):
                result = list(result)  # every item of every page
        except APIStatusError as exc:
            return _fail(
                args,
                API_ERROR,
                exc.code,
                exc.message,
                status=exc.status_code,
                request_id=exc.request_id,
                details=[{"field": d.field, "message": d.message} for d in exc.details],
            )
        except TokenVerificationError as exc:
            return _fail(args, API_ERROR, "token_invalid", str(exc))
        except APIConnectionError as exc:
            return _fail(args, API_ERROR, "connection_error", str(exc))
        except BaxCloudError as exc:
            return _fail(args, API_ERROR, None, str(exc))
        except (TypeError, ValueError) as exc:  # the SDK's argument checks
            return _fail(args, USAGE_ERROR, "invalid_argument", str(exc))
    _print_result(resource, command, args, kwargs, result)
    return 0


def _masked(data: Any, fields: Sequence[str]) -> Any:
    from .output import MASK

    if isinstance(data, list):
        return [_masked(item, fields) for item in data]
    return {k: MASK if k in fields and v is not None else v for k, v in data.items()}


def _print_result(
    resource: Resource,
    command: Command,
    args: argparse.Namespace,
    kwargs: Mapping[str, Any],
    result: Any,
) -> None:
    from .output import print_json, render_detail, render_table, table_data, to_data

    out = sys.stdout
    if command.output == "none":
        if args.json:
            print_json({"ok": True}, out)
        else:
            out.write(command.done.format(**kwargs) + "\n")
        return
    if command.output == "download":
        size = result.stat().st_size
        if args.json:
            print_json(
                {"recording_id": kwargs["recording_id"], "path": str(result), "size_bytes": size},
                out,
            )
        else:
            out.write(f"{result} ({size} bytes)\n")
        return

    hidden = command.secret_fields
    convert = to_data if args.json else table_data
    paged = command.output == "page" and not isinstance(result, list)
    items = result.items if paged else result
    if command.output in ("page", "items"):
        data = _masked([convert(item) for item in items], hidden)
        if args.json:
            if paged:
                data = {
                    "items": data,
                    "page": result.page,
                    "limit": result.limit,
                    "total": result.total,
                    "has_more": result.has_more,
                }
            print_json(data, out)
            return
        render_table(data, resource.columns, out)
        if paged:
            more = f"; next: --page {result.page + 1}" if result.has_more else ""
            sys.stderr.write(
                f"page {result.page} (limit {result.limit}): {len(items)} of {result.total}{more}\n"
            )
        return
    data = _masked(convert(result), hidden)
    if args.json:
        print_json(data, out)
    else:
        render_detail(data, out)
