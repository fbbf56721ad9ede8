"""The resource commands of `baxcloud`, run in-process against a local server.

test_cli_startup.py runs the console script itself, in subprocesses."""

from __future__ import annotations

import inspect
import io
import json
import re
import sys
import typing
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from baxcloud import BaxCloud
from baxcloud._cli.main import main
from baxcloud._cli.resources import RESOURCES
from baxcloud.testing import LocalServer

SECRET_KEY = "TWITCHSECRET123"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(manual_clock=True, egress_start_delay=0, egress_stop_delay=0) as srv:
        yield srv


@pytest.fixture
def env(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    monkeypatch.setenv("BAXCLOUD_API_KEY", server.api_key)
    monkeypatch.setenv("BAXCLOUD_BASE_URL", server.base_url)
    return server


@pytest.fixture
def client(server: LocalServer) -> Iterator[BaxCloud]:
    with server.client() as c:
        yield c


class Run:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
            code = int(exc.code or 0)
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def json(self, *argv: str) -> Any:
        code, out, err = self(*argv, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], env: LocalServer) -> Run:
    return Run(capsys)


def sdk_view(model: Any) -> Any:
    """What `--json` should print: the model's fields, snake_case, ISO timestamps."""

    def serialize(_: Any, __: Any, value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    return json.loads(json.dumps(attrs.asdict(model, value_serializer=serialize)))


_counter = iter(range(10**6))


def unique(prefix: str) -> str:
    return f"cli-{prefix}-{next(_counter)}"


def assert_api_error(code: int, err: str, error_code: str, command: str) -> None:
    """One line: `baxcloud rooms get: error: MESSAGE (CODE, HTTP NNN, request id req_...)`."""
    assert code == 1
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(f"baxcloud {command}: error: "), err
    assert re.search(rf" \({error_code}, HTTP \d{{3}}, request id req_\w+\)\n$", err), err


# ---- rooms ------------------------------------------------------------------------


def test_rooms_create_get_update_delete(cli: Run, client: BaxCloud) -> None:
    name = unique("room")
    code, out, err = cli(
        "rooms", "create", "--name", name, "--max-participants", "7", "--metadata", "hi"
    )
    assert code == 0, err
    room = client.rooms.get(name)
    assert f"name              {name}\n" in out
    assert "max_participants  7\n" in out
    assert f"sid               {room.sid}\n" in out

    assert cli.json("rooms", "get", name) == sdk_view(room)
    updated = cli.json("rooms", "update-metadata", name, '{"a": 1}')
    assert updated["metadata"] == '{"a": 1}' == client.rooms.get(name).metadata

    code, out, _ = cli("rooms", "delete", name)
    assert (code, out) == (0, f"Deleted room {name}.\n")
    code, out, err = cli("rooms", "get", name)
    assert_api_error(code, err, "room_not_found", "rooms get")
    assert f"error: room '{name}' does not exist (" in err
    assert out == ""


def test_rooms_list_walks_every_page_unless_paged(capsys: pytest.CaptureFixture[str]) -> None:
    with LocalServer() as own:
        with own.client() as c:
            names = [c.rooms.create(name=f"room-{i:02d}").name for i in range(23)]
        run = Run(capsys)
        flags = ("--api-key", own.api_key, "--base-url", own.base_url)

        everything = run.json("rooms", "list", *flags)
        assert [r["name"] for r in everything] == names  # more than one page (20)

        code, out, err = run("rooms", "list", *flags)
        assert code == 0
        lines = out.splitlines()
        assert lines[0].split() == ["NAME", "SID", "PARTICIPANTS", "MAX", "RECORDING", "CREATED"]
        assert [line.split()[0] for line in lines[1:]] == names

        page = run.json("rooms", "list", "--page", "2", "--limit", "5", *flags)
        assert [r["name"] for r in page["items"]] == names[5:10]
        assert (page["page"], page["limit"], page["total"], page["has_more"]) == (2, 5, 23, True)

        code, out, err = run("rooms", "list", "--limit", "20", *flags)
        assert len(out.splitlines()) == 21
        assert "page 1 (limit 20): 20 of 23; next: --page 2" in err


# ---- participants -----------------------------------------------------------------


def test_participants(cli: Run, client: BaxCloud, server: LocalServer) -> None:
    room = unique("people")
    client.rooms.create(name=room)
    for identity in ("ann", "bob"):
        server.join(client.tokens.create(room_name=room, participant_identity=identity))
    server.publish_track(room, "ann", kind="audio", source="microphone")

    code, out, _ = cli("participants", "list", room)
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["IDENTITY", "NAME", "SID", "STATE", "PUBLISHER", "TRACKS", "JOINED"]
    assert [(r[0], r[4], r[5]) for r in rows[1:]] == [("ann", "yes", "1"), ("bob", "no", "0")]

    assert cli.json("participants", "list", room) == [
        sdk_view(p) for p in client.participants.list(room)
    ]
    code, out, _ = cli("participants", "get", room, "ann")
    assert "tracks[0].source                    microphone" in out
    assert cli.json("participants", "get", room, "ann") == sdk_view(
        client.participants.get(room, "ann")
    )

    updated = cli.json("participants", "update-metadata", room, "bob", "role=viewer")
    assert updated["metadata"] == "role=viewer"

    code, out, _ = cli("participants", "remove", room, "bob")
    assert (code, out) == (0, f"Removed bob from room {room}.\n")
    assert cli.json("participants", "list", room)[0]["identity"] == "ann"
    code, _, err = cli("participants", "get", room, "bob")
    assert_api_error(code, err, "participant_not_found", "participants get")


# ---- tokens -----------------------------------------------------------------------


def test_tokens_create_and_verify(
    cli: Run, client: BaxCloud, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = unique("tok")
    code, out, err = cli(
        "tokens",
        "create",
        *("--room-name", room, "--participant-identity", "viewer"),
        *("--participant-name", "Vee", "--ttl", "600", "--no-can-publish"),
    )
    assert code == 0, err
    token = dict(line.split(None, 1) for line in out.splitlines())["token"]
    claims = client.tokens.verify(token)
    assert (claims.identity, claims.name, claims.room_name) == ("viewer", "Vee", room)
    assert claims.grants.can_publish is False
    assert server.join(token).identity == "viewer"

    data = cli.json(
        "tokens",
        "create",
        *("--room-name", room, "--participant-identity", "host"),
        *("--room-admin", "--can-publish-sources", "camera", "microphone"),
    )
    assert set(data) == {"token", "identity", "room_name", "expires_at"}
    grants = client.tokens.verify(data["token"]).grants
    assert grants.room_admin is True
    assert grants.can_publish_sources == ("camera", "microphone")

    verified = cli.json("tokens", "verify", token)
    assert verified == sdk_view(claims)
    monkeypatch.setattr(sys, "stdin", io.StringIO(token + "\n"))
    code, out, _ = cli("tokens", "verify", "-")
    assert code == 0
    assert re.search(r"^identity +viewer$", out, re.MULTILINE)
    assert re.search(r"^grants\.can_publish +no$", out, re.MULTILINE)

    code, out, err = cli("tokens", "verify", token[:-4] + "AAAA")
    assert (code, out) == (1, "")
    assert err == "baxcloud tokens verify: error: token signature does not match\n"

    code, _, err = cli(
        "tokens", "create", "--room-name", room, "--participant-identity", "x", "--ttl", "0"
    )
    assert code == 2
    assert err == "baxcloud tokens create: error: --ttl must be between 1 and 604800, got 0\n"


# ---- recordings -------------------------------------------------------------------


def _completed_recording(
    cli: Run, client: BaxCloud, server: LocalServer, tmp_path: Path
) -> dict[str, Any]:
    room = unique("rec")
    client.rooms.create(name=room)
    server.join(client.tokens.create(room_name=room, participant_identity="ann"))
    started = cli.json("recordings", "start", "--room-name", room, "--file-type", "WEBM")
    assert (started["room_name"], started["file_type"]) == (room, "WEBM")
    server.advance_clock(1)
    active = cli.json("recordings", "list-active", room)
    assert [r["id"] for r in active] == [started["id"]]
    assert active[0]["status"] == "active"

    code, out, err = cli("recordings", "download", started["id"], str(tmp_path / "early.webm"))
    assert_api_error(code, err, "recording_not_ready", "recordings download")
    assert out == ""
    assert not (tmp_path / "early.webm").exists()
    code, out, err = cli("recordings", "download", started["id"], str(tmp_path))  # a directory
    assert (code, out) == (1, "")
    error = f"error: recording {started['id']} has no file yet (active)\n"
    assert err == "baxcloud recordings download: " + error

    server.advance_clock(5)
    stopped = cli.json("recordings", "stop", started["egress_id"])
    assert stopped["status"] in ("ending", "completed")
    server.advance_clock(1)
    recording: dict[str, Any] = cli.json("recordings", "get", started["id"])
    assert recording == sdk_view(client.recordings.get(started["id"]))
    assert recording["status"] == "completed"
    return recording


def test_recordings_lifecycle_and_download(
    cli: Run, client: BaxCloud, server: LocalServer, tmp_path: Path
) -> None:
    recording = _completed_recording(cli, client, server, tmp_path)

    code, out, _ = cli("recordings", "list", "--room-name", recording["room_name"])
    row = out.splitlines()[1].split()
    size = str(recording["size_bytes"])
    assert row[:5] == [recording["id"], recording["room_name"], "completed", "WEBM", size]
    listed = cli.json(
        "recordings", "list", "--status", "completed", "--room-name", recording["room_name"]
    )
    assert [r["id"] for r in listed] == [recording["id"]]

    url = cli.json("recordings", "url", recording["id"], "--expires-in", "120")
    assert url["expires_in"] == 120
    assert url["download_url"].startswith(server.base_url)

    code, out, err = cli("recordings", "download", recording["id"], str(tmp_path))
    assert code == 0, err
    target = tmp_path / Path(recording["filename"]).name
    assert out == f"{target} ({recording['size_bytes']} bytes)\n"
    assert target.stat().st_size == recording["size_bytes"] > 0
    assert err == ""  # stderr is not a terminal: no progress bar

    dest = tmp_path / "copy.webm"
    data = cli.json("recordings", "download", recording["id"], str(dest), "--no-progress")
    assert data == {
        "recording_id": recording["id"],
        "path": str(dest),
        "size_bytes": recording["size_bytes"],
    }
    assert dest.read_bytes() == target.read_bytes()


# ---- egress -----------------------------------------------------------------------


def test_egress_lifecycle_masks_stream_keys(
    cli: Run, client: BaxCloud, server: LocalServer
) -> None:
    room = unique("eg")
    client.rooms.create(name=room)
    stream_url = f"rtmp://live.twitch.tv/app/{SECRET_KEY}"
    code, out, err = cli(
        "egress", "start", "--room-name", room, "--mode", "both", "--stream-urls", stream_url
    )
    assert code == 0, err
    assert SECRET_KEY not in out
    assert "stream.urls                    rtmp://live.twitch.tv/app/****" in out
    egress_id = dict(line.split(None, 1) for line in out.splitlines())["id"]
    egress = client.egress.get(egress_id)
    assert egress.file is not None  # record modes default to an MP4 file
    assert egress.file.file_type == "MP4"

    server.advance_clock(1)
    code, out, _ = cli("egress", "list", "--room-name", room)
    assert out.splitlines()[1].split()[:4] == [egress_id, room, "both", "active"]
    got = cli.json("egress", "get", egress_id)
    assert got == sdk_view(client.egress.get(egress_id))
    assert SECRET_KEY not in json.dumps(got)

    code, _, err = cli("egress", "delete", egress_id)
    assert_api_error(code, err, "egress_active", "egress delete")
    stopped = cli.json("egress", "stop", egress_id)
    assert stopped["status"] in ("ending", "completed")
    server.advance_clock(1)
    assert cli.json("egress", "delete", egress_id) == {"ok": True}
    code, _, err = cli("egress", "get", egress_id, "--json")
    error = json.loads(err)["error"]
    assert (code, error["code"], error["status"]) == (1, "egress_not_found", 404)
    assert error["request_id"].startswith("req_")


def test_egress_auto_config_sends_only_given_options(capsys: pytest.CaptureFixture[str]) -> None:
    with LocalServer() as own:
        run = Run(capsys)
        flags = ("--api-key", own.api_key, "--base-url", own.base_url)
        assert run.json("egress", "auto-config", *flags) == {
            "enabled": False,
            "mode": "record",
            "quality": "720p",
            "layout": "speaker",
            "min_participants": 1,
            "file_type": "MP4",
            "stream_urls": [],
        }
        run.json("egress", "auto-config", "--quality", "1080p", *flags)
        changed = run.json("egress", "auto-config", "--min-participants", "3", *flags)
        assert (changed["quality"], changed["min_participants"]) == ("1080p", 3)

        code, out, _ = run(
            "egress", "auto-config", "--stream-urls", f"rtmps://x.example/live/{SECRET_KEY}", *flags
        )
        assert SECRET_KEY not in out
        assert "stream_urls       rtmps://x.example/live/****" in out
        assert "quality           1080p" in out
        with own.client() as c:
            config = c.egress.get_auto_stream_config()
        assert (config.quality, config.min_participants, len(config.stream_urls)) == (
            "1080p",
            3,
            1,
        )
        assert run.json("egress", "auto-config", "--no-stream-urls", *flags)["stream_urls"] == []
        code, _, err = run("egress", "auto-config", "--min-participants", "0", *flags)
        assert code == 2
        assert err == "baxcloud egress auto-config: error: --min-participants must be >= 1, got 0\n"


# ---- ingress ----------------------------------------------------------------------


def test_ingress_secrets_printed_once_then_masked(cli: Run, client: BaxCloud) -> None:
    room = unique("in")
    code, out, err = cli(
        "ingress",
        "create",
        *("--input-type", "rtmp", "--room-name", room),
        *("--participant-identity", "obs", "--participant-name", "OBS"),
    )
    assert code == 0, err
    fields = dict(line.split(None, 1) for line in out.splitlines() if " " in line)
    stream_key = fields["stream_key"]
    assert stream_key.startswith("sk_")  # printed: that is what `create` is for
    ingress_id = fields["id"]

    whip = cli.json(
        "ingress",
        "create",
        *("--room-name", room, "--participant-identity", "web", "--input-type", "WHIP_INPUT"),
    )
    assert whip["token"]
    assert whip["token"] != "****"

    code, out, _ = cli("ingress", "get", ingress_id)
    assert stream_key not in out
    assert "stream_key            ****" in out
    got = cli.json("ingress", "get", ingress_id)
    assert got["stream_key"] == "****"
    assert got == {**sdk_view(client.ingress.get(ingress_id)), "stream_key": "****"}

    code, out, _ = cli("ingress", "list", "--room-name", room)
    assert stream_key not in out
    assert whip["token"] not in out
    rows = [line.split() for line in out.splitlines()]
    assert [r[:5] for r in rows[1:]] == [
        [ingress_id, "RTMP_INPUT", room, "obs", "INACTIVE"],
        [whip["id"], "WHIP_INPUT", room, "web", "INACTIVE"],
    ]
    listed = cli.json("ingress", "list", "--room-name", room)
    assert [(i["stream_key"], i["token"]) for i in listed] == [("****", None), (None, "****")]

    code, out, _ = cli("ingress", "delete", ingress_id)
    assert (code, out) == (0, f"Deleted ingress {ingress_id}.\n")
    code, _, err = cli("ingress", "get", ingress_id)
    assert_api_error(code, err, "ingress_not_found", "ingress get")


# ---- errors, options, entry point ---------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["rooms"], "baxcloud rooms"),
        (["rooms", "explode"], "baxcloud rooms"),
        (["rooms", "get"], "baxcloud rooms get"),
        (["rooms", "create", "--name", "x", "--max-participants", "many"], "baxcloud rooms create"),
        (["rooms", "create", "x"], "baxcloud rooms create"),  # the SDK's name= is a keyword
        (["egress", "start", "--room-name", "room"], "baxcloud egress start"),  # --mode
        (["recordings", "list", "--nope"], "baxcloud recordings list"),
        (["rooms", "--nope", "list"], "baxcloud rooms"),
        (["--nope", "rooms", "list"], "baxcloud"),
    ],
)
def test_usage_errors_show_the_commands_own_usage_and_exit_2(
    cli: Run, argv: list[str], usage: str
) -> None:
    code, out, err = cli(*argv)
    assert code == 2
    assert out == ""
    assert err.startswith(f"usage: {usage} [-h]")
    assert err.splitlines()[-1].startswith(f"{usage}: error: ")


