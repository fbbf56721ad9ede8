"""`baxcloud dev` as a user runs it: real subprocesses, real ports, real signals."""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import socket
import subprocess
import sys

import httpx
import pytest
from cli.dev_process import WAIT, Dev, Receiver, start

from baxcloud._cli.dev import parse_export_line
from baxcloud._server._lock import LOCK_FILENAME
from baxcloud._server._serve import _base_url, exposure_warning
from baxcloud.testing import LocalServer

EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 (what these tests are about)
# time method target status duration request-id
REQUEST_LINE = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) (\S+) (\d{3}|dropped) "
    r"(\d+\.\d) ms (req_\w+)$"
)


# ---- one server per data directory --------------------------------------------------------


def test_a_second_server_on_the_same_data_dir_exits_naming_the_dir_and_the_holder(
    tmp_path: pathlib.Path, dev: list[Dev]
) -> None:
    data = tmp_path / "data"
    first = start(dev, tmp_path, "--data", str(data)).wait_ready()
    with first.client() as client:
        client.rooms.create(name="kept")

    second = start(dev, tmp_path, "--data", str(data))
    try:
        code = second.proc.wait(WAIT)
    except subprocess.TimeoutExpired:
        pytest.fail("a second server on the same data directory kept running")
    assert code != 0
    assert second.settings == {}  # it never served
    lines = second.stderr().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("baxcloud dev: error: ")
    assert str(data) in lines[0] and f"process {first.proc.pid}" in lines[0]
    assert first.settings["BAXCLOUD_API_KEY"] not in lines[0]
    assert (data / LOCK_FILENAME).read_text().strip() == str(first.proc.pid)

    # The first one was not disturbed.
    with first.client() as client:
        assert [room.name for room in client.rooms.list()] == ["kept"]

    # Killed outright, it leaves no stale lock: the next server starts on the same state.
    first.kill()
    third = start(dev, tmp_path, "--data", str(data)).wait_ready()
    assert third.settings["BAXCLOUD_API_KEY"] == first.settings["BAXCLOUD_API_KEY"]
    with third.client() as client:
        assert [room.name for room in client.rooms.list()] == ["kept"]
    assert (data / LOCK_FILENAME).read_text().strip() == str(third.proc.pid)


def test_servers_on_different_data_dirs_run_side_by_side(
    tmp_path: pathlib.Path, dev: list[Dev]
) -> None:
    one = start(dev, tmp_path, "--data", str(tmp_path / "one"))
    two = start(dev, tmp_path, "--data", str(tmp_path / "two"))
    for each in (one.wait_ready(), two.wait_ready()):
        with each.client() as client:
            assert client.rooms.list().items == []


# ---- listening beyond loopback ------------------------------------------------------------


def test_listening_on_every_interface_warns_and_prints_a_base_url_that_works(
    tmp_path: pathlib.Path, dev: list[Dev]
) -> None:
    server = start(dev, tmp_path, "--host", EVERY_INTERFACE).wait_ready()
    base_url = server.settings["BAXCLOUD_BASE_URL"]
    port = int(base_url.rsplit(":", 1)[1])
    assert base_url == f"http://127.0.0.1:{port}"
    with server.client() as client:
        client.rooms.create(name="reachable")
        assert [room.name for room in client.rooms.list()] == ["reachable"]
    err = server.stderr()
    assert err.startswith("baxcloud dev: warning: listening on 0.0.0.0 (every network interface)")
    assert "full access" in err and f"port {port}" in err and "BAXCLOUD_API_KEY" in err
    assert server.settings["BAXCLOUD_API_KEY"] not in err
    assert server.settings["BAXCLOUD_WEBHOOK_SECRET"] not in err


def test_loopback_serves_without_a_warning(tmp_path: pathlib.Path, dev: list[Dev]) -> None:
    server = start(dev, tmp_path).wait_ready()
    assert server.settings["BAXCLOUD_BASE_URL"].startswith("http://127.0.0.1:")
    assert httpx.get(server.settings["BAXCLOUD_BASE_URL"] + "/openapi.json").status_code == 200
    assert server.stderr() == ""


def test_which_hosts_warn_and_which_base_url_is_printed() -> None:
    assert _base_url(EVERY_INTERFACE, 7880) == "http://127.0.0.1:7880"
    assert _base_url("::", 7880) == "http://[::1]:7880"
    assert _base_url("192.168.1.5", 7880) == "http://192.168.1.5:7880"
    assert _base_url("::1", 7880) == "http://[::1]:7880"
    for loopback in ("127.0.0.1", "127.0.0.2", "::1", "localhost", "LOCALHOST."):
        assert exposure_warning(loopback, 7880) is None, loopback
    for exposed in (EVERY_INTERFACE, "::", "192.168.1.5", "10.0.0.1", "fd12::1"):
        warning = exposure_warning(exposed, 7880)
        assert warning is not None and "full access" in warning and "7880" in warning
    everywhere = exposure_warning("::", 1)
    assert everywhere is not None and "every network interface" in everywhere


