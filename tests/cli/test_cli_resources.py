"""The resource commands of `baxcloud`, run in-process against a local server."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from baxcloud import BaxCloud
from baxcloud._cli.main import main
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


def assert_api_error(code: int, err: str, error_code: str) -> None:
    assert code == 1
    assert f"error: {error_code}: " in err
    assert "request id: req_" in err


# ---- rooms ------------------------------------------------------------------------


def test_rooms_create_get_update_delete(cli: Run, client: BaxCloud) -> None:
    name = unique("room")
    code, out, err = cli("rooms", "create", name, "--max-participants", "7", "--metadata", "hi")
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
    assert_api_error(code, err, "room_not_found")
    assert f"room '{name}' does not exist" in err
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
    assert_api_error(code, err, "participant_not_found")


# ---- tokens -----------------------------------------------------------------------


def test_tokens_create_and_verify(
    cli: Run, client: BaxCloud, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = unique("tok")
    code, out, err = cli(
        "tokens", "create", room, "viewer", "--name", "Vee", "--ttl", "600", "--no-can-publish"
    )
    assert code == 0, err
    token = dict(line.split(None, 1) for line in out.splitlines())["token"]
    claims = client.tokens.verify(token)
    assert (claims.identity, claims.name, claims.room_name) == ("viewer", "Vee", room)
    assert claims.grants.can_publish is False
    assert server.join(token).identity == "viewer"

    data = cli.json(
        "tokens", "create", room, "host", "--room-admin", "--can-publish-source", "camera"
    )
    assert set(data) == {"token", "identity", "room_name", "expires_at"}
    grants = client.tokens.verify(data["token"]).grants
    assert grants.room_admin is True
    assert grants.can_publish_sources == ("camera",)

    verified = cli.json("tokens", "verify", token)
    assert verified == sdk_view(claims)
    monkeypatch.setattr(sys, "stdin", io.StringIO(token + "\n"))
    code, out, _ = cli("tokens", "verify", "-")
    assert code == 0
    assert re.search(r"^identity +viewer$", out, re.MULTILINE)
    assert re.search(r"^grants\.can_publish +no$", out, re.MULTILINE)

    code, out, err = cli("tokens", "verify", token[:-4] + "AAAA")
    assert (code, out) == (1, "")
    assert "error: token_invalid: token signature does not match" in err

    code, _, err = cli("tokens", "create", room, "x", "--ttl", "0")
    assert code == 2
    assert "invalid_argument" in err


# ---- recordings -------------------------------------------------------------------


def _completed_recording(
    cli: Run, client: BaxCloud, server: LocalServer, tmp_path: Path
) -> dict[str, Any]:
    room = unique("rec")
    client.rooms.create(name=room)
    server.join(client.tokens.create(room_name=room, participant_identity="ann"))
    started = cli.json("recordings", "start", room, "--file-type", "WEBM")
    assert (started["room_name"], started["file_type"]) == (room, "WEBM")
    server.advance_clock(1)
    active = cli.json("recordings", "list-active", "--room", room)
    assert [r["id"] for r in active] == [started["id"]]
    assert active[0]["status"] == "active"

    code, out, err = cli("recordings", "download", started["id"], str(tmp_path / "early.webm"))
    assert_api_error(code, err, "recording_not_ready")
    assert out == ""
    assert not (tmp_path / "early.webm").exists()
    code, out, err = cli("recordings", "download", started["id"], str(tmp_path))  # a directory
    assert (code, out) == (1, "")
    assert err == f"error: recording {started['id']} has no file yet (active)\n"

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

    code, out, _ = cli("recordings", "list", "--room", recording["room_name"])
    row = out.splitlines()[1].split()
    size = str(recording["size_bytes"])
    assert row[:5] == [recording["id"], recording["room_name"], "completed", "WEBM", size]
    listed = cli.json(
        "recordings", "list", "--status", "completed", "--room", recording["room_name"]
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
    assert f"\r{recording['id']} [" in err
    assert "##############################] 100.0%" in err
    assert err.endswith("\n")

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
    code, out, err = cli("egress", "start", room, "--mode", "both", "--stream-url", stream_url)
    assert code == 0, err
    assert SECRET_KEY not in out
    assert "stream.urls                    rtmp://live.twitch.tv/app/****" in out
    egress_id = dict(line.split(None, 1) for line in out.splitlines())["id"]
    egress = client.egress.get(egress_id)
    assert egress.file is not None  # record modes default to an MP4 file
    assert egress.file.file_type == "MP4"

    server.advance_clock(1)
    code, out, _ = cli("egress", "list", "--room", room)
    assert out.splitlines()[1].split()[:4] == [egress_id, room, "both", "active"]
    got = cli.json("egress", "get", egress_id)
    assert got == sdk_view(client.egress.get(egress_id))
    assert SECRET_KEY not in json.dumps(got)

    code, _, err = cli("egress", "delete", egress_id)
    assert_api_error(code, err, "egress_active")
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
            "egress", "auto-config", "--stream-url", f"rtmps://x.example/live/{SECRET_KEY}", *flags
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
        assert code in (1, 2)
        assert "min_participants" in err.lower() or "validation_failed" in err


# ---- ingress ----------------------------------------------------------------------


def test_ingress_secrets_printed_once_then_masked(cli: Run, client: BaxCloud) -> None:
    room = unique("in")
    code, out, err = cli("ingress", "create", room, "obs", "--input-type", "rtmp", "--name", "OBS")
    assert code == 0, err
    fields = dict(line.split(None, 1) for line in out.splitlines() if " " in line)
    stream_key = fields["stream_key"]
    assert stream_key.startswith("sk_")  # printed: that is what `create` is for
    ingress_id = fields["id"]

    whip = cli.json("ingress", "create", room, "web", "--input-type", "WHIP_INPUT")
    assert whip["token"]
    assert whip["token"] != "****"

    code, out, _ = cli("ingress", "get", ingress_id)
    assert stream_key not in out
    assert "stream_key            ****" in out
    got = cli.json("ingress", "get", ingress_id)
    assert got["stream_key"] == "****"
    assert got == {**sdk_view(client.ingress.get(ingress_id)), "stream_key": "****"}

    code, out, _ = cli("ingress", "list", "--room", room)
    assert stream_key not in out
    assert whip["token"] not in out
    rows = [line.split() for line in out.splitlines()]
    assert [r[:5] for r in rows[1:]] == [
        [ingress_id, "RTMP_INPUT", room, "obs", "INACTIVE"],
        [whip["id"], "WHIP_INPUT", room, "web", "INACTIVE"],
    ]
    listed = cli.json("ingress", "list", "--room", room)
    assert [(i["stream_key"], i["token"]) for i in listed] == [("****", None), (None, "****")]

    code, out, _ = cli("ingress", "delete", ingress_id)
    assert (code, out) == (0, f"Deleted ingress {ingress_id}.\n")
    code, _, err = cli("ingress", "get", ingress_id)
    assert_api_error(code, err, "ingress_not_found")


# ---- errors, options, entry point ---------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["rooms"],
        ["rooms", "explode"],
        ["rooms", "get"],
        ["rooms", "create", "x", "--max-participants", "many"],
        ["egress", "start", "room"],  # --mode is required
        ["recordings", "list", "--nope"],
    ],
)
def test_usage_errors_exit_2(cli: Run, argv: list[str]) -> None:
    code, out, err = cli(*argv)
    assert code == 2
    assert out == ""
    assert "usage: baxcloud" in err


def test_invalid_argument_exits_2(cli: Run) -> None:
    code, out, err = cli("rooms", "create", unique("neg"), "--max-participants", "-3")
    assert (code, out) == (2, "")
    assert "error: invalid_argument: max_participants must be >= 0" in err


def test_missing_api_key_exits_2(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BAXCLOUD_API_KEY")
    code, out, err = cli("rooms", "list")
    assert (code, out) == (2, "")
    assert "no API key" in err


def test_options_override_environment(cli: Run, server: LocalServer) -> None:
    code, _, err = cli("rooms", "list", "--api-key", "bax_sk_nope1234_" + "a" * 32)
    assert_api_error(code, err, "unauthenticated")
    code, _, err = cli("rooms", "list", "--base-url", "http://127.0.0.1:9", "--timeout", "2")
    assert code == 1
    assert "error: connection_error: " in err


def test_help_comes_from_sdk_docstrings(cli: Run) -> None:
    code, out, _ = cli("rooms", "create", "--help")
    assert code == 0
    assert "Create a room." in out
    assert "unique room name, 1-256 characters." in out
    code, out, _ = cli("egress", "--help")
    assert "auto-config" in out
    assert "Stop an egress" in out


def test_resource_commands_import_cheaply() -> None:
    code = (
        "import sys\n"
        "from baxcloud._cli.main import build_parser\n"
        "build_parser()\n"
        "loaded = [m for m in ('baxcloud._server', 'baxcloud.testing', 'baxcloud._media_models',"
        " 'baxcloud._cli.output') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_console_entry_json(server: LocalServer, client: BaxCloud) -> None:
    name = unique("sub")
    client.rooms.create(name=name)
    env = {**os.environ, "BAXCLOUD_API_KEY": server.api_key, "BAXCLOUD_BASE_URL": server.base_url}
    result = subprocess.run(
        [sys.executable, "-m", "baxcloud", "rooms", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    rooms = json.loads(result.stdout)
    assert name in [r["name"] for r in rooms]
    assert rooms == [sdk_view(r) for r in client.rooms.list()]