def test_an_unknown_flag_is_named_with_the_subcommands_usage(cli: Run) -> None:
    code, _, err = cli("rooms", "create", "--name", "x", "--max-partcipants", "3")
    assert code == 2
    assert err.startswith("usage: baxcloud rooms create [-h]")
    assert "--max-participants N" in err  # the usage lists the right spelling
    assert err.endswith(
        "baxcloud rooms create: error: unrecognized arguments: --max-partcipants 3\n"
    )


def test_sdk_argument_errors_name_the_flag_not_the_parameter(cli: Run) -> None:
    code, out, err = cli("rooms", "create", "--name", unique("neg"), "--max-participants", "-3")
    assert (code, out) == (2, "")
    assert err == "baxcloud rooms create: error: --max-participants must be >= 0, got -3\n"

    code, _, err = cli("recordings", "url", "rec_123", "--expires-in", "5")
    assert code == 2
    assert err == (
        "baxcloud recordings url: error: --expires-in must be between 60 and 604800, got 5\n"
    )
    code, _, err = cli("recordings", "get", "EG_123")  # an egress id for a recording id
    assert code == 2
    assert err.startswith("baxcloud recordings get: error: recordings get takes the RECORDING_ID")
    assert "recording_id" not in err and "get_download_url" not in err

    code, _, err = cli("egress", "start", "--room-name", "r", "--mode", "sideways")
    assert code == 2
    assert err.startswith("baxcloud egress start: error: --mode must be one of 'record'")