def test_local_server_on_every_interface_hands_out_a_loopback_base_url() -> None:
    with LocalServer(host=EVERY_INTERFACE) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        with server.client() as client:
            assert client.rooms.list().items == []


# ---- what it prints ---------------------------------------------------------------------


def test_the_heading_is_shell_syntax_exporting_working_credentials(
    tmp_path: pathlib.Path, dev: list[Dev]
) -> None:
    server = start(dev, tmp_path).wait_ready()
    assert all(line.startswith(("export ", "# ")) for line in server.heading), server.heading
    assert sorted(server.settings) == [
        "BAXCLOUD_API_KEY",
        "BAXCLOUD_BASE_URL",
        "BAXCLOUD_WEBHOOK_SECRET",
    ]
    shell = shutil.which("sh")
    assert shell is not None
    script = "\n".join(server.heading) + '\nprintf "%s\\n" "$BAXCLOUD_BASE_URL" '
    script += '"$BAXCLOUD_API_KEY" "$BAXCLOUD_WEBHOOK_SECRET"\n'
    exported = subprocess.run(
        [shell], input=script, capture_output=True, text=True, check=True, timeout=WAIT
    ).stdout.splitlines()
    assert exported == [
        server.settings["BAXCLOUD_BASE_URL"],
        server.settings["BAXCLOUD_API_KEY"],
        server.settings["BAXCLOUD_WEBHOOK_SECRET"],
    ]
    text = "\n".join(server.heading)
    assert "change on every restart" in text and "--data DIR" in text
    assert "300 s" in text
    with server.client() as client:
        assert client.rooms.create(name="from-the-heading").empty_timeout == 300

    kept = start(dev, tmp_path, "--data", str(tmp_path / "kept"), "--quiet").wait_ready()
    text = "\n".join(kept.heading)
    assert f"kept in {tmp_path / 'kept'}" in text and "change on every restart" not in text


def test_an_exported_value_is_quoted_for_the_shell_and_read_back() -> None:
    from baxcloud._cli.dev import export_line

    awkward = 'it\'s $HOME; `x` "y"'
    line = export_line("BAXCLOUD_BASE_URL", awkward)
    assert parse_export_line(line) == ("BAXCLOUD_BASE_URL", awkward)
    shell = shutil.which("sh")
    assert shell is not None
    script = f'{line}\nprintf "%s" "$BAXCLOUD_BASE_URL"\n'
    out = subprocess.run([shell], input=script, capture_output=True, text=True, timeout=WAIT)
    assert out.stdout == awkward
    assert parse_export_line("  BAXCLOUD_API_KEY=x") is None
    assert parse_export_line("export OTHER=x") is None


def test_each_request_is_logged_with_its_status_duration_and_id_and_no_secret(
    tmp_path: pathlib.Path, dev: list[Dev]
) -> None:
    server = start(dev, tmp_path).wait_ready()
    api_key = server.settings["BAXCLOUD_API_KEY"]
    base_url = server.settings["BAXCLOUD_BASE_URL"]
    sig = "ab" * 32
    headers = {"Authorization": f"Bearer {api_key}"}
    sent: list[tuple[str, str, int, str]] = []  # method, shown target, status, request id
    with httpx.Client(base_url=base_url, headers=headers) as http:
        for method, target, shown, body in (
            ("POST", "/v1/rooms", "/v1/rooms", {"name": "logged"}),
            ("GET", "/v1/rooms?limit=1", "/v1/rooms?limit=1", None),
            ("GET", "/v1/rooms/missing", "/v1/rooms/missing", None),
            # A signed download URL: its signature is a credential.
            (
                "GET",
                f"/downloads/rec_x/f.mp4?expires=9&sig={sig}",
                "/downloads/rec_x/f.mp4?expires=9&sig=****",
                None,
            ),
            # Secrets where they do not belong: a key in a path, an unknown query value.
            (
                "GET",
                f"/v1/rooms/{api_key}?token=QUERYSECRET",
                "/v1/rooms/" + api_key[: api_key.rindex("_") + 1] + "****?token=****",
                None,
            ),
        ):
            response = http.request(method, target, json=body)
            sent.append((method, shown, response.status_code, response.headers["x-request-id"]))
    lines = server.wait_log(lambda lines: len(lines) >= len(sent))
    assert len(lines) == len(sent), lines
    for line, (method, shown, status, request_id) in zip(lines, sent, strict=True):
        match = REQUEST_LINE.match(line)
        assert match is not None, line
        assert match.group(2, 3, 4, 6) == (method, shown, str(status), request_id)
    assert [status for _, _, status, _ in sent] == [201, 200, 404, 403, 404]
    everything = "\n".join(lines)
    secret_part = api_key[api_key.rindex("_") + 1 :]
    for secret in (secret_part, server.settings["BAXCLOUD_WEBHOOK_SECRET"], sig, "QUERYSECRET"):
        assert secret not in everything


