"""`baxcloud simulate` against a real `baxcloud dev`, both as subprocesses."""

from __future__ import annotations

import pathlib
import re
import socket
import subprocess

from cli.dev_process import MODULE, WAIT, Dev, Receiver, shell_env, start

from baxcloud import webhooks
from baxcloud._server import generate_api_key

ERROR = re.compile(r"baxcloud simulate (join|leave|publish|unpublish): error: ")
JOIN = ("join", "--room", "r", "--identity", "i")


def simulate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MODULE, "simulate", *args],
        capture_output=True,
        text=True,
        env=shell_env(env),
        timeout=WAIT,
    )


def ok(*args: str, env: dict[str, str]) -> list[str]:
    result = simulate(*args, env=env)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    return result.stdout.splitlines()


def failure(*args: str, env: dict[str, str] | None = None, code: int = 1) -> str:
    """The one line a failing command printed on stderr (it printed nothing else)."""
    result = simulate(*args, env=env)
    assert result.returncode == code and result.stdout == "", result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    prefix = ERROR.match(lines[0])
    assert prefix is not None and prefix.group(1) == args[0], lines
    return lines[0][prefix.end() :]


def test_participants_join_publish_unpublish_and_leave_with_their_webhooks(
    tmp_path: pathlib.Path, dev: list[Dev], receivers: list[Receiver]
) -> None:
    receiver = Receiver(204)
    receivers.append(receiver)
    hook = f"http://127.0.0.1:{receiver.port}/hook"
    server = start(dev, tmp_path, "--webhook-url", hook).wait_ready()
    env = server.environment()
    room = ("--room", "standup")
    ann = (*room, "--identity", "ann")

    [joined] = ok("join", *ann, "--name", "Ann", env=env)
    assert joined.startswith("ann (Ann) joined room 'standup' as PA_")
    published = ok("publish", *ann, "--kind", "audio", "video", env=env)
    assert [line.split(" track ")[0] for line in published] == [
        "ann published an audio",
        "ann published a video",
    ]
    with server.client() as client:
        participant = client.participants.get("standup", "ann")
        assert participant.name == "Ann"
        tracks = {track.kind: track.sid for track in participant.tracks}
        assert sorted(tracks) == ["audio", "video"]

        assert ok("unpublish", *ann, "--track", tracks["audio"], env=env) == [
            f"ann unpublished track {tracks['audio']} in room 'standup'"
        ]
        assert [t.kind for t in client.participants.get("standup", "ann").tracks] == ["video"]
        assert ok("unpublish", *ann, env=env) == [
            f"ann unpublished track {tracks['video']} in room 'standup'"
        ]
        assert client.participants.get("standup", "ann").tracks == ()
        assert ok("unpublish", *ann, env=env) == ["ann has no published track in room 'standup'"]

        assert ok("leave", *ann, env=env) == ["ann left room 'standup'"]
        assert client.participants.list("standup").items == []

    expected = [
        "participant.joined",
        "track.published",
        "track.published",
        "track.unpublished",
        "track.unpublished",
        "participant.left",
    ]
    secret = server.settings["BAXCLOUD_WEBHOOK_SECRET"]

    def names() -> list[str]:  # of the deliveries signed with the printed secret
        received = list(zip(receiver.bodies, receiver.headers, strict=False))
        return [webhooks.verify(body, headers, secret).event for body, headers in received]

    server.wait_log(lambda _: all(n in names() for n in expected))
    seen = [n for n in names() if n.startswith(("participant.", "track."))]
    assert seen == expected
    assert server.log  # the server logged those calls


def test_clear_errors_naming_what_is_wrong(
    tmp_path: pathlib.Path, dev: list[Dev], receivers: list[Receiver]
) -> None:
    server = start(dev, tmp_path).wait_ready()
    env = server.environment()
    base_url = env["BAXCLOUD_BASE_URL"]
    api_key = env["BAXCLOUD_API_KEY"]

    assert failure("leave", "--room", "nope", "--identity", "ann", env=env) == (
        "room 'nope' does not exist"
    )
    ok("join", "--room", "here", "--identity", "bob", env=env)
    assert failure("publish", "--room", "here", "--identity", "ann", env=env) == (
        "participant 'ann' is not in room 'here'"
    )
    assert failure(
        "unpublish", "--room", "here", "--identity", "bob", "--track", "TR_x", env=env
    ) == ("participant 'bob' has no track 'TR_x'")

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    message = failure(*JOIN, env=env | {"BAXCLOUD_BASE_URL": nowhere})
    assert message == f"no server reachable at {nowhere}: is `baxcloud dev` running there?"

    # Some other HTTP server: one with no such endpoint, one answering anything with 204.
    for status in (404, 204):
        other = Receiver(status)
        receivers.append(other)
        url = f"http://127.0.0.1:{other.port}"
        message = failure(*JOIN, env=env | {"BAXCLOUD_BASE_URL": url})
        assert message.startswith(f"{url} is not a local BaxCloud server"), message

    wrong_key = generate_api_key()
    message = failure(
        "leave", "--room", "here", "--identity", "bob", env={**env, "BAXCLOUD_API_KEY": wrong_key}
    )
    assert message.startswith(f"the server at {base_url} rejected the API key")
    assert wrong_key.rsplit("_", 1)[1] not in message and api_key not in message

    message = failure("join", "--room", "r", "--identity", "i", code=2)
    assert "BAXCLOUD_BASE_URL" in message and "--base-url" in message
    message = failure(
        "join", "--room", "r", "--identity", "i", env={"BAXCLOUD_BASE_URL": base_url}, code=2
    )
    assert "BAXCLOUD_API_KEY" in message

    # --base-url and --api-key instead of the environment.
    flags = ("--base-url", base_url, "--api-key", api_key)
    [line] = ok("join", "--room", "flags", "--identity", "cy", *flags, env={})
    assert line.startswith("cy joined room 'flags' as PA_")
    # The SDK's parameter names work too, as in `baxcloud tokens create`.
    sdk_names = ("--room-name", "flags", "--participant-identity", "di", "--participant-name", "Di")
    [line] = ok("join", *sdk_names, env=env)
    assert line.startswith("di (Di) joined room 'flags' as PA_")