def test_api_validation_details_name_the_flag(cli: Run, client: BaxCloud) -> None:
    room = unique("bad-url")
    client.rooms.create(name=room)
    code, _, err = cli(
        "egress", "start", "--room-name", room, "--mode", "stream", "--stream-urls", "ftp://x"
    )
    assert_api_error(code, err, "validation_failed", "egress start")
    assert "error: --stream-urls[0]: must be an rtmp:// or rtmps:// URL" in err
    code, _, err = cli(
        "egress", "start", "--room-name", room, "--mode", "stream", "--stream-urls", "ftp://x",
        "--json",
    )  # fmt: skip
    error = json.loads(err)["error"]
    assert (code, error["code"], error["status"]) == (1, "validation_failed", 422)
    assert error["details"][0]["field"] == "stream.urls[0]"  # scripts get the API's names


def test_missing_api_key_names_the_flag_and_the_variable(
    cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BAXCLOUD_API_KEY")
    code, out, err = cli("rooms", "list")
    assert (code, out) == (2, "")
    assert err == (
        "baxcloud rooms list: error: no API key: set the BAXCLOUD_API_KEY environment "
        "variable (or pass --api-key)\n"
    )
    code, _, err = cli("rooms", "list", "--api-key", "bax_sk_short_" + "s" * 5)
    assert code == 2
    assert err.startswith(
        "baxcloud rooms list: error: the API key (--api-key or BAXCLOUD_API_KEY) is not "
    )
    assert "api_key" not in err and "s" * 5 not in err


def test_options_override_environment(cli: Run, server: LocalServer) -> None:
    code, _, err = cli("rooms", "list", "--api-key", "bax_sk_nope1234_" + "a" * 32)
    assert_api_error(code, err, "unauthenticated", "rooms list")
    assert "a" * 32 not in err
    code, _, err = cli(
        "rooms", "list", "--base-url", "http://127.0.0.1:9", "--timeout", "2", "--max-retries", "0"
    )
    assert code == 1
    assert err.startswith("baxcloud rooms list: error: cannot connect to 127.0.0.1:9")
    assert err.count("\n") == 1


def test_tables_show_times_with_their_zone_and_unlimited_rooms(cli: Run) -> None:
    name = unique("zone")
    code, out, err = cli("rooms", "create", "--name", name)
    assert code == 0, err
    assert "max_participants  unlimited\n" in out
    created = re.search(r"^created_at +(\S+)$", out, re.MULTILINE)
    assert created is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created.group(1))
    assert datetime.fromisoformat(created.group(1)).utcoffset() == timedelta(0)

    code, out, _ = cli("rooms", "list")
    row = next(line.split() for line in out.splitlines() if line.startswith(name + " "))
    assert row[3] == "unlimited"
    assert row[5] == created.group(1)
    assert cli.json("rooms", "get", name)["max_participants"] == 0  # JSON keeps the value
    cli("rooms", "create", "--name", name + "-7", "--max-participants", "7")
    assert "max_participants  7\n" in cli("rooms", "get", name + "-7")[1]