def test_webhook_attempts_are_logged_with_event_endpoint_and_outcome(
    tmp_path: pathlib.Path, dev: list[Dev], receivers: list[Receiver]
) -> None:
    flaky = Receiver(500, 204)
    receivers.append(flaky)
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    endpoint = f"http://hooks:PASSWORD@127.0.0.1:{flaky.port}/hook?token=QSECRET"
    server = start(
        dev,
        tmp_path,
        *("--webhook-url", endpoint),
        *("--webhook-url", f"http://127.0.0.1:{dead_port}/gone"),
    ).wait_ready()
    with server.client() as client:
        client.rooms.create(name="hooked")

    shown = f"http://hooks:****@127.0.0.1:{flaky.port}/hook?****"

    def webhook_lines(lines: list[str]) -> list[str]:
        return [line for line in lines if " webhook " in line]

    def settled(lines: list[str]) -> bool:
        found = webhook_lines(lines)
        return any("delivered" in line for line in found) and any(
            f":{dead_port}/gone" in line for line in found
        )

    lines = webhook_lines(server.wait_log(settled))
    to_flaky = [line for line in lines if shown in line]
    assert len(to_flaky) == 2, lines
    assert (
        " webhook room.started -> " + shown + " attempt 1: HTTP 500, will retry in "
        in (to_flaky[0])
    )
    assert f" webhook room.started -> {shown} attempt 2: 204 delivered (" in to_flaky[1]
    gone = [line for line in lines if f":{dead_port}/gone" in line]
    assert "attempt 1: " in gone[0] and "ConnectError" in gone[0] and "will retry in" in gone[0]
    everything = "\n".join(server.log)
    for secret in ("PASSWORD", "QSECRET", server.settings["BAXCLOUD_WEBHOOK_SECRET"]):
        assert secret not in everything
    assert json.loads(flaky.bodies[-1])["event"] == "room.started"


def test_quiet_logs_nothing(tmp_path: pathlib.Path, dev: list[Dev]) -> None:
    server = start(dev, tmp_path, "--quiet").wait_ready()
    with server.client() as client:
        client.rooms.create(name="unlogged")
        assert [room.name for room in client.rooms.list()] == ["unlogged"]
    server.stop()
    assert server.log == []
    assert not any("logged" in line for line in server.heading)


def test_a_local_server_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    with LocalServer() as server, server.client() as client:
        client.rooms.create(name="quiet")
        client.rooms.get("quiet")
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


# ---- a port in use ----------------------------------------------------------------------


def test_a_port_in_use_is_one_line_suggesting_another(tmp_path: pathlib.Path) -> None:
    data = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "baxcloud", "dev", "--port", str(port), "--data", str(data)],
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"baxcloud dev: error: port {port} is in use on 127.0.0.1; pick another with --port"
    ]
    # It let go of its data directory on the way out.
    with LocalServer(data_dir=data) as server, server.client() as client:
        assert client.rooms.list().items == []


def test_a_logged_target_or_endpoint_shows_no_secret_and_no_terminal_control() -> None:
    from baxcloud._server._access_log import shown_target, shown_url

    assert shown_target(b"/v1/rooms/%1b%5b2J", b"") == "/v1/rooms/\\x1b[2J"
    stream = shown_target(b"/v1/egress/rtmp%3A%2F%2Fhost%2Fapp%2FSTREAMKEY", b"")
    assert "STREAMKEY" not in stream and stream.startswith("/v1/egress/rtmp://host/app/")
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJl"
    assert shown_target(b"/v1/rooms", f"roomName={jwt}&x=1".encode()) == (
        "/v1/rooms?roomName=<token>&x=****"
    )
    assert shown_target(b"/v1/rooms", b"roomName=a+b&limit=") == "/v1/rooms?roomName=a b&limit="
    assert shown_url("https://h.example/hooks/in") == "https://h.example/hooks/in"
    assert shown_url("https://u:pw@h.example/in?t=1#frag") == "https://u:****@h.example/in?****"
    assert shown_url("https://whsec_abc@h.example/") == "https://whsec_****:****@h.example/"
