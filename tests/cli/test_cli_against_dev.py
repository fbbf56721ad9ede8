"""The resource commands as a user runs them: the `baxcloud` console script, each
command a new process, against one `baxcloud dev --quiet` process for the module,
configured from the `export` lines it printed.

test_cli_resources.py covers each command's flags, tables and errors in-process."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator

import pytest
from cli.dev_process import Dev, baxcloud_command, shell_env
from helpers import unique

from baxcloud import BaxCloud

NOT_FOUND = re.compile(
    r"baxcloud rooms get: error: room '(?P<name>[^']+)' does not exist "
    r"\(room_not_found, HTTP 404, request id req_\w+\)\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    process = Dev(tmp_path_factory.mktemp("dev"), "--quiet", script=True)
    try:
        yield process.wait_ready()
        process.stop()
    finally:
        process.kill()
    assert process.log == []  # --quiet: not one request logged
    assert process.stderr() == ""  # nor a warning


@pytest.fixture(scope="module")
def client(server: Dev) -> Iterator[BaxCloud]:
    with server.client() as c:
        yield c


class Shell:
    """`baxcloud ...` in a shell where the dev server's `export` lines were pasted.

    Every command's output is checked for the API key's secret part, the one part
    that must never be shown (the key id is public: tokens carry it as `kid`)."""

    def __init__(self, server: Dev) -> None:
        self.environment = shell_env(server.environment())
        self.api_key = server.settings["BAXCLOUD_API_KEY"]
        self.secret = self.api_key.rsplit("_", 1)[1]

    def __call__(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = baxcloud_command(*args, env=env or self.environment, capture_output=True)
        for shown in (result.stdout, result.stderr):
            assert self.secret not in shown, args
        return result

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert (result.returncode, result.stderr) == (0, ""), result.stderr
        return result.stdout

    def json(self, *args: str) -> object:
        return json.loads(self.ok(*args, "--json"))


@pytest.fixture(scope="module")
def shell(server: Dev) -> Shell:
    return Shell(server)


def table(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines()]


def fields(out: str) -> dict[str, str]:
    """A `FIELD  VALUE` listing, as `get` and `create` print one object."""
    return dict(line.split(None, 1) for line in out.splitlines())


def test_rooms_create_list_get_delete(shell: Shell, client: BaxCloud) -> None:
    name = unique("script-room")
    created = fields(shell.ok("rooms", "create", "--name", name, "--max-participants", "4"))
    room = client.rooms.get(name)
    assert (created["name"], created["sid"], created["max_participants"]) == (name, room.sid, "4")

    rows = table(shell.ok("rooms", "list"))
    assert rows[0] == ["NAME", "SID", "PARTICIPANTS", "MAX", "RECORDING", "CREATED"]
    assert [name, room.sid, "0", "4", "no"] in [row[:5] for row in rows[1:]]
    listed = shell.json("rooms", "list")
    assert isinstance(listed, list)
    assert [r["sid"] for r in listed if r["name"] == name] == [room.sid]

    shown = fields(shell.ok("rooms", "get", name))
    assert (shown["name"], shown["sid"], shown["num_participants"]) == (name, room.sid, "0")
    got = shell.json("rooms", "get", name)
    assert isinstance(got, dict) and room.created_at is not None
    assert (got["name"], got["sid"], got["max_participants"], got["created_at"]) == (
        name,
        room.sid,
        4,
        room.created_at.isoformat(),
    )

    assert shell.ok("rooms", "delete", name) == f"Deleted room {name}.\n"
    assert name not in [r.name for r in client.rooms.list()]
    assert name not in [row[0] for row in table(shell.ok("rooms", "list"))]


def test_a_missing_room_is_one_line_and_exit_1(shell: Shell) -> None:
    name = unique("script-missing")
    result = shell("rooms", "get", name)
    assert (result.returncode, result.stdout) == (1, "")
    match = NOT_FOUND.fullmatch(result.stderr)
    assert match is not None, result.stderr
    assert match["name"] == name

    result = shell("rooms", "get", name, "--json")
    assert (result.returncode, result.stdout) == (1, "")
    error = json.loads(result.stderr)["error"]
    assert (error["code"], error["status"]) == ("room_not_found", 404)
    assert error["message"] == f"room '{name}' does not exist"
    assert error["request_id"].startswith("req_")


def test_a_minted_token_carries_what_was_asked(shell: Shell, client: BaxCloud) -> None:
    room = unique("script-token")
    minted = shell.json(
        "tokens", "create", "--room-name", room, "--participant-identity", "viewer",
        "--participant-name", "Vee", "--ttl", "600", "--no-can-publish",
    )  # fmt: skip
    assert isinstance(minted, dict)
    assert (minted["identity"], minted["room_name"]) == ("viewer", room)
    claims = client.tokens.verify(minted["token"])
    assert (claims.identity, claims.name, claims.room_name) == ("viewer", "Vee", room)
    assert claims.grants.can_publish is False

    shown = fields(shell.ok("tokens", "verify", minted["token"]))
    assert (shown["identity"], shown["room_name"], shown["grants.can_publish"]) == (
        "viewer",
        room,
        "no",
    )


def test_participants_list_shows_who_simulate_joined(shell: Shell, client: BaxCloud) -> None:
    room = unique("script-people")
    shell.ok("rooms", "create", "--name", room)
    for identity, name in (("ann", "Ann"), ("bob", "Bob")):
        joined = shell.ok(
            "simulate", "join", "--room", room, "--identity", identity, "--name", name
        )
        assert joined.startswith(f"{identity} ({name}) joined room '{room}' as PA_"), joined

    rows = table(shell.ok("participants", "list", room))
    assert rows[0] == ["IDENTITY", "NAME", "SID", "STATE", "PUBLISHER", "TRACKS", "JOINED"]
    sids = {p.identity: p.sid for p in client.participants.list(room)}
    assert sorted(row[:6] for row in rows[1:]) == [
        ["ann", "Ann", sids["ann"], "ACTIVE", "no", "0"],
        ["bob", "Bob", sids["bob"], "ACTIVE", "no", "0"],
    ]
    listed = shell.json("participants", "list", room)
    assert isinstance(listed, list)
    assert sorted((p["identity"], p["sid"]) for p in listed) == sorted(sids.items())


def test_a_wrong_flag_prints_the_commands_usage_and_exits_2(shell: Shell) -> None:
    result = shell("rooms", "list", "--bogus")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("usage: baxcloud rooms list [-h] [--api-key API_KEY]")
    assert "--json" in result.stderr
    assert result.stderr.endswith("\nbaxcloud rooms list: error: unrecognized arguments: --bogus\n")


def test_a_missing_api_key_is_one_line_naming_the_flag_and_the_variable(
    shell: Shell, server: Dev
) -> None:
    only_url = shell_env({"BAXCLOUD_BASE_URL": server.settings["BAXCLOUD_BASE_URL"]})
    result = shell("rooms", "list", env=only_url)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "baxcloud rooms list: error: no API key: set the BAXCLOUD_API_KEY environment "
        "variable (or pass --api-key)\n"
    )


def test_the_api_key_given_as_a_flag_is_never_shown(shell: Shell, server: Dev) -> None:
    flags = ("--base-url", server.settings["BAXCLOUD_BASE_URL"], "--api-key", shell.api_key)
    name = unique("script-flags")
    created = shell("rooms", "create", "--name", name, *flags, env=shell_env())
    assert (created.returncode, created.stderr) == (0, ""), created.stderr
    assert fields(created.stdout)["name"] == name

    key_id = shell.api_key.split("_")[2]
    wrong = f"bax_sk_{key_id}_" + "w" * len(shell.secret)
    result = shell("rooms", "list", "--api-key", wrong)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("baxcloud rooms list: error: "), result.stderr
    assert "(unauthenticated, HTTP 401, request id req_" in result.stderr
    assert result.stderr.count("\n") == 1
    assert "w" * len(shell.secret) not in result.stderr