def test_help_describes_the_commands_in_command_line_terms(cli: Run) -> None:
    code, out, _ = cli("rooms", "create", "--help")
    assert code == 0
    assert "Create a room and show it." in out
    assert "--name NAME" in out and "a unique room name, 1-256 characters" in out
    code, out, _ = cli("recordings", "download", "--help")
    assert "run the same command again" not in out  # said once, in the description:
    assert "the same command resumes where it stopped" in " ".join(out.split())
    code, out, _ = cli("egress", "--help")
    assert "auto-config" in out
    assert "stop an egress; it ends, then completes" in out
    for resource in RESOURCES:
        _, out, _ = cli(resource, "--help")
        assert "Returns" not in out and "`" not in out.split("actions:")[0]


def test_every_argument_is_named_after_its_sdk_parameter() -> None:
    """Positional where the SDK's parameter is positional, else `--param-name`."""
    import baxcloud

    for resource_name, resource in RESOURCES.items():
        sdk_class = getattr(baxcloud, resource.sdk_class)
        for command in resource.commands:
            where = f"{resource_name} {command.name}"
            methods = [command.method, command.method_without_args]
            parameters = inspect.signature(getattr(sdk_class, command.method)).parameters
            positional = [
                p.name
                for p in parameters.values()
                if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"
            ]
            assert [a.param for a in command.args if a.is_positional] == positional, where
            for arg in command.args:
                param = parameters[arg.into or arg.param]
                if not arg.is_positional:
                    assert param.kind is param.KEYWORD_ONLY, (where, arg.name)
                    if arg.into is None and arg.flag is None:
                        assert arg.name == "--" + arg.param.replace("_", "-")
                if param.default is param.empty and arg.into is None:
                    assert arg.is_positional or arg.options.get("required"), (where, arg.name)
            assert all(m is None or hasattr(sdk_class, m) for m in methods), where


def test_the_choices_shown_are_the_sdks() -> None:
    from baxcloud import _media_models, _models
    from baxcloud._cli import resources

    def braced(literal: Any) -> str:
        return "{" + ",".join(typing.get_args(literal)) + "}"

    assert resources.FILE_TYPES == braced(_media_models.FileType)
    assert resources.MODES == braced(_media_models.EgressMode)
    assert resources.LAYOUTS == braced(_media_models.EgressLayout)
    assert resources.QUALITIES == braced(_media_models.EgressQuality)
    assert resources.STATUSES == braced(_media_models.RecordingStatus)
    assert resources.INPUT_TYPES == braced(_media_models.IngressInputType)
    sources = [s for s in typing.get_args(_models.TrackSource) if s != "unknown"]
    assert resources.TRACK_SOURCES == "{" + ",".join(sources) + "}"
